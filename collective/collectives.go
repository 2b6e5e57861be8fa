package collective

import (
	"errors"
	"fmt"

	"github.com/efmpi/efmpi/collective/wire"
	"github.com/efmpi/efmpi/sparse"
)

// Tags used by the collectives. Programs that mix their own Send/Receive with
// collectives should avoid tags in [TagBase, TagBase+16).
const (
	TagBase = 0x7EF00000

	tagGatherSparse = TagBase + iota
	tagBcastSparse
	tagBcastDense
	tagReduce
	tagBarrierIn
	tagBarrierOut
)

// SumFunc adds the messages msgs[0], msgs[1], …, msgs[n−1] in that order into
// out (the server's aggregation, algorithms.Server.Aggregate). It must be a
// deterministic function of msgs: AggregateSparse may call it on any one rank
// (and share the result) or on every rank.
type SumFunc func(msgs []sparse.Vector, out *sparse.Vector) error

// Traffic is the payload of one collective as defined for the trajectory's
// wire_bytes columns, independent of the transport: the bytes of the efmpi
// frames (SparseFrameSize, DenseFrameSize) that this rank contributes and
// the bytes of the frames of other ranks it receives, each contribution
// counted once however many hops the transport needs to deliver it.
type Traffic struct {
	Sent, Received int64
}

// Collectives is the typed set of operations the driver uses. Each transport
// implements it directly (collective/inproc, collective/tcp and
// collective/mpi); Of adapts any other Comm (btracey) with a Star over its
// point-to-point messages. Every implementation gives the same bits on
// every rank and on every transport for the same inputs:
//
//   - dense sums are added in the fixed tree order of TreeSum, never in an
//     order chosen by a library;
//   - the sparse aggregate is SumFunc applied to the n messages in rank
//     order, whichever rank computes it.
//
// Errors name the rank; a lost peer is a *RankLostError (errors.As).
type Collectives interface {
	Comm
	// AggregateSparse contributes msg and leaves on every rank, in out,
	// sum(m_0, …, m_{n−1}) over every rank's message in rank order. The
	// returned Traffic is exact on rank 0 on every transport (and on every
	// rank of inproc and mpi): Sent is SparseFrameSize(msg.Len()), Received
	// the sum of SparseFrameSize over the other ranks' messages.
	AggregateSparse(msg *sparse.Vector, sum SumFunc, out *sparse.Vector) (Traffic, error)
	// GatherSparse collects every rank's msg on rank 0 into out (see the
	// package function GatherSparse).
	GatherSparse(msg *sparse.Vector, out []sparse.Vector) error
	// BroadcastSparse copies rank 0's v into every rank's v.
	BroadcastSparse(v *sparse.Vector) error
	// BroadcastDense copies rank 0's x into every rank's x (same length).
	BroadcastDense(x []float64) error
	// Reduce leaves TreeSum of every rank's src in dst on rank 0.
	Reduce(src, dst []float64) error
	// Allreduce leaves TreeSum of every rank's src in dst on every rank.
	Allreduce(src, dst []float64) error
	// Barrier returns once every rank has entered it.
	Barrier() error
}

// Of returns c's own Collectives if it implements them, else a Star over
// c's Send and Receive (a star around rank 0, sums in TreeSum order). The
// transports of this module implement Collectives themselves.
func Of(c Comm) Collectives {
	if x, ok := c.(Collectives); ok {
		return x
	}
	return &Star{Comm: c}
}

// Star implements Collectives over its Comm's point-to-point messages: a
// star around rank 0, where rank 0 gathers, sums in rank order (the sparse
// aggregate) or in TreeSum order (dense values) and sends the result back.
// Messages go through the Comm's MsgComm fast path when it has one, else
// through Send and Receive. A Star keeps rank 0's scratch between calls, so
// over a MsgComm it allocates nothing per call once its buffers have grown;
// it serves one rank, one collective at a time. Transports whose
// connections form a star (tcp) build their collectives on it.
type Star struct {
	Comm
	msgs []sparse.Vector // rank 0: the gathered messages of AggregateSparse
	red  []float64       // rank 0: the other ranks' values in Reduce
}

// AggregateSparse gathers the messages on rank 0, which sums them and
// broadcasts the sum. Traffic is exact on rank 0; on the other ranks its
// Received is the aggregate's frame.
func (s *Star) AggregateSparse(msg *sparse.Vector, sum SumFunc, out *sparse.Vector) (Traffic, error) {
	return starAggregate(s.Comm, msg, sum, out, &s.msgs)
}

// GatherSparse collects every rank's msg on rank 0 (see the package function).
func (s *Star) GatherSparse(msg *sparse.Vector, out []sparse.Vector) error {
	return starGather(s.Comm, msg, out)
}

