package driver

import (
	"time"

	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/problems"
)

// evalTest scores the test set on rank 0 when its objective has one (the
// networks) and appends a row to /eval next to the trajectory row just
// written. Other ranks wait for it at the next collective; the time is
// recorded in the row (eval_s).
func (l *loop) evalTest(k int) error {
	ev, ok := l.orc.obj.(problems.Evaluator)
	if !ok || l.rec == nil {
		return nil
	}
	t0 := time.Now()
	loss, acc, ok := ev.Evaluate(l.srv.X)
	if !ok {
		return nil
	}
	return l.rec.AppendEval(hdf5io.EvalRow{Iteration: int64(k), BitsPerWorker: l.worker.Bits,
		TrainLoss: l.lastRow.F, GradNormSq: l.lastRow.GradNormSq, TestLoss: loss, TestAccuracy: acc,
		TimeS: time.Since(l.start).Seconds(), EvalS: time.Since(t0).Seconds()})
}
