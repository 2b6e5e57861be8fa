package driver

import (
	"math"
	"sync"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/efmpi/efmpi/collective/inproc"
	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/internal/testenv"
	"github.com/efmpi/efmpi/problems"
)

// weightedLambdaMax is λ_max((1/n) Σ_i A_iᵀA_i/m_i) of the shards, by gonum's
// dense eigen-solver on the matrix formed entry by entry.
func weightedLambdaMax(t *testing.T, shards []*datasets.Dataset) float64 {
	t.Helper()
	d := shards[0].Cols()
	h := mat.NewSymDense(d, nil)
	for _, s := range shards {
		dense := s.Sparse.ToDense()
		a := mat.NewDense(dense.Rows, dense.Cols, dense.Data)
		var g mat.SymDense
		g.SymOuterK(1/(float64(len(shards))*float64(dense.Rows)), a.T())
		h.AddSym(h, &g)
	}
	var eig mat.EigenSym
	if !eig.Factorize(h, false) {
		t.Fatal("EigenSym did not converge")
	}
	vals := eig.Values(nil)
	return vals[len(vals)-1]
}

// On a Dirichlet split of a1a (shards of unequal sizes), L is the constant of
// f = (1/n) Σ_i f_i, λ_max((1/n) Σ_i A_iᵀA_i/m_i)/4 + 2λ, checked against a
// dense eigen-solver on that matrix to 1e-8; it differs from the whole-data
// λ_max(AᵀA)/(4m) + 2λ; the distributed Lanczos iteration (one rank per
// process) gives the same bits; and the ef21-theory step uses it.
func TestSmoothnessUnequalShards(t *testing.T) {
	spec := baseSpec(t)
	spec.Source, spec.DataPath, spec.Features = "libsvm", testenv.Dataset(t, "a1a"), 0
	spec.Split, spec.SplitAlpha = "dirichlet", 0.5
	const n = 4
	sh, err := Prepare(spec, n)
	if err != nil {
		t.Fatal(err)
	}
	full, err := datasets.ReadLIBSVM(spec.DataPath, datasets.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	shards := make([]*datasets.Dataset, n)
	unequal := false
	for r := range n {
		if shards[r], err = datasets.Shard(full, n, r, datasets.ShardOptions{Split: "dirichlet", Alpha: 0.5, Seed: spec.Seed}); err != nil {
			t.Fatal(err)
		}
		if int64(shards[r].Rows()) != sh.ShardSizes[r] {
			t.Fatalf("rank %d: %d rows, the driver's shard has %d", r, shards[r].Rows(), sh.ShardSizes[r])
		}
		unequal = unequal || shards[r].Rows() != shards[0].Rows()
	}
	if !unequal {
		t.Fatalf("shard sizes %v: the test needs unequal shards", sh.ShardSizes)
	}
	want := weightedLambdaMax(t, shards)/4 + 2*spec.Lambda
	L := sh.Theory.L
	if math.Abs(L-want) > 1e-8*want {
		t.Fatalf("L = %.17g, dense (1/n)Σ A_iᵀA_i/m_i gives %.17g", L, want)
	}
	whole := denseLambdaMax(t, full)/(4*float64(full.Rows())) + 2*spec.Lambda
	if math.Abs(L-whole) < 1e-4*want {
		t.Fatalf("L = %.17g is the whole-data constant %.17g: the split does not test the weighting", L, whole)
	}
	t.Logf("L = %.10g (whole data: %.10g, ratio %.5f); shard sizes %v", L, whole, whole/L, sh.ShardSizes)
	// the step of SPEC §4 with the L_i of the shards
	li := make([]float64, n)
	for r := range n {
		if li[r], err = problems.LogRegSmoothness(shards[r], spec.Lambda); err != nil {
			t.Fatal(err)
		}
	}
	alpha := 1 / float64(full.Cols())
	s := 1/math.Sqrt(1-alpha) - 1
	theta, beta := 1-(1-alpha)*(1+s), (1-alpha)*(1+1/s)
	var sq float64
	for _, l := range li {
		sq += l * l
	}
	gamma := 1 / (want + math.Sqrt(sq/n)*math.Sqrt(beta/theta))
	if g := sh.Theory.Gamma; math.Abs(g-gamma) > 1e-8*gamma {
		t.Fatalf("γ = %.17g, SPEC §4 with the weighted L gives %.17g", g, gamma)
	}

	// one rank per process: the Lanczos products summed by an allreduce
	world, err := inproc.NewWorld(n)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for r := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := world[r]
			defer c.Finalize()
			if errs[r] = c.Init(); errs[r] != nil {
				return
			}
			one, err := PrepareRank(spec, n, r)
			if err != nil {
				errs[r] = err
				return
			}
			if errs[r] = one.connect(c); errs[r] == nil {
				got[r] = one.Theory.L
			}
		}()
	}
	wg.Wait()
	for r := range n {
		if errs[r] != nil {
			t.Fatal(errs[r])
		}
		if math.Float64bits(got[r]) != math.Float64bits(L) {
			t.Fatalf("rank %d: distributed L = %.17g, single process %.17g", r, got[r], L)
		}
	}
}