// BroadcastSparse sends rank 0's v to every rank.
func (s *Star) BroadcastSparse(v *sparse.Vector) error { return starBcastSparse(s.Comm, v) }

// BroadcastDense sends rank 0's x to every rank.
func (s *Star) BroadcastDense(x []float64) error { return starBcastDense(s.Comm, x) }

// Reduce sums every rank's src on rank 0 in TreeSum order.
func (s *Star) Reduce(src, dst []float64) error { return starReduce(s.Comm, src, dst, &s.red) }

// Allreduce is Reduce followed by a broadcast of the sum.
func (s *Star) Allreduce(src, dst []float64) error {
	return starAllreduce(s.Comm, src, dst, &s.red)
}

// Barrier: every rank checks in with rank 0, which then answers all.
func (s *Star) Barrier() error { return starBarrier(s.Comm) }

// GatherSparse collects every rank's msg on rank 0: there out[r] becomes a
// copy of rank r's message (out[0] a copy of rank 0's own), reusing the
// storage of out, which must have at least Size elements. On other ranks out
// is unused and may be nil. It is the one collective whose root does O(n)
// work by nature; the driver uses it only for the dense downlink, where rank
// 0 alone needs the messages.
func GatherSparse(c Comm, msg *sparse.Vector, out []sparse.Vector) error {
	return Of(c).GatherSparse(msg, out)
}

// BroadcastSparse sends v from rank 0 to every other rank, which decode it
// into their v, reusing its storage.
func BroadcastSparse(c Comm, v *sparse.Vector) error { return Of(c).BroadcastSparse(v) }

// BroadcastDense sends x from rank 0 to every other rank, which overwrite
// their x; its length must equal rank 0's (an error otherwise).
func BroadcastDense(c Comm, x []float64) error { return Of(c).BroadcastDense(x) }

// Reduce sums every rank's src into dst on rank 0 in the fixed order of
// TreeSum (for n ≤ 2 that is src_0 + src_1, rank order). All src must have
// the same length, and so must dst on rank 0; on other ranks dst is unused
// and may be nil.
func Reduce(c Comm, src, dst []float64) error { return Of(c).Reduce(src, dst) }

// Allreduce leaves the TreeSum of every rank's src in dst on every rank,
// bitwise the same everywhere and on every transport. dst must have the
// length of src on every rank.
func Allreduce(c Comm, src, dst []float64) error { return Of(c).Allreduce(src, dst) }

// Barrier returns on every rank once every rank has entered it.
func Barrier(c Comm) error { return Of(c).Barrier() }

// AggregateSparse contributes msg and leaves in out, on every rank, the sum
// of every rank's message in rank order (see Collectives.AggregateSparse).
func AggregateSparse(c Comm, msg *sparse.Vector, sum SumFunc, out *sparse.Vector) (Traffic, error) {
	return Of(c).AggregateSparse(msg, sum, out)
}

// TreeChildren appends to buf, in the order their partial sums are added,
// the ranks whose partial sums rank r receives in the fixed binary reduction
// tree over n ranks, and returns them with r's parent (−1 for rank 0). At
// level s = 1, 2, 4, … a rank r with r mod 2s = 0 adds the partial sum of
// rank r+s (if r+s < n) to its own; so rank r's parent is r minus its lowest
// set bit, and the tree is ⌈log₂ n⌉ levels deep.
func TreeChildren(r, n int, buf []int) (children []int, parent int) {
	children = buf[:0]
	for s := 1; s < n; s *= 2 {
		if r%(2*s) != 0 {
			break
		}
		if r+s < n {
			children = append(children, r+s)
		}
	}
	if r == 0 {
		return children, -1
	}
	return children, r - (r & -r)
}

// TreeSum sums vs[0], …, vs[n−1] into dst in the order of the reduction tree
// of TreeChildren: level by level, partial[r] += partial[r+s] for r a
// multiple of 2s. For n = 4 that is (v0+v1)+(v2+v3); for n = 3, (v0+v1)+v2.
// scratch must hold at least (n−1)·len(dst) values when n > 1 (it is
// overwritten); vs are not modified. Every transport's dense sums equal this,
// bit for bit.
func TreeSum(dst []float64, vs [][]float64, scratch []float64) {
	n, d := len(vs), len(dst)
	copy(dst, vs[0])
	if n == 1 {
		return
	}
	// part(r) is rank r's partial sum: dst for r = 0, else scratch.
	part := func(r int) []float64 {
		if r == 0 {
			return dst
		}
		return scratch[(r-1)*d : r*d]
	}
	for r := 1; r < n; r++ {
		copy(part(r), vs[r])
	}
	for s := 1; s < n; s *= 2 {
		for r := 0; r+s < n; r += 2 * s {
			a, b := part(r), part(r+s)
			for j := range a {
				a[j] += b[j]
			}
		}
	}
}

