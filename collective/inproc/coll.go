package inproc

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/wire"
	"github.com/efmpi/efmpi/sparse"
)

// meeting is the in-process world's shared-memory fast path for the
// collectives: every rank deposits a reference to its input and waits; the
// last rank to arrive computes the result once (the sum in rank order, the
// tree sum, the root's copy) into one of two result slots, and every rank
// copies it out. Nothing is sent through the mailboxes, so a collective costs
// the world O(n + result·n) instead of the O(n²) of n ranks each receiving n
// messages, and no rank does more than its share except the last, which does
// the one sum any implementation must do. The result slot alternates between
// rounds: round g+2 can only be computed after every rank arrived at it,
// that is after every rank has copied round g's result, so a slot is never
// overwritten while it is read.
//
// Waiting ranks sleep on the round's slot of wake, a buffered channel into
// which the last rank drops one token per waiter after it released the
// lock: a woken rank needs nothing more (it does not re-acquire the lock, as
// a sync.Cond waiter must), so waking n ranks is n channel sends and no
// contention, which is what lets thousands of ranks meet every iteration.
// Tokens of round g sit in slot g&1; a rank can only wait in round g+2 (the
// same slot) after every rank arrived at g+2, that is after every waiter of g
// took its token, so a token never wakes the wrong round.
type meeting struct {
	mu      sync.Mutex
	n       int
	count   int
	gen     uint64
	left    int // first rank that finalized, −1 while none
	aborted *collective.RankLostError
	wake    [2]chan struct{} // tokens for the waiters of a round, by slot
	lost    chan struct{}    // closed when a rank leaves or the world aborts
	once    sync.Once

	sparseIn []sparse.Vector // shallow copies of the nodes' messages
	denseIn  [][]float64
	// the hosted collectives' inputs, by rank of the computation
	hostSparse []sparse.Vector
	hostDense  [][]float64
	sparseRes  [2]sparse.Vector
	denseRes   [2][]float64
	frames     [2]int64 // total SparseFrameSize of the round's messages
	errs       [2]error
	scratch    []float64
}

func (m *meeting) init(n int) {
	m.n, m.left = n, -1
	m.wake = [2]chan struct{}{make(chan struct{}, n), make(chan struct{}, n)}
	m.lost = make(chan struct{})
}

// leave records that rank r finalized: ranks waiting in a meeting it will
// never join are woken with a *RankLostError.
func (m *meeting) leave(r int) {
	m.mu.Lock()
	if m.left < 0 {
		m.left = r
	}
	m.mu.Unlock()
	m.once.Do(func() { close(m.lost) })
}

// abort wakes every waiting rank with e.
func (m *meeting) abort(e *collective.RankLostError) {
	m.mu.Lock()
	if m.aborted == nil {
		m.aborted = e
	}
	m.mu.Unlock()
	m.once.Do(func() { close(m.lost) })
}

// arrive counts the caller in (m.mu held) and reports the round and whether
// the caller is the last to arrive, which must then compute and release.
func (m *meeting) arrive() (uint64, bool) {
	m.count++
	return m.gen, m.count == m.n
}

// spinFor is how long a waiting node polls for its token before it blocks.
// With no more nodes than cores (inproc.NewHosted as the driver uses it) the
// other nodes are running, and a blocked goroutine's thread goes to sleep and
// takes tens of microseconds to wake: nodes that meet every iteration and
// arrive within microseconds of each other would pay that every time
// (a9a, 20 ranks on 2 nodes: 0.43 against 0.48 ms per iteration, medians of
// six alternating runs). A world of one node, or of more nodes than cores,
// never spins.
const spinFor = 50 * time.Microsecond

// spin polls for round g's token for up to spinFor and reports whether it
// took it (m.mu not held).
func (m *meeting) spin(g uint64) bool {
	if m.n == 1 || m.n > runtime.GOMAXPROCS(0) {
		return false // the releaser may need this core
	}
	wake := m.wake[g&1]
	var start time.Time
	for i := 0; ; i++ {
		select {
		case <-wake:
			return true
		default:
		}
		if i&63 == 63 {
			if start.IsZero() {
				start = time.Now()
			} else if time.Since(start) > spinFor {
				return false
			}
		}
	}
}

