package plotting

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/efmpi/efmpi/hdf5io"
)

// MethodLabel names a run's method the way the paper does, from its root
// attributes: "||EF21|| top-1", "EF21-SGDM top-1", "||SGDM||" (identity
// compressor), "||EF21-SGD|| top-1" (momentum η = 1), "GD".
func MethodLabel(attrs map[string]any) string {
	method, _ := attrs["method"].(string)
	comp, _ := attrs["compressor"].(string)
	norm := isTrue(attrs["normalize"])
	name := map[string]string{"ef21": "EF21", "ef21-sgdm": "EF21-SGDM", "ef14": "EF14", "ef21-w": "EF21-W"}[method]
	if method == "signsgd" {
		// 1-bit signs both ways: no compressor to name
		name = "signSGD-MV"
		if eta, ok := number(attrs["eta"]); ok && eta < 1 {
			name = "Signum-MV"
		}
		if nu, ok := number(attrs["noise_nu"]); ok {
			name += fmt.Sprintf(" (%s, ν = %s)", attrs["noise"], fmtNum(nu))
		}
		return name
	}
	if p, ok := number(attrs["participation"]); ok && p < 1 {
		name += "-PP"
	}
	if name == "" {
		name = method
	}
	if method == "ef21-sgdm" {
		if eta, ok := number(attrs["eta"]); ok && eta == 1 {
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
	if norm {
		name = "||" + name + "||"
	}
	switch comp {
	case "identity", "":
	case "top-k", "rand-k":
		name += fmt.Sprintf(" %s%v", strings.TrimSuffix(comp, "k"), attrs["k"])
	default:
		name += " " + comp
	}
	if nu, ok := number(attrs["noise_nu"]); ok {
		name += fmt.Sprintf(" (%s, ν = %s)", attrs["noise"], fmtNum(nu))
	}
	return name
}

// RuleLabel describes a run's step size: the rule and its parameter, e.g.
// "γ = γ0/√(K+1), γ0 = 1" or "γ = 1/(L + L̃√(β/θ))".
func RuleLabel(attrs map[string]any) string {
	rule, _ := attrs["stepsize_rule"].(string)
	g0 := fmtNum(attrs["gamma0"])
	switch rule {
	case "ef21-theory":
		f := "1"
		if v, ok := number(attrs["factor"]); ok && v != 1 {
			f = fmtNum(v)
		}
		return "γ = " + f + "/(L + L̃√(β/θ))"
	case "ef21-theory-am":
		f := "1"
		if v, ok := number(attrs["factor"]); ok && v != 1 {
			f = fmtNum(v)
		}
		return "γ = " + f + "/(L + L_AM√(β/θ))"
	case "norm-theory":
		if attrs["method"] == "ef21-sgdm" {
			return "γ = γ0/(K+1)^¾, γ0 = " + g0
		}
		return "γ = γ0/√(K+1), γ0 = " + g0
	case "decreasing":
		return "γ = γ0/√(k+1), γ0 = " + g0
	case "constant":
		return "γ = " + fmtNum(attrs["gamma"])
	}
	return rule
}

// Label is MethodLabel and RuleLabel together: the legend entry of a run.
func Label(attrs map[string]any) string {
	return MethodLabel(attrs) + ", " + RuleLabel(attrs)
}

// distinguishing are the attributes Disambiguate may add to a label, in
// order, with how they are written.
var distinguishing = []struct{ key, name string }{
	{"n_ranks", "n"}, {"iterations", "K"}, {"gamma0", "γ0"}, {"gamma", "γ"}, {"k", "k"},
	{"dataset", "data"}, {"batch", "b"}, {"eta", "η"}, {"seed", "seed"}, {"lambda", "λ"},
	{"d", "d"}, {"factor", "factor"}, {"participation", "p"}, {"noise_nu", "ν"},
}

// Disambiguate appends to every label that occurs more than once the
// attributes whose values tell those runs apart (n, K, γ0, …), so that no
// two curves of a figure share a legend entry unless their runs agree on
// all of them. Attributes named in ignore are never added (e.g. the one the
// figure's rows are grouped by).
func Disambiguate(labels []string, attrs []map[string]any, ignore ...string) []string {
	out := append([]string(nil), labels...)
	groups := map[string][]int{}
	for i, l := range labels {
		groups[l] = append(groups[l], i)
	}
	for _, idx := range groups {
		if len(idx) < 2 {
			continue
		}
		for _, d := range distinguishing {
			if slices.Contains(ignore, d.key) {
				continue
			}
			vals := map[string]bool{}
			for _, i := range idx {
				vals[fmt.Sprint(attrs[i][d.key])] = true
			}
			if len(vals) < 2 {
				continue
			}
			for _, i := range idx {
				out[i] += fmt.Sprintf(", %s = %s", d.name, fmtNum(attrs[i][d.key]))
			}
		}
	}
	return out
}

// GroupBy splits series into rows by the value of one root attribute (e.g.
// "n_ranks" or "dataset"), in increasing order of a numeric value, else in
// order of first appearance; rows are titled
// title(value) (nil: RowTitle(attr)). An empty attribute gives one row with
// all series. Within each row, labels that collide are disambiguated (see
// Disambiguate; the grouping attribute is never added).
func GroupBy(series []Series, attr string, title func(v any) string) []Row {
	if attr == "" {
		return []Row{{Series: disambiguateRow(series, "")}}
	}
	var keys []any
	byKey := map[string][]Series{}
	for _, s := range series {
		v := s.Attrs[attr]
		k := fmt.Sprint(v)
		if _, ok := byKey[k]; !ok {
			keys = append(keys, v)
		}
		byKey[k] = append(byKey[k], s)
	}
	// numbers in increasing order; anything else keeps the order of first
	// appearance (the order the files were named in)
	sort.SliceStable(keys, func(i, j int) bool {
		a, aok := number(keys[i])
		b, bok := number(keys[j])
		return aok && bok && a < b
	})
	if title == nil {
		title = RowTitle(attr)
	}
	rows := make([]Row, len(keys))
	for i, k := range keys {
		rows[i] = Row{Title: title(k), Series: disambiguateRow(byKey[fmt.Sprint(k)], attr)}
	}
	return rows
}

func disambiguateRow(series []Series, ignore string) []Series {
	out := append([]Series(nil), series...)
	labels := make([]string, len(out))
	attrs := make([]map[string]any, len(out))
	for i, s := range out {
		labels[i], attrs[i] = s.Label, s.Attrs
	}
	for i, l := range Disambiguate(labels, attrs, ignore) {
		out[i].Label = l
	}
	return out
}

// RowTitle is the default row title for common grouping attributes.
func RowTitle(attr string) func(v any) string {
	return func(v any) string {
		switch attr {
		case "n_ranks":
			if fmt.Sprint(v) == "1" {
				return "n = 1 rank"
			}
			return fmt.Sprintf("n = %v ranks", v)
		case "dataset":
			return filepath.Base(fmt.Sprint(v))
		case "iterations":
			return fmt.Sprintf("K = %v", v)
		case "gamma0":
			return "γ0 = " + fmtNum(v)
		}
		return fmt.Sprintf("%s = %v", attr, v)
	}
}

// ReadSeries reads run files; each series is labelled Label(attrs).
func ReadSeries(paths []string) ([]Series, error) {
	var out []Series
	for _, p := range paths {
		run, err := hdf5io.Open(p)
		if err != nil {
			return nil, err
		}
		out = append(out, FromRun(run, ""))
	}
	return out, nil
}

func isTrue(v any) bool {
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

func number(v any) (float64, bool) {
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

// fmtNum writes a number with at most 4 significant digits.
func fmtNum(v any) string {
	if f, ok := number(v); ok {
		return strconv.FormatFloat(f, 'g', 4, 64)
	}
	if v == nil {
		return "?"
	}
	return fmt.Sprint(v)
}