// ---- star implementations over point-to-point messages ----

func sendTo(c Comm, m wire.Msg, dest, tag int) error {
	if w, ok := c.(MsgComm); ok {
		return w.SendMsg(m, dest, tag)
	}
	return c.Send(m.Value(), dest, tag)
}

func recvFrom(c Comm, m wire.Msg, src, tag int) error {
	if w, ok := c.(MsgComm); ok {
		return w.RecvMsg(m, src, tag)
	}
	if m.Kind == wire.MsgAddDense {
		tmp := make([]float64, len(m.F))
		if err := c.Receive(tmp, src, tag); err != nil {
			return err
		}
		for i, x := range tmp {
			m.F[i] += x
		}
		return nil
	}
	return c.Receive(m.Value(), src, tag)
}

// bcastFrom0 sends m from rank 0 to ranks 1, …, n−1 in order.
func bcastFrom0(c Comm, m wire.Msg, tag int) error {
	if w, ok := c.(MsgComm); ok {
		return w.BcastMsg(m, tag)
	}
	for r := 1; r < c.Size(); r++ {
		if err := c.Send(m.Value(), r, tag); err != nil {
			return err
		}
	}
	return nil
}

func starGather(c Comm, msg *sparse.Vector, out []sparse.Vector) error {
	if msg == nil {
		return errors.New("collective: gather: nil message")
	}
	n, me := c.Size(), c.Rank()
	if me != 0 {
		if err := sendTo(c, wire.SparseMsg(msg), 0, tagGatherSparse); err != nil {
			return fmt.Errorf("collective: gather at rank %d: %w", me, err)
		}
		return nil
	}
	if len(out) < n {
		return fmt.Errorf("collective: gather at rank 0: out has %d elements, need %d", len(out), n)
	}
	out[0].CopyFrom(msg)
	for r := 1; r < n; r++ {
		if err := recvFrom(c, wire.SparseMsg(&out[r]), r, tagGatherSparse); err != nil {
			return fmt.Errorf("collective: gather at rank 0 from rank %d: %w", r, err)
		}
	}
	return nil
}

// starAggregate gathers the messages on rank 0 (into *scratch, grown as
// needed), sums them there and broadcasts
// the sum. On ranks other than 0 the Traffic's Received is the aggregate's
// frame, the only one they see.
func starAggregate(c Comm, msg *sparse.Vector, sum SumFunc, out *sparse.Vector, scratch *[]sparse.Vector) (Traffic, error) {
	if msg == nil || out == nil {
		return Traffic{}, errors.New("collective: aggregate: nil message or result")
	}
	n, me := c.Size(), c.Rank()
	tr := Traffic{Sent: int64(wire.SparseFrameSize(msg.Len()))}
	var msgs []sparse.Vector
	if me == 0 {
		if len(*scratch) < n {
			*scratch = make([]sparse.Vector, n)
		}
		msgs = (*scratch)[:n]
	}
	if err := starGather(c, msg, msgs); err != nil {
		return Traffic{}, err
	}
	if me == 0 {
		for r := 1; r < n; r++ {
			tr.Received += int64(wire.SparseFrameSize(msgs[r].Len()))
		}
		if err := sum(msgs, out); err != nil {
			return Traffic{}, fmt.Errorf("collective: aggregate at rank 0: %w", err)
		}
	}
	if n > 1 {
		if err := starBcastSparse(c, out); err != nil {
			return Traffic{}, err
		}
		if me != 0 {
			tr.Received = int64(wire.SparseFrameSize(out.Len()))
		}
	}
	return tr, nil
}

func starBcastSparse(c Comm, v *sparse.Vector) error {
	if v == nil {
		return errors.New("collective: broadcast: nil vector")
	}
	if me := c.Rank(); me != 0 {
		if err := recvFrom(c, wire.SparseMsg(v), 0, tagBcastSparse); err != nil {
			return fmt.Errorf("collective: sparse broadcast at rank %d: %w", me, err)
		}
		return nil
	}
	if err := bcastFrom0(c, wire.SparseMsg(v), tagBcastSparse); err != nil {
		return fmt.Errorf("collective: sparse broadcast at rank 0: %w", err)
	}
	return nil
}

func starBcastDense(c Comm, x []float64) error {
	if me := c.Rank(); me != 0 {
		if err := recvFrom(c, wire.DenseMsg(x), 0, tagBcastDense); err != nil {
			return fmt.Errorf("collective: dense broadcast at rank %d: %w", me, err)
		}
		return nil
	}
	if err := bcastFrom0(c, wire.DenseMsg(x), tagBcastDense); err != nil {
		return fmt.Errorf("collective: dense broadcast at rank 0: %w", err)
	}
	return nil
}

