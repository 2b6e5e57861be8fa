package runfile

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/efmpi/efmpi/algorithms"
)

// methodNames are the printed names of the config's method keys.
var methodNames = map[string]string{"ef21": "EF21", "ef21-sgdm": "EF21-SGDM", "ef14": "EF14", "ef21-w": "EF21-W",
	"ef21-igt": "EF21-IGT", "ef21-storm": "EF21-STORM", "ef21-hm": "EF21-HM", "ef21-rhm": "EF21-RHM", "econtrol": "EControl"}

// MethodLabel names a run's method the way the paper does, from its root
// attributes, compressor included: "||EF21|| top-1", "EF21-SGDM top-1",
// "||EF21-SGD|| top-1" (ef21-sgdm with momentum η = 1), "||SGDM||"
// (ef21-sgdm with the identity), "GD" and "||GD||" (ef21 with the
// identity), "||SGD||" (both). It is the only place where a method is named.
//
// The methods of issue 16: "EF21-W", "EF21-PP" (ef21 or ef21-w with
// participation p < 1), "signSGD-MV" / "Signum-MV" (signsgd with η = 1 /
// η < 1: no compressor, 1-bit signs both ways); heavy-tailed noise adds
// "(student-t, ν = 3)".
func MethodLabel(attrs map[string]any) string {
	name := MethodName(attrs)
	if c := CompressorLabel(attrs); c != "" && attrs["method"] != "signsgd" {
		name += " " + c
	}
	if nu, ok := Number(attrs["noise_nu"]); ok {
		name += fmt.Sprintf(" (%s, ν = %s)", attrs["noise"], FormatNumber(nu))
	}
	return name
}

// MethodName is MethodLabel without the compressor: "||EF21||", "EF14",
// "||EF21-SGD||", "||SGDM||", "GD". Figures colour by it ("-color-by
// method").
func MethodName(attrs map[string]any) string {
	method, _ := attrs["method"].(string)
	comp, _ := attrs["compressor"].(string)
	name := methodNames[method]
	if method == "signsgd" {
		name = "signSGD-MV"
		if eta, ok := Number(attrs["eta"]); ok && eta < 1 {
			name = "Signum-MV"
		}
		return name
	}
	if p, ok := Number(attrs["participation"]); ok && p < 1 {
		name += "-PP"
	}
	if name == "" {
		name = method
	}
	if method == "ef21-sgdm" {
		if eta, ok := Number(attrs["eta"]); ok && eta == 1 && attrs["eta_rule"] != "poly" { // poly: η0 = 1, then decaying
			name = "EF21-SGD"
		}
	}
	if comp == "identity" {
		switch method {
		case "ef21":
			name = "GD"
		case "ef21-sgdm":
			name = strings.TrimPrefix(name, "EF21-")
		}
	}
	if IsTrue(attrs["normalize"]) {
		name = "||" + name + "||"
	} else if attrs["normalize"] == "layer" {
		name = "||" + name + "||_layer" // normalised per parameter tensor
	}
	return name
}

// CompressorLabel names the compressor with its parameters: "top-5",
// "rand-3", "sign"; "" for the identity (which the method name already
// says). A compressor whose name ends in "-k" gets its k; any root
// attribute "compressor_<param>" (how a registered compressor records its
// parameters, algorithms.CompressorInfo.Params) is appended as "(param =
// value, …)", with k first for a registered compressor that uses it, so a
// new compressor's parameters reach every label without edits here.
func CompressorLabel(attrs map[string]any) string {
	comp, _ := attrs["compressor"].(string)
	if comp == "" || comp == "identity" {
		return ""
	}
	out := comp
	k, hasK := attrs["k"]
	if strings.HasSuffix(comp, "-k") && hasK {
		out = strings.TrimSuffix(comp, "k") + FormatNumber(k)
		hasK = false
	}
	var params []string
	for key := range attrs {
		if p, ok := strings.CutPrefix(key, "compressor_"); ok && p != "" {
			params = append(params, p)
		}
	}
	sort.Strings(params)
	var parts []string
	if hasK && algorithms.CompressorUsesK(comp) && !slices.Contains(params, "k") {
		parts = append(parts, "k = "+FormatNumber(k))
	}
	for _, p := range params {
		parts = append(parts, p+" = "+FormatNumber(attrs["compressor_"+p]))
	}
	if len(parts) > 0 {
		out += " (" + strings.Join(parts, ", ") + ")"
	}
	return out
}

// RuleLabel describes a run's step size: the rule and its parameter, e.g.
// "γ = γ0/√(K+1), γ0 = 1" or "γ = 1/(L + L̃√(β/θ))".
func RuleLabel(attrs map[string]any) string {
	rule, _ := attrs["stepsize_rule"].(string)
	g0 := FormatNumber(attrs["gamma0"])
	switch rule {
	case "ef21-theory":
		f := "1"
		if v, ok := Number(attrs["factor"]); ok && v != 1 {
			f = FormatNumber(v)
		}
		return "γ = " + f + "/(L + L̃√(β/θ))"
	case "ef21-theory-am":
		f := "1"
		if v, ok := Number(attrs["factor"]); ok && v != 1 {
			f = FormatNumber(v)
		}
		return "γ = " + f + "/(L + L_AM√(β/θ))"
	case "ef21-pp-theory":
		f := "1"
		if v, ok := Number(attrs["factor"]); ok && v != 1 {
			f = FormatNumber(v)
		}
		return "γ = " + f + "/(L + L̃√(B_p/θ_p))"
	case "norm-theory":
		if attrs["method"] == "ef21-sgdm" {
			return "γ = γ0/(K+1)^¾, γ0 = " + g0
		}
		return "γ = γ0/√(K+1), γ0 = " + g0
	case "decreasing":
		return "γ = γ0/√(k+1), γ0 = " + g0
	case "constant":
		return "γ = " + FormatNumber(attrs["gamma"])
	case "poly": // issue 24
		out := "γ = γ0/(t+1)^p, γ0 = " + g0 + ", p = " + FormatNumber(attrs["p"])
		if q, ok := Number(attrs["eta_q"]); ok {
			out += ", η = η0(2/(t+2))^q, q = " + FormatNumber(q)
		}
		return out
	}
	return rule
}

// Label is MethodLabel and RuleLabel together: the full name of a run, as
// in a figure legend.
func Label(attrs map[string]any) string {
	return MethodLabel(attrs) + ", " + RuleLabel(attrs)
}

// IsTrue reads a boolean attribute (stored as int64 0/1).
func IsTrue(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case int64:
		return t != 0
	case int:
		return t != 0
	case float64:
		return t != 0
	case string:
		return t == "1" || t == "true"
	}
	return false
}

// Number reads a numeric attribute (int64, int, float64, or numeric text).
func Number(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case int64:
		return float64(t), true
	case int:
		return float64(t), true
	case string:
		f, err := strconv.ParseFloat(t, 64)
		return f, err == nil
	}
	return 0, false
}

// FormatNumber writes a number with at most 4 significant digits ("?" for
// a missing value), as labels show parameters.
func FormatNumber(v any) string {
	if f, ok := Number(v); ok {
		return strconv.FormatFloat(f, 'g', 4, 64)
	}
	if v == nil {
		return "?"
	}
	return fmt.Sprint(v)
}
