package driver

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/hdf5io"
)

// Least squares through the whole driver: EF21 with the identity is gradient
// descent, so the trajectory must equal plain GD on the full data,
// x ← x − γ((1/n) Σ_i (1/m_i) A_iᵀ(A_i x − b_i) + λx), written out here from
// the dense matrix; and EF21 top-2 must match the single-process reference
// loop bit for bit.
func TestLeastSqDriver(t *testing.T) {
	spec := baseSpec(t)
	spec.Problem, spec.Lambda, spec.Compressor, spec.Rule, spec.Gamma = "leastsq", 0.05, "identity", algorithms.RuleConstant, 0.3
	spec.Iterations = 60
	const n = 3
	sh, err := Prepare(spec, n)
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
	if run.Attrs["problem"] != "leastsq" || run.Attrs["lambda"] != 0.05 {
		t.Errorf("attributes %v %v", run.Attrs["problem"], run.Attrs["lambda"])
	}
	full, err := datasets.Synthetic(spec.Samples, spec.Features, spec.Seed)
	if err != nil {
		t.Fatal(err)
	}
	var shards [][]int // row indices of each shard (contiguous, last takes the rest)
	per := full.Rows() / n
	for r := range n {
		lo, hi := r*per, (r+1)*per
		if r == n-1 {
			hi = full.Rows()
		}
		var rows []int
		for j := lo; j < hi; j++ {
			rows = append(rows, j)
		}
		shards = append(shards, rows)
	}
	d := full.Cols()
	a := full.Dense.Data
	x := slices.Clone(sh.X0)
	grad := func(x []float64) (float64, []float64) {
		g := make([]float64, d)
		f := 0.0
		for _, rows := range shards {
			for _, j := range rows {
				res := -full.Labels[j]
				for t := range d {
					res += a[j*d+t] * x[t]
				}
				f += res * res / (2 * float64(len(rows)) * n)
				for t := range d {
					g[t] += res * a[j*d+t] / float64(len(rows)) / n
				}
			}
		}
		for t := range d {
			g[t] += 0.05 * x[t]
			f += 0.05 / 2 * x[t] * x[t]
		}
		return f, g
	}
	for k := 0; k <= spec.Iterations; k++ {
		f, g := grad(x)
		gn := 0.0
		for _, v := range g {
			gn += v * v
		}
		if math.Abs(run.Floats["f"][k]-f) > 1e-10*math.Abs(f) || math.Abs(run.Floats["grad_norm_sq"][k]-gn) > 1e-9*gn {
			t.Fatalf("iteration %d: f %v ‖∇f‖² %v, naive GD %v %v", k, run.Floats["f"][k], run.Floats["grad_norm_sq"][k], f, gn)
		}
		for t := range d {
			x[t] -= spec.Gamma * g[t]
		}
	}
	if run.Floats["grad_norm_sq"][spec.Iterations] >= run.Floats["grad_norm_sq"][0]/10 {
		t.Errorf("GD on least squares did not converge: %v → %v", run.Floats["grad_norm_sq"][0], run.Floats["grad_norm_sq"][spec.Iterations])
	}

	spec = baseSpec(t)
	spec.Problem, spec.K = "leastsq", 2
	sh, err = Prepare(spec, 4)
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunInproc(context.Background(), sh, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, loop := referenceTrajectory(t, sh)
	if !slices.Equal(res.X, loop.Server.X) {
		t.Error("EF21 top-2 on least squares differs from the reference loop")
	}
}
