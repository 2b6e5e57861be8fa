package driver

import (
	"math"

	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/problems"
)

// evaluates reports whether the run writes /eval: EvalEvery > 0 and the
// data to score held here (every row of a data problem, or a network, whose
// rank 0 holds the test images).
func (sh *Shared) evaluates() bool {
	return sh.Spec.EvalEvery > 0 && (sh.full != nil || sh.nn != nil)
}

// evalDue reports whether the recorded row of iteration k gets an
// evaluation: at multiples of EvalEvery, and the last row of the run.
func (l *loop) evalDue(k int, last bool) bool {
	e := l.sh.Spec.EvalEvery
	return l.sh.evaluates() && (k%e == 0 || last)
}

// evaluate scores x^k on the training data (all shards; rank 0 holds it)
// and on the test set, and appends the row to /eval. It only reads x, so
// the trajectory does not depend on it.
func (l *loop) evaluate(k int, x []float64) error {
	if l.sh.nn != nil {
		return l.evaluateNN(k, x)
	}
	row := hdf5io.EvalRow{Iteration: int64(k), TestLoss: math.NaN(), TestAccuracy: math.NaN()}
	var err error
	p := l.sh.Spec.Problem
	if row.TrainLoss, row.TrainAccuracy, err = problems.Evaluate(p, l.sh.full, x); err != nil {
		return err
	}
	if t := l.sh.Test; t != nil {
		if row.TestLoss, row.TestAccuracy, err = problems.Evaluate(p, t, x); err != nil {
			return err
		}
	}
	return l.rec.AppendEval(row)
}
