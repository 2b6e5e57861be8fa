package tcp

import (
	"github.com/efmpi/efmpi/sparse"

	"github.com/efmpi/efmpi/collective"
)

// The TCP transport's collectives: a star around rank 0, which is where its
// connections go. Rank 0 does O(n) sequential work per collective, which
// suits the small local runs this transport is for; the results are the
// same bits as every other transport's (sums in rank order for the
// aggregate, in TreeSum order for dense values), and nothing is allocated
// per call once the scratch buffers have grown.

// AggregateSparse gathers the messages on rank 0, which sums them and
// broadcasts the sum. Traffic is exact on rank 0; on the other ranks its
// Received is the aggregate's frame.
func (t *Comm) AggregateSparse(msg *sparse.Vector, sum collective.SumFunc, out *sparse.Vector) (collective.Traffic, error) {
	return t.star.AggregateSparse(msg, sum, out)
}

// GatherSparse collects every rank's msg on rank 0 (see the package function).
func (t *Comm) GatherSparse(msg *sparse.Vector, out []sparse.Vector) error {
	return t.star.GatherSparse(msg, out)
}

// BroadcastSparse sends rank 0's v to every rank.
func (t *Comm) BroadcastSparse(v *sparse.Vector) error { return t.star.BroadcastSparse(v) }

// BroadcastDense sends rank 0's x to every rank.
func (t *Comm) BroadcastDense(x []float64) error { return t.star.BroadcastDense(x) }

// Reduce sums every rank's src on rank 0 in TreeSum order.
func (t *Comm) Reduce(src, dst []float64) error { return t.star.Reduce(src, dst) }

// Allreduce is Reduce followed by a broadcast of the sum.
func (t *Comm) Allreduce(src, dst []float64) error { return t.star.Allreduce(src, dst) }

// Barrier: every rank checks in with rank 0, which then answers all.
func (t *Comm) Barrier() error { return t.star.Barrier() }
