package problems

import (
	"slices"
	"testing"
)

// Kinds is every data problem and the built-in kinds, sorted; a data
// problem cannot take a built-in kind's name.
func TestKinds(t *testing.T) {
	got := Kinds()
	for _, k := range []string{"leastsq", "logreg", KindNN, KindPolynomial} {
		if !slices.Contains(got, k) {
			t.Errorf("Kinds() = %v lacks %q", got, k)
		}
	}
	if !slices.IsSorted(got) || len(got) != len(DataProblemKinds())+2 {
		t.Errorf("Kinds() = %v: want the %d data problems and 2 built-in kinds, sorted", got, len(DataProblemKinds()))
	}
	if _, ok := LookupDataProblem(KindNN); ok {
		t.Error("nn is registered as a data problem")
	}
	for _, k := range []string{KindNN, KindPolynomial} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RegisterDataProblem(%q) did not panic", k)
				}
			}()
			logreg, _ := LookupDataProblem("logreg")
			logreg.Kind = k
			RegisterDataProblem(logreg)
		}()
	}
}
