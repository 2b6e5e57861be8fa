package problems

import (
	"fmt"

	"github.com/efmpi/efmpi/datasets"
)

// Evaluate returns the data loss and the classification accuracy of x on a
// labelled dataset (labels ±1), as a held-out test set is scored: for
// problem "logreg" the mean logistic loss (1/m) Σ log(1 + exp(−b_j a_jᵀx)),
// for "leastsq" the mean half squared error (1/2m) Σ (a_jᵀx − b_j)² — in
// both cases without the regulariser — and the fraction of samples with
// b_j·a_jᵀx > 0. It allocates nothing but is O(nnz): call it every few
// iterations, not every one.
func Evaluate(problem string, ds *datasets.Dataset, x []float64) (loss, accuracy float64, err error) {
	if err := validateMatrix(ds); err != nil {
		return 0, 0, fmt.Errorf("evaluate: %w", err)
	}
	if ds.Cols() != len(x) {
		return 0, 0, fmt.Errorf("evaluate %s: %d features, x has %d", ds.Source, ds.Cols(), len(x))
	}
	var sq bool
	switch problem {
	case "logreg":
	case "leastsq":
		sq = true
	default:
		return 0, 0, fmt.Errorf("evaluate: problem %q has no data loss", problem)
	}
	m := ds.Rows()
	correct := 0
	for j := range m {
		var z float64
		if dm := ds.Dense; dm != nil {
			z = denseDot(dm.Data[j*dm.Cols:(j+1)*dm.Cols], x)
		} else {
			s := ds.Sparse
			lo, hi := s.RowPtr[j], s.RowPtr[j+1]
			z = sparseDot(s.ColIdx[lo:hi], s.Val[lo:hi], x)
		}
		b := ds.Labels[j]
		if sq {
			r := z - b
			loss += r * r / 2
		} else {
			loss += Softplus(-b * z)
		}
		if b*z > 0 {
			correct++
		}
	}
	return loss / float64(m), float64(correct) / float64(m), nil
}