// starReduce receives every rank's src on rank 0 (into *scratch, grown as
// needed) and sums them there in TreeSum order.
func starReduce(c Comm, src, dst []float64, scratch *[]float64) error {
	n, me := c.Size(), c.Rank()
	if me != 0 {
		if err := sendTo(c, wire.DenseMsg(src), 0, tagReduce); err != nil {
			return fmt.Errorf("collective: reduce at rank %d: %w", me, err)
		}
		return nil
	}
	if len(dst) != len(src) {
		return fmt.Errorf("collective: reduce at rank 0: dst has length %d, src %d", len(dst), len(src))
	}
	d := len(src)
	var recv []float64 // recv[(r−1)d : rd] holds rank r's src
	if cap(*scratch) < (n-1)*d {
		*scratch = make([]float64, (n-1)*d)
	}
	recv = (*scratch)[:(n-1)*d]
	copy(dst, src)
	for r := 1; r < n; r++ {
		if err := recvFrom(c, wire.DenseMsg(recv[(r-1)*d:r*d]), r, tagReduce); err != nil {
			return fmt.Errorf("collective: reduce at rank 0 from rank %d: %w", r, err)
		}
	}
	if n == 1 {
		return nil
	}
	// Sum in tree order without a slice of slices: the partial sums live in
	// dst (rank 0) and recv (ranks 1…n−1), exactly as TreeSum does it.
	part := func(r int) []float64 {
		if r == 0 {
			return dst
		}
		return recv[(r-1)*d : r*d]
	}
	for s := 1; s < n; s *= 2 {
		for r := 0; r+s < n; r += 2 * s {
			a, b := part(r), part(r+s)
			for j := range a {
				a[j] += b[j]
			}
		}
	}
	return nil
}

func starAllreduce(c Comm, src, dst []float64, scratch *[]float64) error {
	if len(dst) != len(src) {
		return fmt.Errorf("collective: allreduce at rank %d: dst has length %d, src %d", c.Rank(), len(dst), len(src))
	}
	if err := starReduce(c, src, dst, scratch); err != nil {
		return err
	}
	return starBcastDense(c, dst)
}

// starBarrier: each rank sends an empty message to rank 0, which answers
// everyone once all arrived.
func starBarrier(c Comm) error {
	n, me := c.Size(), c.Rank()
	empty := wire.BytesMsg([]byte{})
	if me != 0 {
		if err := sendTo(c, empty, 0, tagBarrierIn); err != nil {
			return fmt.Errorf("collective: barrier at rank %d: %w", me, err)
		}
		if err := recvFrom(c, empty, 0, tagBarrierOut); err != nil {
			return fmt.Errorf("collective: barrier at rank %d: %w", me, err)
		}
		return nil
	}
	for r := 1; r < n; r++ {
		if err := recvFrom(c, empty, r, tagBarrierIn); err != nil {
			return fmt.Errorf("collective: barrier at rank 0 from rank %d: %w", r, err)
		}
	}
	if err := bcastFrom0(c, empty, tagBarrierOut); err != nil {
		return fmt.Errorf("collective: barrier at rank 0: %w", err)
	}
	return nil
}

// Hoster is implemented by a communicator whose process stands for a block
// of consecutive ranks of a larger world (the in-process world of
// inproc.NewHosted: a few goroutines, each driving many simulated ranks).
// Size and Rank of such a communicator count the hosting nodes; the ranks of
// the computation are [0, Ranks()), and this node hosts [lo, hi). Its
// collectives take one contribution per hosted rank and combine all
// Ranks() contributions exactly as the one-rank-per-process collectives do
// (the sparse sum in rank order, the dense sum in TreeSum order over the
// ranks), so hosting changes no bit of any result.
type Hoster interface {
	// Ranks is the number of ranks of the computation.
	Ranks() int
	// Hosted is the block [lo, hi) of ranks this node hosts.
	Hosted() (lo, hi int)
	// AggregateHosted is AggregateSparse with msgs[i] the message of rank
	// lo+i; it returns the total SparseFrameSize of every rank's message,
	// from which each hosted rank's Traffic follows.
	AggregateHosted(msgs []*sparse.Vector, sum SumFunc, out *sparse.Vector) (int64, error)
	// AggregateReduceHosted is AggregateHosted and, when srcs is not nil,
	// AllreduceHosted of srcs into dst, in one meeting: a round's metric
	// sums travel with its aggregate. Every node must pass srcs, or none.
	AggregateReduceHosted(msgs []*sparse.Vector, sum SumFunc, out *sparse.Vector, srcs [][]float64, dst []float64) (int64, error)
	// AllreduceHosted writes into dst (on every node) the TreeSum over the
	// ranks of their src vectors, srcs[i] being rank lo+i's.
	AllreduceHosted(srcs [][]float64, dst []float64) error
}
