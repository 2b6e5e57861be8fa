package config

import (
	"errors"
	"strings"
	"testing"
)

// normalize takes false, true, "global" (= true) and "layer"; the effective
// config writes false, true or "layer" and reads back to the same value.
func TestNormalizeValuesRoundTrip(t *testing.T) {
	for _, c := range []struct {
		set       string
		want      Normalize
		on, layer bool
		written   string
	}{
		{"algorithm.normalize=false", NormalizeOff, false, false, "normalize = false"},
		{"algorithm.normalize=true", NormalizeGlobal, true, false, "normalize = true"},
		{"algorithm.normalize=global", NormalizeGlobal, true, false, "normalize = true"},
		{`algorithm.normalize="layer"`, NormalizeLayer, true, true, `normalize = "layer"`},
		{"algorithm.normalize=layer", NormalizeLayer, true, true, `normalize = "layer"`},
	} {
		cfg, err := Parse([]byte(nnConfig), "x.toml", []string{c.set})
		if err != nil {
			t.Fatalf("%s: %v", c.set, err)
		}
		n := cfg.Algorithm.Normalize
		if n != c.want || n.On() != c.on || n.Layer() != c.layer {
			t.Fatalf("%s: normalize %q (on %v, layer %v), want %q", c.set, n, n.On(), n.Layer(), c.want)
		}
		eff := cfg.Effective()
		if !strings.Contains(eff, c.written+"\n") {
			t.Fatalf("%s: the effective config lacks %q:\n%s", c.set, c.written, eff)
		}
		back, err := Parse([]byte(eff), "x.toml", nil)
		if err != nil {
			t.Fatalf("%s: the effective config does not parse: %v", c.set, err)
		}
		if back.Algorithm.Normalize != n || back.Effective() != eff {
			t.Fatalf("%s: read back as %q", c.set, back.Algorithm.Normalize)
		}
	}
	// the default rule of a normalised method is norm-theory, layer-wise too
	cfg, err := Parse([]byte(strings.Replace(nnConfig, "normalize = true", `normalize = "layer"`, 1)), "x.toml", []string{"stepsize.rule=", "stepsize.gamma="})
	if err != nil || cfg.Stepsize.Rule != "norm-theory" {
		t.Fatalf("rule %q, err %v: want norm-theory", cfg.Stepsize.Rule, err)
	}
}

func TestNormalizeErrors(t *testing.T) {
	logreg := "[problem]\nkind = \"logreg\"\n[algorithm]\nnormalize = \"layer\"\n"
	for _, c := range []struct {
		text  string
		set   []string
		wants []string
	}{
		{logreg, nil, []string{"[algorithm] normalize = \"layer\"", "problem.kind = \"nn\"", `not "logreg"`}},
		{nnConfig, []string{"algorithm.normalize=layers"}, []string{"algorithm.normalize", `"layers"`, "layer"}},
		{nnConfig, []string{`algorithm.normalize=""`}, []string{"algorithm.normalize"}},
		{nnConfig, []string{"algorithm.normalize=1"}, []string{"normalize = 1", `"layer"`}},
		{strings.Replace(nnConfig, "normalize = true", "normalize = 2", 1), nil, []string{"normalize = 2"}},
		{nnConfig, []string{"algorithm.normalize=layer", "algorithm.method=ef14"}, []string{"normalize", "ef14"}},
	} {
		_, err := Parse([]byte(c.text), "x.toml", c.set)
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("%v: err %v, want ErrInvalid", c.set, err)
		}
		for _, w := range c.wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: %q lacks %q", c.set, err, w)
			}
		}
	}
}