// conclude ends the caller's part in round g (m.mu held, unlocked on
// return): the last rank to arrive releases the round and wakes the n−1
// others, the others wait for it, or for the loss that means it never comes.
func (m *meeting) conclude(g uint64, last bool, host string) error {
	if last {
		m.count = 0
		m.gen++
		m.mu.Unlock()
		wake := m.wake[g&1]
		for range m.n - 1 {
			wake <- struct{}{}
		}
		return nil
	}
	m.mu.Unlock()
	if m.spin(g) {
		return nil
	}
	select {
	case <-m.wake[g&1]:
		return nil
	case <-m.lost:
	}
	m.mu.Lock()
	done, aborted, left := m.gen != g, m.aborted, m.left
	m.mu.Unlock()
	if done { // released after all: its token is on its way
		<-m.wake[g&1]
		return nil
	}
	if aborted != nil {
		return aborted
	}
	return &collective.RankLostError{Rank: left, Host: host, Cause: collective.ErrPeerLeft}
}

// enter checks the rank's state and locks the meeting.
func (c *Comm) enter(op string) (*meeting, error) {
	switch c.state.Load() {
	case stateNew:
		return nil, fmt.Errorf("collective: inproc rank %d %s: %w", c.rank, op, collective.ErrNotInitialized)
	case stateFinalized:
		return nil, fmt.Errorf("collective: inproc rank %d %s: %w", c.rank, op, collective.ErrFinalized)
	}
	m := &c.w.meet
	m.mu.Lock()
	return m, nil
}

func (c *Comm) opErr(op string, err error) error {
	var lost *collective.RankLostError
	if errors.As(err, &lost) {
		return err
	}
	return fmt.Errorf("collective: inproc rank %d %s: %w", c.rank, op, err)
}

// AggregateSparse computes sum over the ranks' messages once, on the last
// rank to arrive, and copies the result into every rank's out. No frames
// move, so the byte counters do not change; the returned Traffic is that of
// an allgather of the messages, exact on every rank.
func (c *Comm) AggregateSparse(msg *sparse.Vector, sum collective.SumFunc, out *sparse.Vector) (collective.Traffic, error) {
	if msg == nil || out == nil {
		return collective.Traffic{}, errors.New("collective: aggregate: nil message or result")
	}
	m, err := c.enter("aggregate")
	if err != nil {
		return collective.Traffic{}, err
	}
	if m.sparseIn == nil {
		m.sparseIn = make([]sparse.Vector, m.n)
	}
	m.sparseIn[c.rank] = *msg
	g, last := m.arrive()
	slot := g & 1
	if last {
		m.sumSparse(slot, m.sparseIn, sum, msg.Dim)
	}
	if err := m.conclude(g, last, c.w.host); err != nil {
		return collective.Traffic{}, err
	}
	if err := m.errs[slot]; err != nil {
		return collective.Traffic{}, c.opErr("aggregate", err)
	}
	out.CopyFrom(&m.sparseRes[slot])
	own := int64(wire.SparseFrameSize(msg.Len()))
	return collective.Traffic{Sent: own, Received: m.frames[slot] - own}, nil
}

// AggregateHosted implements collective.Hoster: every node deposits its
// hosted ranks' messages, the last node to arrive applies sum to all
// Ranks() messages in rank order, and every node copies the result. It
// returns the total SparseFrameSize of the messages.
func (c *Comm) AggregateHosted(msgs []*sparse.Vector, sum collective.SumFunc, out *sparse.Vector) (int64, error) {
	return c.AggregateReduceHosted(msgs, sum, out, nil, nil)
}

