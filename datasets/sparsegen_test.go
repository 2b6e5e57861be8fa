package datasets

import (
	"math"
	"slices"
	"testing"
)

var testGen = SparseSynthetic{M: 3000, D: 500, NNZ: 12, Exponent: 1.1, Noise: 0.1, Seed: 5}

// Every rank generating only its own rows, for any number of ranks, gives the
// rows of the whole dataset bit for bit: row j depends on (seed, j) only.
func TestSparseSyntheticRowsIndependentOfN(t *testing.T) {
	all := make([]int, testGen.M)
	for i := range all {
		all[i] = i
	}
	whole, err := testGen.Rows(all)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 3, 16} {
		for _, opts := range []ShardOptions{{}, {Shuffle: true, Seed: 2}} {
			p, err := NewPlan(testGen.M, n, opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			for r := range n {
				lo, hi := p.Bounds(r)
				rows := p.Rows(lo, hi)
				got, err := testGen.Rows(rows)
				if err != nil {
					t.Fatal(err)
				}
				sameRows(t, got, whole.Gather(rows))
			}
		}
	}
	labels, err := testGen.Labels()
	if err != nil || !slices.Equal(labels, whole.Labels) {
		t.Fatalf("Labels() differs from the rows' labels (err %v)", err)
	}
}

// The rows have the promised shape (NNZ distinct increasing columns, unit
// norm), column frequencies follow the power law, and the labels agree with
// the planted model except for about a Noise fraction.
func TestSparseSyntheticDistribution(t *testing.T) {
	g := testGen
	g.M = 20000
	rows := make([]int, g.M)
	for i := range rows {
		rows[i] = i
	}
	ds, err := g.Rows(rows)
	if err != nil {
		t.Fatal(err)
	}
	s := ds.Sparse
	count := make([]float64, g.D)
	for r := range g.M {
		idx, val := s.Row(r)
		if len(idx) != g.NNZ {
			t.Fatalf("row %d has %d entries", r, len(idx))
		}
		ss := 0.0
		for k, c := range idx {
			if k > 0 && c <= idx[k-1] {
				t.Fatalf("row %d: columns not increasing", r)
			}
			count[c]++
			ss += val[k] * val[k]
		}
		if math.Abs(ss-1) > 1e-12 {
			t.Fatalf("row %d has squared norm %v", r, ss)
		}
	}
	// Without the distinctness constraint column c has probability
	// ∫_{c+1}^{c+2} x^−s dx / ∫_1^{d+1} x^−s dx. Compare the frequency
	// ratio of columns 10 and 100 (both common enough, rarely redrawn) with
	// the law's: (F(12)−F(11))/(F(102)−F(101)) with F(x) = x^(1−s).
	F := func(x float64) float64 { return math.Pow(x, 1-g.Exponent) }
	want := (F(12) - F(11)) / (F(102) - F(101))
	got := count[10] / count[100]
	if math.Abs(got/want-1) > 0.15 {
		t.Fatalf("frequency ratio of columns 10 and 100: %.3f, power law %.3f", got, want)
	}
	if count[0] < count[g.D/2]*10 {
		t.Fatalf("column 0 drawn %v times, column %d %v: not a heavy head", count[0], g.D/2, count[g.D/2])
	}
	// The planted model, recomputed independently.
	w := g.model()
	flipped := 0
	for r := range g.M {
		idx, val := s.Row(r)
		z := 0.0
		for k, c := range idx {
			z += val[k] * w[c]
		}
		y := 1.0
		if z < 0 {
			y = -1
		}
		if y != ds.Labels[r] {
			flipped++
		}
	}
	// Binomial(20000, 0.1): standard deviation 42.
	if frac := float64(flipped) / float64(g.M); math.Abs(frac-g.Noise) > 0.01 {
		t.Fatalf("%.4f of the labels disagree with the planted model, noise %v", frac, g.Noise)
	}
}

func TestSparseSyntheticCheck(t *testing.T) {
	for _, g := range []SparseSynthetic{{M: 0, D: 5, NNZ: 1}, {M: 5, D: 5, NNZ: 6}, {M: 5, D: 5, NNZ: 1, Noise: 0.7}, {M: 5, D: 5, NNZ: 1, Exponent: -1}} {
		if _, err := g.Rows([]int{0}); err == nil {
			t.Errorf("%+v accepted", g)
		}
	}
	// NNZ = D: every column once, even with a heavy law.
	g := SparseSynthetic{M: 3, D: 7, NNZ: 7, Exponent: 4}
	ds, err := g.Rows([]int{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := ds.Sparse.Row(2)
	if !slices.Equal(idx, []int32{0, 1, 2, 3, 4, 5, 6}) {
		t.Fatalf("full row = %v", idx)
	}
}

func BenchmarkSparseSyntheticRows(b *testing.B) {
	rows := make([]int, 50000)
	for i := range rows {
		rows[i] = i
	}
	g := SparseSynthetic{M: 2000000, D: 1000000, NNZ: 20, Exponent: 1, Noise: 0.05, Seed: 1}
	for b.Loop() {
		if _, err := g.Rows(rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rows)), "ns/row")
}
