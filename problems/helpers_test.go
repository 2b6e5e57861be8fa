package problems

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/internal/testenv"
)

// loadLIBSVM reads a shared dataset, skipping when the datasets are absent.
func loadLIBSVM(tb testing.TB, name string) *datasets.Dataset {
	tb.Helper()
	ds, err := datasets.ReadLIBSVM(testenv.Dataset(tb, name), datasets.ReadOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return ds
}

// denseCopy returns a dense copy of ds's matrix (an independent conversion).
func denseCopy(ds *datasets.Dataset) *datasets.Dataset {
	s := ds.Sparse
	data := make([]float64, s.Rows*s.Cols)
	for r := 0; r < s.Rows; r++ {
		for k := s.RowPtr[r]; k < s.RowPtr[r+1]; k++ {
			data[r*s.Cols+int(s.ColIdx[k])] = s.Val[k]
		}
	}
	return &datasets.Dataset{
		Dense:  &datasets.Dense{Rows: s.Rows, Cols: s.Cols, Data: data},
		Labels: ds.Labels,
		Source: ds.Source + " (dense)",
	}
}

// valued returns a copy of the sparse dataset ds with every stored value
// multiplied by s.
func valued(ds *datasets.Dataset, s float64) *datasets.Dataset {
	c := *ds.Sparse
	c.Val = make([]float64, len(ds.Sparse.Val))
	for k, v := range ds.Sparse.Val {
		c.Val[k] = s * v
	}
	return &datasets.Dataset{Sparse: &c, Labels: ds.Labels, Source: ds.Source + " (valued)"}
}

// denseRows returns the entries of ds's matrix as [][]float64.
func denseRows(ds *datasets.Dataset) [][]float64 {
	if ds.Dense != nil {
		out := make([][]float64, ds.Dense.Rows)
		for r := range out {
			out[r] = ds.Dense.Data[r*ds.Dense.Cols : (r+1)*ds.Dense.Cols]
		}
		return out
	}
	return denseRows(denseCopy(ds))
}

// randomDense returns an m×d dataset with N(0,1) entries and random ±1 labels.
func randomDense(m, d int, seed uint64) *datasets.Dataset {
	r := rand.New(rand.NewPCG(seed, 99))
	data := make([]float64, m*d)
	for i := range data {
		data[i] = r.NormFloat64()
	}
	labels := make([]float64, m)
	for i := range labels {
		labels[i] = 1
		if r.IntN(2) == 0 {
			labels[i] = -1
		}
	}
	return &datasets.Dataset{Dense: &datasets.Dense{Rows: m, Cols: d, Data: data}, Labels: labels, Source: "random"}
}

// handCSR is a 5×6 matrix written out by hand, with an empty row, an empty
// column (5), negative and non-unit values:
//
//	[ 1   0  -2   0   0.5 0 ]  b = +1
//	[ 0   0   0   0   0   0 ]  b = −1
//	[ 0   3   0   0   0   0 ]  b = −1
//	[ 0.7 0   0  -1   1   0 ]  b = +1
//	[ 0  -1   4   2   0   0 ]  b = −1
func handCSR() *datasets.Dataset {
	return &datasets.Dataset{
		Sparse: &datasets.CSR{
			Rows: 5, Cols: 6,
			RowPtr: []int{0, 3, 3, 4, 7, 10},
			ColIdx: []int32{0, 2, 4, 1, 0, 3, 4, 1, 2, 3},
			Val:    []float64{1, -2, 0.5, 3, 0.7, -1, 1, -1, 4, 2},
		},
		Labels: []float64{1, -1, -1, 1, -1},
		Source: "hand",
	}
}

// randVec returns a vector of n N(0, sigma²) values.
func randVec(n int, sigma float64, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 7))
	v := make([]float64, n)
	for i := range v {
		v[i] = sigma * r.NormFloat64()
	}
	return v
}

// naiveLoss is the minibatch objective written the obvious way: the average of
// log(1+exp(−b aᵀx)) over rows (all rows if rows is nil) plus the regulariser.
// It is accurate only for moderate margins.
func naiveLoss(a [][]float64, labels []float64, lambda float64, rows []int32, x []float64) float64 {
	if rows == nil {
		for j := range a {
			rows = append(rows, int32(j))
		}
	}
	var s float64
	for _, j := range rows {
		var z float64
		for t := range x {
			z += a[j][t] * x[t]
		}
		s += math.Log(1 + math.Exp(-labels[j]*z))
	}
	if len(rows) > 0 {
		s /= float64(len(rows))
	}
	var reg float64
	for _, xt := range x {
		reg += xt * xt / (1 + xt*xt)
	}
	return s + lambda*reg
}

// fdGrad returns the central finite-difference gradient of f at x with step h.
func fdGrad(f func([]float64) float64, x []float64, h float64) []float64 {
	g := make([]float64, len(x))
	y := append([]float64(nil), x...)
	for t := range x {
		y[t] = x[t] + h
		fp := f(y)
		y[t] = x[t] - h
		fm := f(y)
		y[t] = x[t]
		g[t] = (fp - fm) / (2 * h)
	}
	return g
}

// maxAbs returns max_t |v_t|.
func maxAbs(v []float64) float64 {
	var m float64
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

// checkClose fails if max_t |got_t − want_t| > tol·max(1, ‖want‖_∞).
func checkClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", what, len(got), len(want))
	}
	scale := math.Max(1, maxAbs(want))
	var worst float64
	at := -1
	for i := range got {
		if e := math.Abs(got[i] - want[i]); e > worst || math.IsNaN(e) {
			worst, at = e, i
		}
	}
	if !(worst <= tol*scale) {
		t.Errorf("%s: max error %.3g at %d (got %v, want %v), tolerance %.3g", what, worst, at, got[at], want[at], tol*scale)
	}
}
