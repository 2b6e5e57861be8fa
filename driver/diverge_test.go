package driver

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/algorithms"
)

// With log_every 10, a divergence is caught at the first non-finite iterate
// or estimator, not at the next row: the reference loop gives the first
// iteration j where x or g is non-finite (or a row's f or ‖∇f‖² is), and the
// driver must stop as diverged naming j, with x_final = x^{j−1} bit for bit.
func TestDivergenceCaughtEveryIteration(t *testing.T) {
	spec := baseSpec(t)
	spec.Problem, spec.PolyDim, spec.K, spec.Factor, spec.LogEvery, spec.Iterations = "polynomial", 10, 2, 1000, 10, 500
	sh, err := Prepare(spec, 2)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := referenceTrajectory(t, sh) // runs until the end: NaNs propagate
	var xs, gs [][]float64
	oracles, _ := sh.Oracles()
	comps := make([]algorithms.Compressor, 2)
	for r := range comps {
		comps[r], _ = sh.Compressor(r)
	}
	p := algorithms.Problem{Config: sh.MethodConfig(), Compressors: comps, Oracles: oracles, X0: sh.X0,
		Schedule: sh.Schedule, Iterations: spec.Iterations}
	if _, err := algorithms.Reference(p, func(k int, s *algorithms.Server, _ []*algorithms.Worker) bool {
		xs = append(xs, append([]float64(nil), s.X...))
		gs = append(gs, append([]float64(nil), s.G...))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	first := -1
	for k := range xs {
		m := metrics[int64(k)]
		rowBad := k%spec.LogEvery == 0 && (math.IsNaN(m[0]) || math.IsInf(m[0], 0) || math.IsNaN(m[1]) || math.IsInf(m[1], 0))
		if !allFinite(xs[k]) || !allFinite(gs[k]) || rowBad {
			first = k
			break
		}
	}
	if first <= 0 || first%spec.LogEvery == 0 {
		t.Fatalf("the reference diverges at iteration %d: pick a case between two rows", first)
	}
	res, err := RunInproc(context.Background(), sh, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusDiverged || !strings.Contains(res.Reason, fmt.Sprintf("at iteration %d ", first)) || res.Iterations != first {
		t.Fatalf("status %s (%s) after %d iterations, want diverged at iteration %d", res.Status, res.Reason, res.Iterations, first)
	}
	want := xs[first-1]
	for j := range want {
		if math.Float64bits(res.X[j]) != math.Float64bits(want[j]) {
			t.Fatalf("x_final[%d] = %v, want x^%d = %v", j, res.X[j], first-1, want[j])
		}
	}
}

// A diverging run (the polynomial, EF21 without normalisation, γ = 1e10)
// stops as diverged at the same iteration whatever log_every is — the first
// iteration at which x or g holds a non-finite value, found here by the
// reference loop — and records that row.
func TestDivergenceIterationIndependentOfLogEvery(t *testing.T) {
	iters := map[int]int{}
	for _, every := range []int{1, 10} {
		spec := baseSpec(t)
		spec.Problem, spec.PolyDim, spec.K, spec.Iterations = "polynomial", 100, 10, 50
		spec.Normalize, spec.Rule, spec.Gamma, spec.LogEvery = false, algorithms.RuleConstant, 1e10, every
		spec.Output = fmt.Sprintf("%s/run%d.h5", t.TempDir(), every)
		sh, err := Prepare(spec, 4)
		if err != nil {
			t.Fatal(err)
		}
		first := -1
		oracles, _ := sh.Oracles()
		comps := make([]algorithms.Compressor, 4)
		for r := range comps {
			comps[r], _ = sh.Compressor(r)
		}
		p := algorithms.Problem{Config: sh.MethodConfig(), Compressors: comps, Oracles: oracles, X0: sh.X0,
			Schedule: sh.Schedule, Iterations: spec.Iterations}
		if _, err := algorithms.Reference(p, func(k int, s *algorithms.Server, _ []*algorithms.Worker) bool {
			if first < 0 && (!allFinite(s.X) || !allFinite(s.G)) {
				first = k
			}
			return true
		}); err != nil {
			t.Fatal(err)
		}
		res, err := RunInproc(context.Background(), sh, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if first <= 0 || res.Status != StatusDiverged || res.Iterations != first || !strings.Contains(res.Reason, fmt.Sprintf("at iteration %d ", first)) {
			t.Fatalf("log_every %d: status %s (%s) after %d iterations; the reference's x or g is first non-finite at %d", every, res.Status, res.Reason, res.Iterations, first)
		}
		iters[every] = res.Iterations
	}
	if iters[1] != iters[10] {
		t.Fatalf("diverged at %d with log_every 1, at %d with log_every 10", iters[1], iters[10])
	}
}

// The per-iteration divergence check at d = 10⁶: finitePair over x and g
// (what rowDue runs) beside allFinite over x alone (what it ran before).
func BenchmarkFiniteCheck(b *testing.B) {
	const d = 1_000_000
	x, g := make([]float64, d), make([]float64, d)
	for i := range x {
		x[i], g[i] = math.Sin(float64(i)), math.Cos(float64(i))
	}
	b.Run("finitePair-x-g", func(b *testing.B) {
		for range b.N {
			if !finitePair(x, g) {
				b.Fatal("not finite")
			}
		}
	})
	b.Run("allFinite-x", func(b *testing.B) {
		for range b.N {
			if !allFinite(x) {
				b.Fatal("not finite")
			}
		}
	})
}
