package driver

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
)

// rule = ef21-pp-theory through Prepare and a run: γ equals EF21-PP's
// formula evaluated here from the run file's own L, L̃, α and p (θ, β from
// EF21's s; ρ* as the textbook root (−c + √(c² + (a+c)b))/(a+c) of the
// stationarity condition, not the cancellation-free form of the code), the
// attributes θ_p, B_p, ρ are written, and p = 1 gives ef21-theory's run bit
// for bit.
func TestEF21PPTheoryRun(t *testing.T) {
	spec := baseSpec(t)
	spec.Source, spec.DataPath, spec.Features = "libsvm", testenv.Dataset(t, "a1a"), 0
	spec.Rule, spec.Participation, spec.Iterations = algorithms.RuleEF21PPTheory, 0.3, 40
	sh, err := Prepare(spec, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := RunInproc(context.Background(), sh, Options{}); err != nil {
		t.Fatal(err)
	}
	run, err := hdf5io.Open(spec.Output)
	if err != nil {
		t.Fatal(err)
	}
	num := func(k string) float64 {
		v, ok := run.Attrs[k].(float64)
		if !ok {
			t.Fatalf("attribute %s = %v (%T)", k, run.Attrs[k], run.Attrs[k])
		}
		return v
	}
	l, lt, alpha, p := num("L"), num("L_tilde"), num("contraction_alpha"), num("participation")
	s := 1/math.Sqrt(1-alpha) - 1
	theta, beta := 1-(1-alpha)*(1+s), (1-alpha)*(1+1/s)
	a, b, c := beta*p, p*theta, 1-p
	rho := (-c + math.Sqrt(c*c+(a+c)*b)) / (a + c)
	thetaP := rho*p + theta*p - rho // FL_PyTorch's θ_p with p_min = p_max = p
	B := (beta*p + (1+1/rho)*(1-p)) * lt * lt
	want := 1 / (l + math.Sqrt(B/thetaP))
	if g := num("gamma"); math.Abs(g-want) > 1e-10*want {
		t.Errorf("γ = %.15g, formula %.15g", g, want)
	}
	if math.Abs(num("pp_rho")-rho) > 1e-9*rho || math.Abs(num("theta_p")-thetaP) > 1e-9*thetaP ||
		math.Abs(num("B_p")-B/(lt*lt)) > 1e-9*B/(lt*lt) {
		t.Errorf("ρ %v θ_p %v B_p %v, want %v %v %v", num("pp_rho"), num("theta_p"), num("B_p"), rho, thetaP, B/(lt*lt))
	}
	if run.Attrs["stepsize_rule"] != algorithms.RuleEF21PPTheory {
		t.Errorf("stepsize_rule %v", run.Attrs["stepsize_rule"])
	}
	ef := baseSpec(t)
	ef.Source, ef.DataPath, ef.Features, ef.Iterations = spec.Source, spec.DataPath, 0, 40
	esh, err := Prepare(ef, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !(sh.Schedule.Gamma < esh.Schedule.Gamma) {
		t.Errorf("p = 0.3: γ = %v not below EF21's %v", sh.Schedule.Gamma, esh.Schedule.Gamma)
	}

	// p = 1 (participation unset): the same run as ef21-theory, bit for bit
	one := ef
	one.Rule, one.Output = algorithms.RuleEF21PPTheory, t.TempDir()+"/one.h5"
	osh, err := Prepare(one, 5)
	if err != nil {
		t.Fatal(err)
	}
	got, err := RunInproc(context.Background(), osh, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := RunInproc(context.Background(), esh, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if osh.Schedule.Gamma != esh.Schedule.Gamma || !slices.Equal(got.X, ref.X) {
		t.Errorf("p = 1: γ %v vs ef21-theory %v, x differs: %v", osh.Schedule.Gamma, esh.Schedule.Gamma, !slices.Equal(got.X, ref.X))
	}
}
