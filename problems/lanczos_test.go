package problems

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/efmpi/efmpi/datasets"
)

// denseLambdaMax forms AᵀA explicitly and returns its largest eigenvalue by
// gonum's dense symmetric eigen-solver.
func denseLambdaMax(t *testing.T, ds *datasets.Dataset) float64 {
	t.Helper()
	a := denseRows(ds)
	d := ds.Cols()
	ata := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			var s float64
			for _, row := range a {
				s += row[i] * row[j]
			}
			ata.SetSym(i, j, s)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(ata, false) {
		t.Fatal("dense eigen-decomposition failed")
	}
	return mat.Max(mat.NewVecDense(d, eig.Values(nil)))
}

// matrixDS wraps a dense row-major matrix as a dataset (labels all +1).
func matrixDS(rows, cols int, data ...float64) *datasets.Dataset {
	labels := make([]float64, rows)
	for i := range labels {
		labels[i] = 1
	}
	return &datasets.Dataset{Dense: &datasets.Dense{Rows: rows, Cols: cols, Data: data}, Labels: labels, Source: "matrix"}
}

func TestLambdaMaxAtA(t *testing.T) {
	for _, c := range []struct {
		name string
		ds   func(t *testing.T) *datasets.Dataset
	}{
		{"a1a", func(t *testing.T) *datasets.Dataset { return loadLIBSVM(t, "a1a") }},
		{"a1a-dense", func(t *testing.T) *datasets.Dataset { return denseCopy(loadLIBSVM(t, "a1a")) }},
		{"breast-cancer", func(t *testing.T) *datasets.Dataset { return loadLIBSVM(t, "breast-cancer_scale") }},
		{"random-dense", func(*testing.T) *datasets.Dataset { return randomDense(40, 12, 7) }},
		{"random-wide", func(*testing.T) *datasets.Dataset { return randomDense(5, 12, 8) }}, // rank 5 < d
		{"hand-csr", func(*testing.T) *datasets.Dataset { return handCSR() }},
		// Top eigenvector (1,−1)/√2 orthogonal to the all-ones vector.
		{"antisymmetric", func(*testing.T) *datasets.Dataset { return matrixDS(1, 2, 1, -1) }},
		// Rank one: the Krylov space is invariant after one step (β = 0).
		{"rank-one", func(*testing.T) *datasets.Dataset { return matrixDS(3, 3, 1, 2, 3, 2, 4, 6, -1, -2, -3) }},
		// AᵀA = 4I: every vector is an eigenvector.
		{"scaled-identity", func(*testing.T) *datasets.Dataset { return matrixDS(3, 3, 2, 0, 0, 0, 2, 0, 0, 0, 2) }},
		{"d=1", func(*testing.T) *datasets.Dataset { return matrixDS(3, 1, 1, 2, -2) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			ds := c.ds(t)
			got, err := LambdaMaxAtA(ds)
			if err != nil {
				t.Fatal(err)
			}
			want := denseLambdaMax(t, ds)
			if !relClose(got, want, 1e-8) {
				t.Errorf("LambdaMaxAtA = %.17g, dense %.17g (rel %.2g)", got, want, math.Abs(got-want)/want)
			}
			t.Logf("λ_max = %.17g, dense %.17g", got, want)
		})
	}
}

func TestLambdaMaxAtAZero(t *testing.T) {
	got, err := LambdaMaxAtA(matrixDS(2, 3, 0, 0, 0, 0, 0, 0))
	if err != nil || got != 0 {
		t.Errorf("zero matrix: %v, %v", got, err)
	}
	if _, err := LambdaMaxAtA(&datasets.Dataset{Source: "empty"}); err == nil {
		t.Error("no error for a dataset without a matrix")
	}
}
