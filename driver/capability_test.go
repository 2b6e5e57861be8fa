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

// With minibatches of a whole shard (exact gradients up to the order of the
// sum), ||EF21-STORM|| follows ||EF21|| on logistic regression and
// ||EF21-HM|| and ||EF21-RHM|| follow it on least squares (constant Hessian,
// the analytic HVP through the driver), up to rounding: the x_final of
// each agrees with ||EF21||'s to 1e-9.
func TestExactGradientsThroughDriver(t *testing.T) {
	for _, c := range []struct{ problem, method string }{
		{"logreg", algorithms.EF21STORM}, {"leastsq", algorithms.EF21HM}, {"leastsq", algorithms.EF21RHM},
	} {
		run := func(method string) []float64 {
			spec := baseSpec(t)
			spec.Problem, spec.Method, spec.Normalize, spec.Eta = c.problem, method, true, 0.3
			spec.Batch, spec.InitBatch, spec.Rule, spec.Power, spec.Gamma0 = 100, 100, algorithms.RulePoly, 0.5, 0.5
			spec.Iterations, spec.LogEvery = 80, 10
			spec.Output = filepath.Join(t.TempDir(), method+".h5")
			sh, err := Prepare(spec, 3)
			if err != nil {
				t.Fatal(err)
			}
			res, err := RunInproc(t.Context(), sh, Options{})
			if err != nil || res.Status != StatusCompleted {
				t.Fatalf("%s: %s %v", method, res.Status, err)
			}
			return res.X
		}
		ref, got := run(algorithms.EF21), run(c.method)
		for j := range ref {
			if math.Abs(got[j]-ref[j]) > 1e-9 {
				t.Fatalf("%s on %s: x_final[%d] = %v, ||EF21|| %v", c.method, c.problem, j, got[j], ref[j])
			}
		}
	}
}
