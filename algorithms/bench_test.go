package algorithms_test

import (
	"math/rand/v2"
	"testing"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/internal/testenv"
	"github.com/efmpi/efmpi/problems"
	"github.com/efmpi/efmpi/sparse"
)

func BenchmarkTopK1e6(b *testing.B) {
	d := 1_000_000
	v := make([]float64, d)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range v {
		v[i] = r.NormFloat64()
	}
	c := algorithms.NewTopK(d / 100)
	var out sparse.Vector
	c.Compress(&out, v)
	b.SetBytes(int64(8 * d))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		c.Compress(&out, v)
	}
}

// a9aLoop builds the reference loop of EF21 with top-1 on a9a, n = 20
// contiguous shards, x^0 = 0.
func a9aLoop(tb testing.TB, method string, normalize bool) *algorithms.Loop {
	tb.Helper()
	ds, err := datasets.ReadLIBSVM(testenv.Dataset(tb, "a9a"), datasets.ReadOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	const n = 20
	d := ds.Cols()
	oracles := make([]algorithms.Oracle, n)
	comps := make([]algorithms.Compressor, n)
	for r := range n {
		shard, err := datasets.Shard(ds, n, r, datasets.ShardOptions{})
		if err != nil {
			tb.Fatal(err)
		}
		obj, err := problems.NewLogReg(shard, 0.1)
		if err != nil {
			tb.Fatal(err)
		}
		oracles[r] = obj.Grad
		comps[r] = algorithms.NewTopK(1)
	}
	p := algorithms.Problem{
		Config:      algorithms.Config{Method: method, Normalize: normalize, Eta: 0.5, Clients: n, Dim: d},
		Compressors: comps, Oracles: oracles, X0: make([]float64, d),
		Schedule: algorithms.Schedule{Gamma: 1e-3}, Iterations: 1 << 30,
	}
	l, err := algorithms.NewLoop(p)
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// One EF21 iteration of the reference loop: 20 full local gradients on a9a
// (the whole dataset once), 20 top-1 compressions, aggregation and the step.
func BenchmarkEF21IterationA9AN20(b *testing.B) {
	l := a9aLoop(b, algorithms.EF21, false)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := l.Iterate(); err != nil {
			b.Fatal(err)
		}
	}
}

// The per-iteration path allocates nothing, for every method.
func TestIterationAllocatesNothing(t *testing.T) {
	for _, tc := range []struct {
		method    string
		normalize bool
	}{{algorithms.EF21, false}, {algorithms.EF21, true}, {algorithms.EF21SGDM, true}, {algorithms.EF14, false}} {
		l := a9aLoop(t, tc.method, tc.normalize)
		l.Iterate()
		if a := testing.AllocsPerRun(20, func() {
			if err := l.Iterate(); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%s normalize=%v: %v allocations per iteration", tc.method, tc.normalize, a)
		}
	}
}
