package datasets

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/efmpi/efmpi/rng"
)

// SparseSyntheticSource is the Source of datasets made by SparseSynthetic.
const SparseSyntheticSource = "synthetic-sparse"

// SparseSynthetic describes a synthetic sparse dataset for scale studies, in
// the manner of text data: M samples, D features, NNZ distinct nonzeros per
// row, column c drawn with probability roughly ∝ (c+1)^(−Exponent) (a power
// law: a few very common columns and a long tail), labels from a planted
// linear model with label noise.
//
// Row j depends only on (Seed, j): its NNZ columns are drawn from
// rng.New(Seed, rng.SparseRows, j) by inverting the continuous power law
// (redrawing duplicates), sorted, then given values U(0, 1] scaled so that
// the row has unit ℓ2 norm (as tf-idf rows), then one uniform draw u: the
// label is sign(a_jᵀw*) (+1 at 0), flipped when u < Noise. The planted model
// w* ~ N(0, I_D) comes from rng.New(Seed, rng.SparseModel, 0). So the global
// dataset is the same whatever the number of ranks, and a rank generates just
// its own rows (O(rows·NNZ + D) time and memory).
type SparseSynthetic struct {
	M, D, NNZ int
	Exponent  float64
	Noise     float64
	Seed      uint64
}

// Check reports parameters that make no dataset.
func (g SparseSynthetic) Check() error {
	switch {
	case g.M < 1 || g.D < 1:
		return fmt.Errorf("synthetic-sparse: need m ≥ 1 samples and d ≥ 1 features, got m=%d d=%d", g.M, g.D)
	case g.D > math.MaxInt32:
		return fmt.Errorf("synthetic-sparse: d = %d exceeds 2³¹−1", g.D)
	case g.NNZ < 1 || g.NNZ > g.D:
		return fmt.Errorf("synthetic-sparse: nonzeros per row %d must be in [1, d = %d]", g.NNZ, g.D)
	case !(g.Exponent >= 0) || math.IsInf(g.Exponent, 0):
		return fmt.Errorf("synthetic-sparse: exponent %v must be finite and ≥ 0", g.Exponent)
	case !(g.Noise >= 0 && g.Noise <= 0.5):
		return fmt.Errorf("synthetic-sparse: label noise %v must be in [0, 0.5]", g.Noise)
	}
	return nil
}

// Rows returns the given rows (0 ≤ j < M), in that order. Every row has NNZ
// entries, so row k's place is known in advance: the rows are generated in
// parallel (GOMAXPROCS goroutines), with the same result as one at a time.
func (g SparseSynthetic) Rows(rows []int) (*Dataset, error) {
	if err := g.Check(); err != nil {
		return nil, err
	}
	for _, j := range rows {
		if j < 0 || j >= g.M {
			return nil, fmt.Errorf("synthetic-sparse: row %d outside [0, %d)", j, g.M)
		}
	}
	w := g.model()
	n, z := len(rows), g.NNZ
	c := &CSR{Rows: n, Cols: g.D, RowPtr: make([]int, n+1), ColIdx: make([]int32, n*z), Val: make([]float64, n*z)}
	ds := &Dataset{Sparse: c, Labels: make([]float64, n), Source: SparseSyntheticSource}
	for k := range c.RowPtr {
		c.RowPtr[k] = k * z
	}
	workers := min(runtime.GOMAXPROCS(0), max(1, n/1024))
	var wg sync.WaitGroup
	for p := range workers {
		lo, hi := p*n/workers, (p+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := lo; k < hi; k++ {
				ds.Labels[k] = g.row(rows[k], w, c.ColIdx[k*z:(k+1)*z], c.Val[k*z:(k+1)*z])
			}
		}()
	}
	wg.Wait()
	return ds, nil
}

// Labels returns every row's label, generating each row in turn (O(M·NNZ)
// time, O(D) memory): what a split by label needs.
func (g SparseSynthetic) Labels() ([]float64, error) {
	if err := g.Check(); err != nil {
		return nil, err
	}
	w := g.model()
	idx, val := make([]int32, g.NNZ), make([]float64, g.NNZ)
	out := make([]float64, g.M)
	for j := range out {
		out[j] = g.row(j, w, idx, val)
	}
	return out, nil
}

// model is the planted w*.
func (g SparseSynthetic) model() []float64 {
	r, _ := rng.New(g.Seed, rng.SparseModel, 0)
	w := make([]float64, g.D)
	for t := range w {
		w[t] = r.NormFloat64()
	}
	return w
}

// row fills idx and val (length NNZ) with row j and returns its label.
func (g SparseSynthetic) row(j int, w []float64, idx []int32, val []float64) float64 {
	r, _ := rng.New(g.Seed, rng.SparseRows, uint64(j))
	d := float64(g.D)
	s := g.Exponent
	// Inverse CDF of the density ∝ x^(−s) on [1, d+1): column ⌊x⌋ − 1.
	var top, logTop float64
	if s != 1 {
		top = math.Pow(d+1, 1-s) - 1
	} else {
		logTop = math.Log(d + 1)
	}
	draw := func() int32 {
		u := r.Float64()
		var x float64
		if s != 1 {
			x = math.Pow(1+u*top, 1/(1-s))
		} else {
			x = math.Exp(u * logTop)
		}
		return int32(min(max(int(x)-1, 0), g.D-1))
	}
	n := 0
	for tries := 0; n < len(idx); tries++ {
		var c int32
		if tries < 64*len(idx) {
			c = draw()
		} else {
			c = int32(tries % g.D) // a (very) heavy law: fill deterministically
		}
		if !slices.Contains(idx[:n], c) {
			idx[n] = c
			n++
		}
	}
	slices.Sort(idx)
	ss := 0.0
	for t := range val {
		val[t] = 1 - r.Float64() // (0, 1]
		ss += val[t] * val[t]
	}
	inv := 1 / math.Sqrt(ss)
	z := 0.0
	for t := range val {
		val[t] *= inv
		z += val[t] * w[idx[t]]
	}
	y := 1.0
	if z < 0 {
		y = -1
	}
	if r.Float64() < g.Noise {
		y = -y
	}
	return y
}
