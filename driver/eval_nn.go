package driver

import (
	"math"

	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/problems"
)

// evaluateNN is evaluate for a network (Problem "nn"): the training loss is
// f(x^k) of the trajectory row just recorded (the mean cross-entropy over
// every shard, from the metrics' full pass on each rank), the test loss and
// accuracy come from a full pass of rank 0's network over the test images.
// The training accuracy is not computed (NaN): it would need another full
// pass over the training images on rank 0, as costly as the test pass times
// the ratio of the set sizes; ‖∇f‖² and the bits are in /trajectory at the
// same iteration.
func (l *loop) evaluateNN(k int, x []float64) error {
	row := hdf5io.EvalRow{Iteration: int64(k), TrainLoss: l.lastRow.F,
		TrainAccuracy: math.NaN(), TestLoss: math.NaN(), TestAccuracy: math.NaN()}
	if ev, ok := l.orcs[0].obj.(problems.Evaluator); ok {
		if loss, acc, ok := ev.Evaluate(x); ok {
			row.TestLoss, row.TestAccuracy = loss, acc
		}
	}
	return l.rec.AppendEval(row)
}
