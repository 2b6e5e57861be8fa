package inproc

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/internal/mailbox"
	"github.com/efmpi/efmpi/collective/wire"
)

// Communicator states.
const (
	stateNew int32 = iota
	stateRunning
	stateFinalized
)

// Comm is one rank of an in-process world made by NewWorld: ranks are
// goroutines of one process and messages are frames copied through
// per-pair in-memory mailboxes. Any pair of ranks may exchange messages, a
// rank may send to itself, and a Send returns as soon as its frame is queued
// (it blocks only when 16 frames already wait for the same receiver).
//
// A rank that finalizes while another still waits for a message from it is
// reported to the waiter as a *RankLostError with cause ErrPeerLeft, and then
// to every rank waiting anywhere in the world, so a failing rank cannot
// leave the others blocked as long as it calls Finalize (defer it).
type Comm struct {
	rank  int
	lo    int // hosted ranks [lo, hi) (NewHosted); [rank, rank+1) otherwise
	hi    int
	w     *world
	state atomic.Int32
	sent  atomic.Int64
	recvd atomic.Int64
	star  collective.Star // GatherSparse, over the mailboxes
}

// inbox holds the mailboxes into one rank, created on first use, so that a
// world of n ranks costs O(n) memory plus the pairs that really talk.
type inbox struct {
	mu    sync.Mutex
	boxes map[int]*mailbox.Mailbox // by source
}

type world struct {
	n         int // nodes (the communicators)
	ranks     int // ranks of the computation: n, or more when hosted
	host      string
	inboxes   []inbox // by destination
	meet      meeting
	done      []chan struct{}
	doneOnce  []sync.Once
	abort     chan struct{}
	abortOnce sync.Once
	abortErr  *collective.RankLostError
}

// NewWorld returns the n ranks of an in-process world; element r is
// rank r. Each rank is meant to be driven by its own goroutine, which calls
// Init, then collectives or Send/Receive, then Finalize.
func NewWorld(n int) ([]collective.Comm, error) {
	cs, err := NewHosted(n, n)
	if err != nil {
		return nil, err
	}
	comms := make([]collective.Comm, n)
	for r, c := range cs {
		comms[r] = c
	}
	return comms, nil
}

