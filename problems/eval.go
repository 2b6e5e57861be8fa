package problems

import (
	"fmt"

	"github.com/efmpi/efmpi/datasets"
)

// Evaluate returns the data loss and the classification accuracy of x on a
// labelled dataset (labels ±1), as a held-out test set is scored: the mean
// of the problem's DataProblem.Loss — for "logreg" the logistic loss
// log(1 + exp(−b_j a_jᵀx)), for "leastsq" the half squared error
// (a_jᵀx − b_j)²/2, without the regulariser — and the fraction of samples
// with b_j·a_jᵀx > 0. It allocates nothing but is O(nnz): call it every few
// iterations, not every one.
func Evaluate(problem string, ds *datasets.Dataset, x []float64) (loss, accuracy float64, err error) {
	if err := validateMatrix(ds); err != nil {
		return 0, 0, fmt.Errorf("evaluate: %w", err)
	}
	if ds.Cols() != len(x) {
		return 0, 0, fmt.Errorf("evaluate %s: %d features, x has %d", ds.Source, ds.Cols(), len(x))
	}
	dp, ok := LookupDataProblem(problem)
	if !ok {
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
		loss += dp.Loss(z, b)
		if b*z > 0 {
			correct++
		}
	}
	return loss / float64(m), float64(correct) / float64(m), nil
}
