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

// setupStats prepares the broadcast of rank 0's batch-norm running statistics
// (bn_eval = "running" on a network with batch norm): every hosted oracle's
// full passes use l.evalStats.
func (l *loop) setupStats() {
	if l.sh.nn == nil || l.sh.nnBNEval() != "running" {
		return
	}
	for _, o := range l.orcs {
		rs, ok := o.obj.(problems.RunningStats)
		if !ok || len(rs.Stats()) == 0 {
			return
		}
		if l.evalStats == nil {
			l.evalStats = make([]float64, len(rs.Stats()))
		}
		rs.SetEvalStats(l.evalStats)
	}
}

// shareStats copies rank 0's running statistics to every rank before a
// metric row's full passes. The traffic is not the algorithm's: it is not
// counted in the wire bytes.
func (l *loop) shareStats() error {
	if l.evalStats == nil {
		return nil
	}
	if l.root {
		copy(l.evalStats, l.orcs[0].obj.(problems.RunningStats).Stats())
	}
	if err := l.coll.BroadcastDense(l.evalStats); err != nil {
		return commErr("running statistics", err)
	}
	return nil
}

// closeOracles releases what the oracles hold beyond memory (a network's
// threads).
func (l *loop) closeOracles() {
	for _, o := range l.orcs {
		if o == nil {
			continue
		}
		if c, ok := o.obj.(interface{ Close() }); ok {
			c.Close()
		}
	}
}

// imagesPerSec is Result.ImagesPerSec after k iterations.
func (l *loop) imagesPerSec(k int) float64 {
	t := l.t.Gradient + l.t.Compression + l.t.Communication + l.t.Step
	if l.sh.nn == nil || k < 1 || t <= 0 {
		return 0
	}
	return float64(k) * float64(l.n) * float64(l.sh.Spec.Batch) / t
}