// NewHosted returns the p nodes of an in-process world of n ranks, node q
// hosting the consecutive block Block(n, p, q) (collective.Hoster): p
// goroutines simulate n ranks, so a world of thousands of ranks costs p
// goroutines, not n. Size and Rank count the nodes; the point-to-point
// messages and the plain collectives are between nodes. NewHosted(n, n) is
// NewWorld(n).
func NewHosted(n, p int) ([]*Comm, error) {
	if n < 1 {
		return nil, fmt.Errorf("collective: in-process world needs at least 1 rank, got %d", n)
	}
	if p < 1 || p > n {
		return nil, fmt.Errorf("collective: in-process world of %d ranks cannot have %d nodes", n, p)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	w := &world{
		n:        p,
		ranks:    n,
		host:     host,
		inboxes:  make([]inbox, p),
		done:     make([]chan struct{}, p),
		doneOnce: make([]sync.Once, p),
		abort:    make(chan struct{}),
	}
	w.meet.init(p)
	comms := make([]*Comm, p)
	for q := range p {
		w.done[q] = make(chan struct{})
		lo, hi := Block(n, p, q)
		c := &Comm{rank: q, lo: lo, hi: hi, w: w}
		c.star.Comm = c
		comms[q] = c
	}
	return comms, nil
}

// Block is the block [lo, hi) of the n ranks that node q of p hosts: the
// first n mod p nodes host ⌈n/p⌉ ranks, the others ⌊n/p⌋.
func Block(n, p, q int) (lo, hi int) {
	size, extra := n/p, n%p
	lo = q*size + min(q, extra)
	hi = lo + size
	if q < extra {
		hi++
	}
	return lo, hi
}

// Ranks implements collective.Hoster: the ranks of the computation.
func (c *Comm) Ranks() int { return c.w.ranks }

// Hosted implements collective.Hoster: the ranks this node hosts.
func (c *Comm) Hosted() (lo, hi int) { return c.lo, c.hi }

// box returns the mailbox from src to dst, creating it on first use.
func (w *world) box(src, dst int) *mailbox.Mailbox {
	ib := &w.inboxes[dst]
	ib.mu.Lock()
	mb := ib.boxes[src]
	if mb == nil {
		if ib.boxes == nil {
			ib.boxes = map[int]*mailbox.Mailbox{}
		}
		mb = mailbox.New()
		ib.boxes[src] = mb
	}
	ib.mu.Unlock()
	return mb
}

func (w *world) setAbort(e *collective.RankLostError) {
	w.abortOnce.Do(func() {
		w.abortErr = e
		close(w.abort)
		w.meet.abort(e)
	})
}

// Init starts the rank. It does not block: the world is already connected.
func (c *Comm) Init() error {
	if !c.state.CompareAndSwap(stateNew, stateRunning) {
		return fmt.Errorf("collective: inproc rank %d: Init called twice or after Finalize", c.rank)
	}
	return nil
}

// Finalize ends the rank. Ranks still waiting for a message from it get a
// *RankLostError.
func (c *Comm) Finalize() {
	c.state.Store(stateFinalized)
	c.w.doneOnce[c.rank].Do(func() { close(c.w.done[c.rank]) })
	c.w.meet.leave(c.rank)
}

// Rank returns this rank's number.
func (c *Comm) Rank() int { return c.rank }

// Size returns the number of ranks in the world.
func (c *Comm) Size() int { return c.w.n }

// BytesSent returns the bytes of the frames this rank sent to other ranks.
func (c *Comm) BytesSent() int64 { return c.sent.Load() }

// BytesReceived returns the bytes of the frames this rank received from
// other ranks.
func (c *Comm) BytesReceived() int64 { return c.recvd.Load() }

// Transport returns "inproc".
func (c *Comm) Transport() string { return "inproc" }

// Send copies data into a frame for rank dest. See AppendFrame for the types
// with binary fast paths.
func (c *Comm) Send(data any, dest, tag int) error {
	m, err := wire.ForSend(data)
	if err != nil {
		return fmt.Errorf("collective: inproc rank %d send to %d: %w", c.rank, dest, err)
	}
	return c.SendMsg(m, dest, tag)
}

// Receive waits for the frame with the tag from rank src and decodes it into
// data (see DecodeFrame for the accepted destinations).
func (c *Comm) Receive(data any, src, tag int) error {
	m, err := wire.ForReceive(data)
	if err != nil {
		return fmt.Errorf("collective: inproc rank %d receive from %d: %w", c.rank, src, err)
	}
	return c.RecvMsg(m, src, tag)
}

func (c *Comm) check(op string, other int) error {
	switch c.state.Load() {
	case stateNew:
		return fmt.Errorf("collective: inproc rank %d %s: %w", c.rank, op, collective.ErrNotInitialized)
	case stateFinalized:
		return fmt.Errorf("collective: inproc rank %d %s: %w", c.rank, op, collective.ErrFinalized)
	}
	if other < 0 || other >= c.w.n {
		return fmt.Errorf("collective: inproc rank %d %s rank %d: out of range [0, %d)", c.rank, op, other, c.w.n)
	}
	return nil
}

func (c *Comm) SendMsg(m wire.Msg, dest, tag int) error {
	if err := c.check("send to", dest); err != nil {
		return err
	}
	t, err := wire.CheckTag(tag)
	if err != nil {
		return fmt.Errorf("collective: inproc rank %d send to %d: %w", c.rank, dest, err)
	}
	mb := c.w.box(c.rank, dest)
	buf, err := wire.AppendMsg(mb.Buffer(), &m, t)
	if err != nil {
		mb.Recycle(buf)
		return fmt.Errorf("collective: inproc rank %d send to %d: %w", c.rank, dest, err)
	}
	select {
	case mb.Q <- buf:
	default:
		select {
		case mb.Q <- buf:
		case <-c.w.done[dest]:
			e := &collective.RankLostError{Rank: dest, Host: c.w.host, Cause: collective.ErrPeerLeft}
			c.w.setAbort(e)
			return e
		case <-c.w.done[c.rank]:
			return fmt.Errorf("collective: inproc rank %d send to %d: %w", c.rank, dest, collective.ErrFinalized)
		case <-c.w.abort:
			return c.w.abortErr
		}
	}
	if dest != c.rank {
		c.sent.Add(int64(len(buf)))
	}
	return nil
}

func (c *Comm) BcastMsg(m wire.Msg, tag int) error {
	for r := 1; r < c.w.n; r++ {
		if err := c.SendMsg(m, r, tag); err != nil {
			return err
		}
	}
	return nil
}

func (c *Comm) RecvMsg(m wire.Msg, src, tag int) error {
	if err := c.check("receive from", src); err != nil {
		return err
	}
	t, err := wire.CheckTag(tag)
	if err != nil {
		return fmt.Errorf("collective: inproc rank %d receive from %d: %w", c.rank, src, err)
	}
	mb := c.w.box(src, c.rank)
	mb.RMu.Lock()
	defer mb.RMu.Unlock()
	f, ok := mb.TakeStashed(t)
	for !ok {
		if f, err = c.next(mb, src); err != nil {
			return err
		}
		if wire.FrameTag(f) == t {
			break
		}
		if len(mb.Stash) >= mailbox.MaxStash {
			mb.Recycle(f)
			return fmt.Errorf("collective: inproc rank %d receive from %d: more than %d unexpected messages while waiting for tag %d", c.rank, src, mailbox.MaxStash, tag)
		}
		mb.Stash = append(mb.Stash, f)
	}
	if src != c.rank {
		c.recvd.Add(int64(len(f)))
	}
	err = wire.DecodePayload(f[2], f[wire.HeaderSize:], &m)
	mb.Recycle(f)
	if err != nil {
		return fmt.Errorf("collective: inproc rank %d receive from %d (tag %d): %w", c.rank, src, tag, err)
	}
	return nil
}

// next takes the next frame from mb, preferring data over any end signal.
func (c *Comm) next(mb *mailbox.Mailbox, src int) ([]byte, error) {
	select {
	case f := <-mb.Q:
		return f, nil
	default:
	}
	select {
	case f := <-mb.Q:
		return f, nil
	case <-c.w.done[src]:
		select {
		case f := <-mb.Q:
			return f, nil
		default:
		}
		if src == c.rank {
			return nil, fmt.Errorf("collective: inproc rank %d receive from itself: %w", c.rank, collective.ErrFinalized)
		}
		e := &collective.RankLostError{Rank: src, Host: c.w.host, Cause: collective.ErrPeerLeft}
		c.w.setAbort(e)
		return nil, e
	case <-c.w.done[c.rank]:
		return nil, fmt.Errorf("collective: inproc rank %d receive from %d: %w", c.rank, src, collective.ErrFinalized)
	case <-c.w.abort:
		select {
		case f := <-mb.Q:
			return f, nil
		default:
		}
		return nil, c.w.abortErr
	}
}
