package algorithms_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/problems"
)

// The growth curves of `make bench` (scripts/bench.sh prints them as a
// table): the time of one iteration of the reference loop (n clients'
// gradients, compression, aggregation, the step) as one size grows, next to
// the bound it is compared with, measured in the same run. Sub-benchmarks
// are named CURVE/x=VALUE and CURVE/x=VALUE/bound.

// denseData is an m×d matrix of N(0,1) entries with random ±1 labels.
func denseData(m, d int, seed uint64) *datasets.Dataset {
	r := rand.New(rand.NewPCG(seed, 1))
	data := make([]float64, m*d)
	for i := range data {
		data[i] = r.NormFloat64()
	}
	return &datasets.Dataset{Dense: &datasets.Dense{Rows: m, Cols: d, Data: data}, Labels: signs(r, m), Source: "dense"}
}

// sparseData is an m×d CSR matrix with nnz distinct random columns per row
// (sorted) and N(0,1) values, random ±1 labels.
func sparseData(m, d, nnz int, seed uint64) *datasets.Dataset {
	r := rand.New(rand.NewPCG(seed, 2))
	ptr := make([]int, m+1)
	var cols []int32
	var vals []float64
	seen := map[int32]bool{}
	for i := range m {
		clear(seen)
		row := make([]int32, 0, nnz)
		for len(row) < min(nnz, d) {
			c := int32(r.IntN(d))
			if !seen[c] {
				seen[c] = true
				row = append(row, c)
			}
		}
		sortInt32(row)
		for _, c := range row {
			cols = append(cols, c)
			vals = append(vals, r.NormFloat64())
		}
		ptr[i+1] = len(cols)
	}
	return &datasets.Dataset{Sparse: &datasets.CSR{Rows: m, Cols: d, RowPtr: ptr, ColIdx: cols, Val: vals},
		Labels: signs(r, m), Source: "sparse"}
}

func sortInt32(a []int32) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func signs(r *rand.Rand, m int) []float64 {
	l := make([]float64, m)
	for i := range l {
		l[i] = 1
		if r.IntN(2) == 0 {
			l[i] = -1
		}
	}
	return l
}

// loopOn builds the EF21 reference loop with top-k on n contiguous shards of
// ds, x^0 = 0.01·1.
func loopOn(tb testing.TB, ds *datasets.Dataset, n, k int) *algorithms.Loop {
	tb.Helper()
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
		comps[r] = algorithms.NewTopK(k)
	}
	x0 := make([]float64, d)
	for i := range x0 {
		x0[i] = 0.01
	}
	l, err := algorithms.NewLoop(algorithms.Problem{
		Config:      algorithms.Config{Method: algorithms.EF21, Normalize: true, Clients: n, Dim: d},
		Compressors: comps, Oracles: oracles, X0: x0,
		Schedule: algorithms.Schedule{Gamma: 1e-3}, Iterations: 1 << 30,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

func benchIterations(b *testing.B, l *algorithms.Loop) {
	l.Iterate()
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Iterate(); err != nil {
			b.Fatal(err)
		}
	}
}

// streamBound reads the matrix's arrays once with independent accumulators:
// the memory-bandwidth bound of one pass over the data.
func streamBound(b *testing.B, ds *datasets.Dataset) {
	var total float64
	for b.Loop() {
		if s := ds.Sparse; s != nil {
			var i0, i1 int64
			k := 0
			for ; k+2 <= len(s.ColIdx); k += 2 {
				i0 += int64(s.ColIdx[k])
				i1 += int64(s.ColIdx[k+1])
			}
			total += sum4(s.Val) + float64(i0+i1)
		} else {
			total += sum4(ds.Dense.Data)
		}
		total += sum4(ds.Labels)
	}
	if total == 0.5 {
		b.Log(total)
	}
}

func sum4(v []float64) float64 {
	var s0, s1, s2, s3 float64
	k := 0
	for ; k+4 <= len(v); k += 4 {
		s0 += v[k]
		s1 += v[k+1]
		s2 += v[k+2]
		s3 += v[k+3]
	}
	for ; k < len(v); k++ {
		s0 += v[k]
	}
	return (s0 + s1) + (s2 + s3)
}

// BenchmarkGrowthDense: one ||EF21|| top-1 iteration, n = 4, on 2000×d dense
// data, d = 10 … 10⁴ (160 KB … 160 MB), against one streaming pass over the
// matrix.
func BenchmarkGrowthDense(b *testing.B) {
	for _, d := range []int{10, 100, 1000, 10000} {
		ds := denseData(2000, d, 1)
		b.Run(fmt.Sprintf("d=%d", d), func(b *testing.B) { benchIterations(b, loopOn(b, ds, 4, 1)) })
		b.Run(fmt.Sprintf("d=%d/bound", d), func(b *testing.B) { streamBound(b, ds) })
	}
}

// BenchmarkGrowthSparse: one ||EF21|| top-1 iteration, n = 4, on 20000×d CSR
// data with 16 nonzeros per row (320 000 nonzeros), d = 100 … 10⁶, against
// one streaming pass over the CSR arrays. The matrix is the same size at
// every d: what grows is the O(d) work per iteration (x, g, the padded
// gradient, top-k).
func BenchmarkGrowthSparse(b *testing.B) {
	for _, d := range []int{100, 1000, 10000, 100000, 1000000} {
		ds := sparseData(20000, d, 16, 2)
		b.Run(fmt.Sprintf("d=%d", d), func(b *testing.B) { benchIterations(b, loopOn(b, ds, 4, 1)) })
		b.Run(fmt.Sprintf("d=%d/bound", d), func(b *testing.B) { streamBound(b, ds) })
	}
}

// BenchmarkGrowthK: one ||EF21|| top-k iteration, n = 4, on 20000×10⁵ CSR
// data (16 nonzeros per row), k = 1 … d, against the same iteration with
// k = 1 (the gradients, which do not depend on k).
func BenchmarkGrowthK(b *testing.B) {
	ds := sparseData(20000, 100000, 16, 3)
	base := loopOn(b, ds, 4, 1)
	for _, k := range []int{1, 10, 100, 1000, 10000, 100000} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) { benchIterations(b, loopOn(b, ds, 4, k)) })
		b.Run(fmt.Sprintf("k=%d/bound", k), func(b *testing.B) { benchIterations(b, base) })
	}
}