// AggregateReduceHosted implements collective.Hoster: AggregateHosted and,
// when srcs is not nil, AllreduceHosted of srcs into dst, in one meeting.
func (c *Comm) AggregateReduceHosted(msgs []*sparse.Vector, sum collective.SumFunc, out *sparse.Vector, srcs [][]float64, dst []float64) (int64, error) {
	if len(msgs) != c.hi-c.lo || out == nil {
		return 0, fmt.Errorf("collective: aggregate at node %d: %d messages for ranks [%d, %d)", c.rank, len(msgs), c.lo, c.hi)
	}
	if srcs != nil && len(srcs) != c.hi-c.lo {
		return 0, fmt.Errorf("collective: aggregate at node %d: %d vectors for ranks [%d, %d)", c.rank, len(srcs), c.lo, c.hi)
	}
	for i, msg := range msgs {
		if msg == nil {
			return 0, fmt.Errorf("collective: aggregate: nil message of rank %d", c.lo+i)
		}
	}
	m, err := c.enter("aggregate")
	if err != nil {
		return 0, err
	}
	if m.hostSparse == nil {
		m.hostSparse = make([]sparse.Vector, c.w.ranks)
	}
	for i, msg := range msgs {
		m.hostSparse[c.lo+i] = *msg
	}
	if srcs != nil {
		if m.hostDense == nil {
			m.hostDense = make([][]float64, c.w.ranks)
		}
		copy(m.hostDense[c.lo:], srcs)
	}
	g, last := m.arrive()
	slot := g & 1
	if last {
		m.sumSparse(slot, m.hostSparse, sum, out.Dim)
		if m.hostDense != nil && slices.ContainsFunc(m.hostDense, func(v []float64) bool { return v != nil }) {
			// some node passed its vectors: all must have (treeSumOf
			// reports a rank without them, and drops the references)
			if err := m.treeSumOf(slot, m.hostDense); m.errs[slot] == nil {
				m.errs[slot] = err
			}
		}
	}
	if err := m.conclude(g, last, c.w.host); err != nil {
		return 0, err
	}
	if err := m.errs[slot]; err != nil {
		return 0, c.opErr("aggregate", err)
	}
	out.CopyFrom(&m.sparseRes[slot])
	if srcs != nil {
		if len(dst) != len(m.denseRes[slot]) {
			return 0, fmt.Errorf("collective: aggregate at node %d: dst has length %d, the sum %d", c.rank, len(dst), len(m.denseRes[slot]))
		}
		copy(dst, m.denseRes[slot])
	}
	return m.frames[slot], nil
}

// AllreduceHosted implements collective.Hoster: the TreeSum over the ranks
// of the computation, computed once by the last node to arrive.
func (c *Comm) AllreduceHosted(srcs [][]float64, dst []float64) error {
	if len(srcs) != c.hi-c.lo {
		return fmt.Errorf("collective: allreduce at node %d: %d vectors for ranks [%d, %d)", c.rank, len(srcs), c.lo, c.hi)
	}
	m, err := c.enter("allreduce")
	if err != nil {
		return err
	}
	if m.hostDense == nil {
		m.hostDense = make([][]float64, c.w.ranks)
	}
	copy(m.hostDense[c.lo:], srcs)
	g, last := m.arrive()
	slot := g & 1
	if last {
		m.errs[slot] = m.treeSumOf(slot, m.hostDense)
	}
	if err := m.conclude(g, last, c.w.host); err != nil {
		return err
	}
	if err := m.errs[slot]; err != nil {
		return c.opErr("allreduce", err)
	}
	if len(dst) != len(m.denseRes[slot]) {
		return fmt.Errorf("collective: allreduce at node %d: dst has length %d, the sum %d", c.rank, len(dst), len(m.denseRes[slot]))
	}
	copy(dst, m.denseRes[slot])
	return nil
}

// sumSparse applies sum to the round's messages in into m.sparseRes[slot],
// records their total frame size and the error of sum, and drops the
// references (m.mu held, the last to arrive).
func (m *meeting) sumSparse(slot uint64, in []sparse.Vector, sum collective.SumFunc, dim int) {
	var total int64
	for i := range in {
		total += int64(wire.SparseFrameSize(in[i].Len()))
	}
	res := &m.sparseRes[slot]
	if res.Idx == nil {
		res.Idx, res.Val = make([]int32, 0, dim), make([]float64, 0, dim)
	}
	m.frames[slot], m.errs[slot] = total, sum(in, res)
	clear(in)
}

// Allreduce computes the TreeSum of every rank's src once, on the last rank
// to arrive, and copies it into every rank's dst. The byte counters do not
// change.
func (c *Comm) Allreduce(src, dst []float64) error {
	if len(dst) != len(src) {
		return fmt.Errorf("collective: allreduce at rank %d: dst has length %d, src %d", c.rank, len(dst), len(src))
	}
	res, err := c.meetDense("allreduce", src, (*meeting).treeSum)
	if err != nil {
		return err
	}
	copy(dst, res)
	return nil
}

