package driver

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/problems"
)

// plainObjective hides every optional interface of an objective (its HVP).
type plainObjective struct{ problems.Objective }

// A method that needs Hessian-vector products on a problem without an
// analytic one is refused naming both (and the key that offers central
// differences); with hvp = "central" the same problem is accepted. Noise is
// refused with a capability.
func TestCapabilityErrors(t *testing.T) {
	spec := baseSpec(t)
	spec.Method, spec.Problem, spec.Eta = algorithms.EF21HM, "toy-problem", 0.5
	sh := &Shared{Spec: spec, Traits: algorithms.Traits{Needs: algorithms.CapHessVec}}
	poly, _ := problems.NewPolynomial(4, 1, 0)
	_, err := sh.extra(&oracle{obj: plainObjective{poly}})
	if err == nil || !strings.Contains(err.Error(), "ef21-hm") || !strings.Contains(err.Error(), "toy-problem") || !strings.Contains(err.Error(), "hvp") {
		t.Fatalf("error %v", err)
	}
	sh.Spec.HVP = "central"
	ex, err := sh.extra(&oracle{obj: plainObjective{poly}})
	if err != nil || algorithms.Offers(ex) != algorithms.CapSameBatch|algorithms.CapHessVec {
		t.Fatalf("central: %v, offers %v", err, algorithms.Offers(ex))
	}
	sh.Spec.Noise = algorithms.Noise{Kind: algorithms.NoiseGaussian, Scale: 1}
	if _, err := sh.extra(&oracle{obj: poly}); err == nil || !strings.Contains(err.Error(), "noise") {
		t.Fatalf("noise: %v", err)
	}
}

// The grad_evals column: 1 at iteration 0, then Evals per round (STORM: 2,
// IGT: 1) for every recorded row.
func TestGradEvalsColumn(t *testing.T) {
	for _, c := range []struct {
		method string
		per    int64
	}{{algorithms.EF21STORM, 2}, {algorithms.EF21IGT, 1}, {algorithms.EF21, 1}} {
		spec := baseSpec(t)
		spec.Method, spec.Normalize, spec.Eta, spec.Rule, spec.Power = c.method, true, 0.5, algorithms.RulePoly, 0.5
		spec.Iterations, spec.LogEvery = 30, 7
		spec.Output = filepath.Join(t.TempDir(), c.method+".h5")
		runSpec(t, t.Context(), spec, StatusCompleted)
		run, err := hdf5io.Open(spec.Output)
		if err != nil {
			t.Fatal(err)
		}
		it, ev := run.Ints["iteration"], run.Ints["grad_evals"]
		for i := range it {
			if want := 1 + c.per*it[i]; ev[i] != want {
				t.Fatalf("%s: grad_evals at iteration %d = %d, want %d", c.method, it[i], ev[i], want)
			}
		}
		if g := run.Floats["step_size"]; g[1] != 1/math.Sqrt(8) {
			t.Fatalf("%s: γ_7 = %v, want 1/√8", c.method, g[1])
		}
	}
}
