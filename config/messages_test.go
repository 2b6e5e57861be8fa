package config

import (
	"errors"
	"strings"
	"testing"
)

// editDistance against distances worked by hand (insertions, deletions,
// substitutions, an adjacent transposition).
func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"", "abc", 3}, {"normalise", "normalize", 1}, {"kitten", "sitting", 3},
		{"topk", "top-k", 1}, {"algoritm", "algorithm", 1}, {"ef21-thoery", "ef21-theory", 1}, {"rule", "rules", 1},
		{"gama0", "gamma0", 1}, {"abc", "xyz", 3},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
		if got := editDistance(tc.b, tc.a); got != tc.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.b, tc.a, got, tc.d)
		}
	}
}

const base = `[problem]
kind = "logreg"
[data]
source = "synthetic"
samples = 200
[algorithm]
method = "ef21"
compressor = "top-k"
[stepsize]
rule = "norm-theory"
gamma0 = 2.0
`

// Each message names where the mistake is — the file's line or the -set
// flag — and suggests the nearest known key or value, or the -unset that
// drops a key an override made inapplicable.
func TestMessages(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		sets       []string
		want       string
	}{
		{"unknown key with line", strings.Replace(base, `method = "ef21"`, "method = \"ef21\"\nnormalise = true", 1), nil,
			`config e.toml line 8: unknown key "normalise" in [algorithm]; did you mean "normalize"?`},
		{"unknown key by -set", base, []string{"algorithm.normalise=true"},
			`-set algorithm.normalise=true: unknown key "normalise" in [algorithm]; did you mean "normalize"?`},
		{"key of another section", base, []string{"run.normalize=true"},
			`-set run.normalize=true: unknown key "normalize" in [run]; "normalize" belongs to [algorithm]`},
		{"unknown section with line", base + "[algoritm]\nk = 3\n", nil,
			`config e.toml line 12: unknown section [algoritm]; did you mean [algorithm]?`},
		{"bad value by -set", base, []string{"algorithm.compressor=topk"},
			`-set algorithm.compressor=topk: unknown value "topk" (want top-k, rand-k, sign, identity`},
		{"bad value in the file", strings.Replace(base, `"top-k"`, `"topk"`, 1), []string{"run.seed=3"},
			`config e.toml line 8: [algorithm.compressor] = "topk": unknown value (want top-k, rand-k, sign, identity`},
		{"override makes the file's key inapplicable", base, []string{"run.seed=3", "stepsize.rule=ef21-theory"},
			`-set stepsize.rule=ef21-theory: key stepsize.gamma0 does not apply to rule ef21-theory (gamma0 is for norm-theory, decreasing and poly); config e.toml line 11 sets it: drop it with -unset stepsize.gamma0`},
		{"inapplicable key in the file", strings.Replace(base, `"norm-theory"`, `"ef21-theory"`, 1), []string{"run.seed=3"},
			`config e.toml line 11: key stepsize.gamma0 does not apply to rule ef21-theory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.text), "e.toml", tc.sets)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) ||
				strings.Contains(tc.name, "value") && !strings.HasSuffix(err.Error(), `; did you mean "top-k"?`) {
				t.Fatalf("got  %v\nwant …%s", err, tc.want)
			}
		})
	}
	// the suggested -unset is a fix
	if _, err := Parse([]byte(base), "e.toml", []string{"stepsize.rule=ef21-theory", "stepsize.gamma0="}); err != nil {
		t.Fatalf("with -unset stepsize.gamma0: %v", err)
	}
}
