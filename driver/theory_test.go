package driver

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/internal/testenv"
)

// denseLambdaMax is λ_max(AᵀA) from gonum's dense symmetric eigen-solver: an
// independent check on the sparse Lanczos path.
func denseLambdaMax(t *testing.T, ds *datasets.Dataset) float64 {
	t.Helper()
	dense := ds.Sparse.ToDense()
	a := mat.NewDense(dense.Rows, dense.Cols, dense.Data)
	var ata mat.SymDense
	ata.SymOuterK(1, a.T())
	var eig mat.EigenSym
	if !eig.Factorize(&ata, false) {
		t.Fatal("EigenSym did not converge")
	}
	vals := eig.Values(nil)
	return vals[len(vals)-1]
}

// The ef21-theory step for a1a (d = 119, 5 contiguous shards, λ = 0.1, top-1)
// equals the formula of SPEC §4 evaluated with dense eigenvalues.
func TestEF21TheoryStepA1A(t *testing.T) {
	spec := baseSpec(t)
	spec.Source, spec.DataPath, spec.Features = "libsvm", testenv.Dataset(t, "a1a"), 0
	sh, err := Prepare(spec, 5)
	if err != nil {
		t.Fatal(err)
	}
	if sh.Dim != 119 {
		t.Fatalf("d = %d, want 119", sh.Dim)
	}
	full, err := datasets.ReadLIBSVM(spec.DataPath, datasets.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const lambda = 0.1
	L := denseLambdaMax(t, full)/(4*float64(full.Rows())) + 2*lambda
	sumSq := 0.0
	for r := range 5 {
		shard, err := datasets.Shard(full, 5, r, datasets.ShardOptions{})
		if err != nil {
			t.Fatal(err)
		}
		li := denseLambdaMax(t, shard)/(4*float64(shard.Rows())) + 2*lambda
		sumSq += li * li
	}
	lt := math.Sqrt(sumSq / 5)
	alpha := 1.0 / 119
	s := 1/math.Sqrt(1-alpha) - 1
	theta := 1 - (1-alpha)*(1+s)
	beta := (1 - alpha) * (1 + 1/s)
	want := 1 / (L + lt*math.Sqrt(beta/theta))
	if sh.Theory == nil || sh.Theory.Alpha != alpha {
		t.Fatalf("theory %+v, want α = 1/119", sh.Theory)
	}
	if got := sh.Schedule.Gamma; math.Abs(got-want) > 1e-8*want {
		t.Fatalf("ef21-theory γ = %.15g, dense formula %.15g", got, want)
	}
	if math.Abs(sh.Theory.L-L) > 1e-8*L || math.Abs(sh.Theory.LTilde-lt) > 1e-8*lt {
		t.Fatalf("L, L̃ = %v, %v; dense %v, %v", sh.Theory.L, sh.Theory.LTilde, L, lt)
	}
}