// Reduce is Allreduce; dst is written on rank 0 only and may be nil elsewhere.
func (c *Comm) Reduce(src, dst []float64) error {
	if c.rank != 0 {
		dst = nil
	} else if len(dst) != len(src) {
		return fmt.Errorf("collective: reduce at rank 0: dst has length %d, src %d", len(dst), len(src))
	}
	res, err := c.meetDense("reduce", src, (*meeting).treeSum)
	if err != nil {
		return err
	}
	copy(dst, res)
	return nil
}

// BroadcastDense copies rank 0's x into every rank's x through shared memory.
func (c *Comm) BroadcastDense(x []float64) error {
	res, err := c.meetDense("dense broadcast", x, (*meeting).copyRoot)
	if err != nil {
		return err
	}
	copy(x, res)
	return nil
}

// meetDense deposits x as this rank's dense input of a meeting; the last
// rank to arrive computes the round's result into m.denseRes[slot] with
// result (m.mu held), and every rank gets that result once the round is
// released, or the error of the op.
func (c *Comm) meetDense(op string, x []float64, result func(m *meeting, slot uint64) error) ([]float64, error) {
	m, err := c.enter(op)
	if err != nil {
		return nil, err
	}
	if m.denseIn == nil {
		m.denseIn = make([][]float64, m.n)
	}
	m.denseIn[c.rank] = x
	g, last := m.arrive()
	slot := g & 1
	if last {
		m.errs[slot] = result(m, slot)
	}
	if err := m.conclude(g, last, c.w.host); err != nil {
		return nil, err
	}
	if err := m.errs[slot]; err != nil {
		return nil, c.opErr(op, err)
	}
	return m.denseRes[slot], nil
}

// treeSum sums m.denseIn into m.denseRes[slot] (m.mu held).
func (m *meeting) treeSum(slot uint64) error { return m.treeSumOf(slot, m.denseIn) }

// treeSumOf sums the vectors in into m.denseRes[slot] in TreeSum order
// (m.mu held) and drops the references.
func (m *meeting) treeSumOf(slot uint64, in [][]float64) error {
	d := len(in[0])
	for r, v := range in {
		if len(v) != d {
			clear(in)
			return fmt.Errorf("rank %d contributes %d values, rank 0 %d", r, len(v), d)
		}
	}
	res := wire.Grow(m.denseRes[slot][:0], d)
	m.scratch = wire.Grow(m.scratch[:0], (len(in)-1)*d)
	collective.TreeSum(res, in, m.scratch)
	m.denseRes[slot] = res
	clear(in)
	return nil
}

// copyRoot copies rank 0's input into m.denseRes[slot] (m.mu held) and
// reports the last rank whose length differs from rank 0's.
func (m *meeting) copyRoot(slot uint64) error {
	var err error
	root := m.denseIn[0]
	for r, v := range m.denseIn {
		if len(v) != len(root) {
			err = fmt.Errorf("rank %d has %d values, rank 0 broadcasts %d", r, len(v), len(root))
		}
	}
	m.denseRes[slot] = append(m.denseRes[slot][:0], root...)
	for i := range m.denseIn {
		m.denseIn[i] = nil
	}
	return err
}

// BroadcastSparse copies rank 0's v into every rank's v through shared memory.
func (c *Comm) BroadcastSparse(v *sparse.Vector) error {
	if v == nil {
		return errors.New("collective: broadcast: nil vector")
	}
	m, err := c.enter("sparse broadcast")
	if err != nil {
		return err
	}
	g, last := m.arrive()
	if c.rank == 0 {
		m.sparseRes[g&1].CopyFrom(v)
	}
	slot := g & 1
	if err := m.conclude(g, last, c.w.host); err != nil {
		return err
	}
	if c.rank != 0 {
		v.CopyFrom(&m.sparseRes[slot])
	}
	return nil
}

// Barrier returns once every rank has entered it.
func (c *Comm) Barrier() error {
	m, err := c.enter("barrier")
	if err != nil {
		return err
	}
	g, last := m.arrive()
	return m.conclude(g, last, c.w.host)
}

// GatherSparse collects the messages on rank 0 through the mailboxes (rank 0
// needs all n of them, so nothing is saved by sharing).
func (c *Comm) GatherSparse(msg *sparse.Vector, out []sparse.Vector) error {
	return c.star.GatherSparse(msg, out)
}
