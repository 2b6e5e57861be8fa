package config

import (
	"strings"
	"testing"
)

const seqBase = "[problem]\nkind = \"logreg\"\n[data]\nsource = \"synthetic\"\n[algorithm]\n"

// Issue 24's keys: accepted where they apply, refused with the key's name
// where they do not, and rendered back into an effective configuration that
// parses to the same values.
func TestScheduleKeys(t *testing.T) {
	good := seqBase + "method = \"ef21-hm\"\nnormalize = true\neta = 1.0\neta_rule = \"poly\"\neta_per = \"epoch\"\nhvp = \"central\"\nhvp_eps = 0.01\n" +
		"[stepsize]\nrule = \"poly\"\ngamma0 = 0.5\np = 0.6666666666666666\nper = \"epoch\"\n"
	c, err := Parse([]byte(good), "g.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	a, s := c.Algorithm, c.Stepsize
	if a.EtaRule != "poly" || a.EtaPer != "epoch" || a.HVP != "central" || a.HVPEps != 0.01 || s.Rule != "poly" || s.P != 2.0/3 || s.Per != "epoch" || s.Gamma0 != 0.5 {
		t.Fatalf("parsed %+v %+v", a, s)
	}
	back, err := Parse([]byte(c.Effective()), "eff.toml", nil)
	if err != nil {
		t.Fatalf("effective config does not parse: %v\n%s", err, c.Effective())
	}
	if back.Algorithm != c.Algorithm || back.Stepsize != c.Stepsize {
		t.Fatalf("round trip: %+v vs %+v", back.Algorithm, c.Algorithm)
	}
	// a configuration without the keys renders without them
	plain, _ := Parse([]byte(seqBase+"method = \"ef21\"\n"), "p.toml", nil)
	for _, k := range []string{"eta_rule", "eta_q", "hvp", "per ="} {
		if strings.Contains(plain.Effective(), k) {
			t.Errorf("effective configuration of plain ef21 mentions %s", k)
		}
	}
	for name, tc := range map[string]struct{ text, want string }{
		"poly without p":      {seqBase + "method = \"ef21-storm\"\nnormalize = true\n[stepsize]\nrule = \"poly\"\n", "needs p"},
		"p without poly":      {seqBase + "method = \"ef21-storm\"\nnormalize = true\n[stepsize]\nrule = \"constant\"\ngamma = 1.0\np = 0.5\n", "stepsize.p"},
		"eta_rule econtrol":   {seqBase + "method = \"econtrol\"\neta_rule = \"poly\"\n[stepsize]\nrule = \"constant\"\ngamma = 1.0\n", "eta_rule"},
		"eta_rule for ef21":   {seqBase + "method = \"ef21\"\neta_rule = \"poly\"\n", "eta_rule"},
		"hvp for storm":       {seqBase + "method = \"ef21-storm\"\nhvp = \"central\"\n", "algorithm.hvp"},
		"hvp_eps analytic":    {seqBase + "method = \"ef21-hm\"\nhvp_eps = 0.1\n", "hvp_eps"},
		"unknown eta_rule":    {seqBase + "method = \"ef21-igt\"\neta_rule = \"cosine\"\n", "eta_rule"},
		"unknown per":         {seqBase + "method = \"ef21-igt\"\n[stepsize]\nrule = \"poly\"\np = 0.5\nper = \"week\"\n", "stepsize.per"},
		"negative p":          {seqBase + "method = \"ef21-igt\"\n[stepsize]\nrule = \"poly\"\np = -1.0\n", "p = -1"},
		"eta_q without poly":  {seqBase + "method = \"ef21-igt\"\neta_q = 0.5\n", "eta_q"},
		"negative eta_q":      {seqBase + "method = \"ef21-igt\"\neta_rule = \"poly\"\neta_q = -0.5\n", "eta_q = -0.5"},
		"poly and eta-theory": {seqBase + "method = \"ef21-sgdm\"\nmomentum = \"eta-theory\"\neta_rule = \"poly\"\n", "exclude"},
	} {
		_, err := Parse([]byte(tc.text), "bad.toml", nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, tc.want)
		}
	}
}
