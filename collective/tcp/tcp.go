package tcp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/internal/mailbox"
	"github.com/efmpi/efmpi/collective/wire"
)

const (
	readBufSize = 64 << 10
	readChunk   = 1 << 20
)

// Communicator states.
const (
	stateNew int32 = iota
	stateRunning
	stateFinalized
	stateJoining
)

// Config configures one rank of a TCP world.
type Config struct {
	Rank, Size int
	// Coordinator is rank 0's host:port. Rank 0 listens on it (port 0 picks a
	// free port: read it back with Addr); the other ranks dial it.
	Coordinator string
	// Bind is rank 0's listen address when it differs from Coordinator (for
	// example "0.0.0.0:port"); "" means Coordinator.
	Bind string
	// Secret is the per-job shared secret; required. It authenticates every
	// connection in both directions and is never sent or logged.
	Secret []byte
	// Timeout bounds connecting (Init) and detects dead or silent peers: a
	// peer that sends nothing (not even a heartbeat) for Timeout while this
	// rank waits on it is lost. 0 means collective.DefaultTimeout.
	Timeout time.Duration
	// Host is this rank's host name as reported to others in errors; ""
	// means os.Hostname.
	Host string
	// Logf reports refused connections and similar events; nil means
	// log.Printf. It may be called from several goroutines at once.
	Logf func(format string, args ...any)
}

// Comm is one rank of a TCP world: a star of authenticated connections
// between rank 0 and every other rank, carrying the frames of package
// collective/wire.
//
// Rank 0 binds its listener in New; Init then accepts Size−1 peers that
// prove they hold the secret (others are refused, logged, and Init carries on
// waiting for the right ones), while every other rank dials Coordinator,
// retrying until Timeout. Only rank 0 ↔ rank r messages are possible: Send or
// Receive between two non-zero ranks returns an error wrapping ErrNoRoute.
// Sends to oneself go through memory.
//
// Every connection carries a heartbeat every Timeout/3 while the rank is
// initialized, so a busy peer is not mistaken for a dead one; a peer that is
// silent for Timeout while this rank waits on it, whose connection closes
// without a goodbye, or that sends a malformed frame is reported as a
// *RankLostError naming its rank and host. Rank 0 forwards the first loss to
// every other rank, which then fails its next Receive with the same rank and
// host. Finalize says goodbye to every peer and waits (at most Timeout) for
// their goodbyes, so a normal end is clean on both sides.
//
// Send and Receive are safe for concurrent use; concurrent calls to the same
// peer are serialized.
type Comm struct {
	cfg     Config
	timeout time.Duration
	host    string
	logf    func(format string, args ...any)
	ln      *net.TCPListener

	state atomic.Int32
	peers []*peer // by rank: rank 0 holds 1…n−1, others hold [0] only
	self  *mailbox.Mailbox
	selfR sync.Mutex
	sent  atomic.Int64
	recvd atomic.Int64

	bmu  sync.Mutex // guards bbuf
	bbuf []byte     // broadcast frame, encoded once for all peers

	star collective.Star // the collectives, over this rank's messages

	done      chan struct{} // closed by Finalize
	silent    bool          // tests: no heartbeats, to simulate a hung rank
	hbStop    chan struct{}
	hbWG      sync.WaitGroup
	abortOnce sync.Once
}

// peer is one connection.
type peer struct {
	t    *Comm
	rank int
	host string
	conn *net.TCPConn
	br   *bufio.Reader

	rmu   sync.Mutex // guards reading: br, hdr, rbuf, stash
	hdr   [wire.HeaderSize]byte
	rbuf  []byte
	stash []stashedFrame

	wmu  sync.Mutex // guards writing: wbuf
	wbuf []byte

	errMu sync.Mutex
	err   *collective.RankLostError // sticky once the peer is lost
}

type stashedFrame struct {
	kind byte
	tag  int32
	data []byte
}

// New validates cfg and, on rank 0 of a world of more than one rank, binds
// the listener at once so that Addr is known before Init.
func New(cfg Config) (*Comm, error) {
	if cfg.Size < 1 {
		return nil, fmt.Errorf("collective: tcp: size %d < 1", cfg.Size)
	}
	if cfg.Rank < 0 || cfg.Rank >= cfg.Size {
		return nil, fmt.Errorf("collective: tcp: rank %d out of range [0, %d)", cfg.Rank, cfg.Size)
	}
	if len(cfg.Secret) == 0 {
		return nil, fmt.Errorf("collective: tcp rank %d: a job secret is required", cfg.Rank)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("collective: tcp rank %d: negative timeout %v", cfg.Rank, cfg.Timeout)
	}
	if cfg.Size > 1 && cfg.Coordinator == "" && (cfg.Rank != 0 || cfg.Bind == "") {
		return nil, fmt.Errorf("collective: tcp rank %d: no coordinator address", cfg.Rank)
	}
	t := &Comm{
		cfg:     cfg,
		timeout: cfg.Timeout,
		logf:    cfg.Logf,
		self:    mailbox.New(),
		done:    make(chan struct{}),
		hbStop:  make(chan struct{}),
		peers:   make([]*peer, cfg.Size),
	}
	t.star.Comm = t
	t.cfg.Secret = slices.Clone(cfg.Secret)
	if t.timeout == 0 {
		t.timeout = collective.DefaultTimeout
	}
	if t.logf == nil {
		t.logf = log.Printf
	}
	t.host = cfg.Host
	if t.host == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "unknown"
		}
		t.host = h
	}
	t.host = wire.CleanHost(t.host)
	if cfg.Rank == 0 && cfg.Size > 1 {
		bind := cfg.Bind
		if bind == "" {
			bind = cfg.Coordinator
		}
		ln, err := net.Listen("tcp", bind)
		if err != nil {
			return nil, fmt.Errorf("collective: tcp rank 0: listen on %s: %w", bind, err)
		}
		t.ln = ln.(*net.TCPListener)
	}
	return t, nil
}

// Addr returns the address rank 0 listens on ("" on other ranks and in a
// world of one rank).
func (t *Comm) Addr() string {
	if t.ln == nil {
		return ""
	}
	return t.ln.Addr().String()
}

// Rank returns this rank's number.
func (t *Comm) Rank() int { return t.cfg.Rank }

// Size returns the number of ranks.
func (t *Comm) Size() int { return t.cfg.Size }

// BytesSent returns the bytes of data frames written to peers.
func (t *Comm) BytesSent() int64 { return t.sent.Load() }

// BytesReceived returns the bytes of data frames read from peers.
func (t *Comm) BytesReceived() int64 { return t.recvd.Load() }

// Transport returns "tcp".
func (t *Comm) Transport() string { return "tcp" }

// Init connects the world: rank 0 accepts Size−1 authenticated peers, every
// other rank dials the coordinator with retries. Both give up after Timeout.
func (t *Comm) Init() error {
	if !t.state.CompareAndSwap(stateNew, stateJoining) {
		return fmt.Errorf("collective: tcp rank %d: Init called twice or after Finalize", t.cfg.Rank)
	}
	deadline := time.Now().Add(t.timeout)
	var err error
	switch {
	case t.cfg.Size == 1:
	case t.cfg.Rank == 0:
		err = t.acceptPeers(deadline)
	default:
		err = t.dialRoot(deadline)
	}
	if err != nil {
		t.state.Store(stateFinalized)
		close(t.done)
		if t.ln != nil {
			t.ln.Close()
		}
		return err
	}
	for _, p := range t.peers {
		if p != nil && !t.silent {
			t.hbWG.Add(1)
			go p.heartbeat()
		}
	}
	t.state.Store(stateRunning)
	return nil
}

// joinState tracks rank 0's accepting.
type joinState struct {
	mu       sync.Mutex
	claimed  []bool
	inflight map[*net.TCPConn]struct{}
	finished bool
}

func (s *joinState) claim(r int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished || s.claimed[r] {
		return false
	}
	s.claimed[r] = true
	return true
}

func (s *joinState) release(r int) {
	s.mu.Lock()
	s.claimed[r] = false
	s.mu.Unlock()
}

// track registers an in-flight handshake; it reports false once joining has
// finished.
func (s *joinState) track(c *net.TCPConn, on bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		if s.finished {
			return false
		}
		s.inflight[c] = struct{}{}
	} else {
		delete(s.inflight, c)
	}
	return true
}

func (t *Comm) acceptPeers(deadline time.Time) error {
	n := t.cfg.Size
	st := &joinState{claimed: make([]bool, n), inflight: make(map[*net.TCPConn]struct{})}
	joined := make(chan *peer, n)
	var wg sync.WaitGroup
	acceptDone := make(chan struct{})
	go func() {
		defer close(acceptDone)
		for {
			conn, err := t.ln.AcceptTCP()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				t.logf("collective: tcp rank 0: accept: %v", err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			if !st.track(conn, true) {
				conn.Close()
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, j, err := t.serverHandshake(conn, deadline, st)
				// Untrack before handing the peer over: once the last peer
				// is received, joining ends and closes every connection
				// still tracked as in flight.
				st.track(conn, false)
				if err != nil {
					conn.Close()
					claims := ""
					if j.MAC != nil {
						claims = fmt.Sprintf(" (claims rank %d, host %q)", j.Rank, j.Host)
					}
					t.logf("collective: tcp rank 0 refused a connection from %s%s: %v", conn.RemoteAddr(), claims, err)
					return
				}
				joined <- p
			}()
		}
	}()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	var err error
	for got := 0; got < n-1 && err == nil; {
		select {
		case p := <-joined:
			t.peers[p.rank] = p
			got++
		case <-timer.C:
			err = errors.New("timed out")
		}
	}
	t.ln.Close()
	st.mu.Lock()
	st.finished = true
	for c := range st.inflight {
		c.Close()
	}
	st.mu.Unlock()
	<-acceptDone
	wg.Wait()
	for len(joined) > 0 {
		p := <-joined
		t.peers[p.rank] = p
	}
	if err != nil {
		var missing []int
		for r := 1; r < n; r++ {
			if t.peers[r] == nil {
				missing = append(missing, r)
			} else {
				t.peers[r].conn.Close()
			}
		}
		return fmt.Errorf("collective: tcp rank 0 on %s: ranks %v did not join within %v", t.Addr(), missing, t.timeout)
	}
	return nil
}

func (t *Comm) dialRoot(deadline time.Time) error {
	backoff := 20 * time.Millisecond
	var last error
	for {
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return fmt.Errorf("collective: tcp rank %d (host %s): could not join rank 0 at %s within %v: %w", t.cfg.Rank, t.host, t.cfg.Coordinator, t.timeout, last)
		}
		d := net.Dialer{Timeout: remaining}
		c, err := d.Dial("tcp", t.cfg.Coordinator)
		if err == nil {
			conn := c.(*net.TCPConn)
			var p *peer
			if p, err = t.clientHandshake(conn, deadline); err == nil {
				t.peers[0] = p
				return nil
			}
			conn.Close()
			if errors.Is(err, errRefused) {
				return fmt.Errorf("collective: tcp rank %d (host %s) joining %s: %w", t.cfg.Rank, t.host, t.cfg.Coordinator, err)
			}
		}
		last = err
		time.Sleep(min(backoff, time.Until(deadline)))
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

func (t *Comm) newPeer(conn *net.TCPConn, br *bufio.Reader, rank int, host string) *peer {
	conn.SetNoDelay(true)
	return &peer{t: t, rank: rank, host: host, conn: conn, br: br}
}

// heartbeat writes a heartbeat frame every timeout/3 unless a write is in
// progress, until Finalize or the peer is lost.
func (p *peer) heartbeat() {
	defer p.t.hbWG.Done()
	var frame [wire.HeaderSize]byte
	wire.PutHeader(frame[:], wire.KindHeartbeat, 0, 0)
	tk := time.NewTicker(p.t.timeout / 3)
	defer tk.Stop()
	for {
		select {
		case <-p.t.hbStop:
			return
		case <-tk.C:
		}
		if p.lost() != nil {
			return
		}
		if !p.wmu.TryLock() {
			continue // a message is being written: that is a sign of life too
		}
		p.conn.SetWriteDeadline(time.Now().Add(p.t.timeout))
		_, err := p.conn.Write(frame[:])
		p.wmu.Unlock()
		if err != nil {
			return // the next Send or Receive reports the loss
		}
	}
}

func (p *peer) lost() *collective.RankLostError {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.err
}

// setLost records e unless a loss is already recorded; it returns the
// recorded loss and whether e is it.
func (p *peer) setLost(e *collective.RankLostError) (*collective.RankLostError, bool) {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	if p.err != nil {
		return p.err, false
	}
	p.err = e
	return e, true
}

// lose records that p is lost, closes the connection and, on rank 0, tells
// every other rank.
func (t *Comm) lose(p *peer, cause error) error {
	e, first := p.setLost(&collective.RankLostError{Rank: p.rank, Host: p.host, Cause: cause})
	if first {
		p.conn.Close()
		if t.cfg.Rank == 0 {
			t.abortOthers(e)
		}
	}
	return e
}

// abortOthers sends the first loss rank 0 sees to every other live peer.
func (t *Comm) abortOthers(e *collective.RankLostError) {
	t.abortOnce.Do(func() {
		frame := wire.AppendControl(nil, wire.KindAbort, wire.AppendAbort(nil, e.Rank, e.Host, e.Cause.Error()))
		for _, q := range t.peers {
			if q == nil || q.rank == e.Rank || q.lost() != nil {
				continue
			}
			q.wmu.Lock()
			q.conn.SetWriteDeadline(time.Now().Add(min(t.timeout, 5*time.Second)))
			q.conn.Write(frame)
			q.wmu.Unlock()
		}
	})
}

func (p *peer) readCause(err error, midFrame bool) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("silent for more than %v: %w", p.t.timeout, err)
	case err == io.EOF && !midFrame:
		return errors.New("connection closed without goodbye (process died?)")
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return fmt.Errorf("connection closed in the middle of a frame: %w", io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("connection failed: %w", err)
}

func (p *peer) writeCause(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("not reading: a write made no progress for %v: %w", p.t.timeout, err)
	}
	return fmt.Errorf("connection failed while sending: %w", err)
}

// readFrame reads the next frame; any error is already a loss.
func (p *peer) readFrame() (wire.Header, []byte, error) {
	p.conn.SetReadDeadline(time.Now().Add(p.t.timeout))
	if n, err := io.ReadFull(p.br, p.hdr[:]); err != nil {
		return wire.Header{}, nil, p.t.lose(p, p.readCause(err, n > 0))
	}
	h, err := wire.ParseHeader(p.hdr[:])
	if err != nil {
		return wire.Header{}, nil, p.t.lose(p, fmt.Errorf("bad frame: %w", err))
	}
	payload, err := p.readPayload(h.N)
	if err != nil {
		return wire.Header{}, nil, p.t.lose(p, p.readCause(err, true))
	}
	return h, payload, nil
}

// readPayload reads n bytes into the reusable read buffer, growing it only
// as data actually arrives, and refreshing the deadline for each chunk.
func (p *peer) readPayload(n int) ([]byte, error) {
	buf := p.rbuf[:0]
	for len(buf) < n {
		want := min(n, len(buf)+readChunk)
		if want > cap(buf) {
			nb := make([]byte, len(buf), min(n, max(want, 2*cap(buf))))
			copy(nb, buf)
			buf = nb
		}
		if len(buf) > 0 {
			p.conn.SetReadDeadline(time.Now().Add(p.t.timeout))
		}
		k, err := io.ReadFull(p.br, buf[len(buf):want])
		buf = buf[:len(buf)+k]
		if err != nil {
			p.rbuf = buf[:0]
			return nil, err
		}
	}
	p.rbuf = buf[:0]
	return buf, nil
}

// writeAll writes b, allowing each write Timeout to make progress.
func (p *peer) writeAll(b []byte) error {
	for len(b) > 0 {
		p.conn.SetWriteDeadline(time.Now().Add(p.t.timeout))
		n, err := p.conn.Write(b)
		b = b[n:]
		if err != nil && !(n > 0 && errors.Is(err, os.ErrDeadlineExceeded)) {
			return err
		}
	}
	return nil
}

func (t *Comm) check(op string, other int) error {
	switch t.state.Load() {
	case stateNew, stateJoining:
		return fmt.Errorf("collective: tcp rank %d %s: %w", t.cfg.Rank, op, collective.ErrNotInitialized)
	case stateFinalized:
		return fmt.Errorf("collective: tcp rank %d %s: %w", t.cfg.Rank, op, collective.ErrFinalized)
	}
	if other < 0 || other >= t.cfg.Size {
		return fmt.Errorf("collective: tcp rank %d %s rank %d: out of range [0, %d)", t.cfg.Rank, op, other, t.cfg.Size)
	}
	return nil
}

func (t *Comm) route(op string, other int) (*peer, error) {
	p := t.peers[other]
	if p == nil {
		return nil, fmt.Errorf("collective: tcp rank %d %s rank %d: %w", t.cfg.Rank, op, other, collective.ErrNoRoute)
	}
	return p, nil
}

// Send writes data to rank dest as one frame (see AppendFrame for the types
// with binary fast paths). It returns once the frame is handed to the
// kernel; a lost destination yields a *RankLostError.
func (t *Comm) Send(data any, dest, tag int) error {
	m, err := wire.ForSend(data)
	if err != nil {
		return fmt.Errorf("collective: tcp rank %d send to %d: %w", t.cfg.Rank, dest, err)
	}
	return t.SendMsg(m, dest, tag)
}

// Receive waits for the frame with the tag from rank src and decodes it into
// data (see DecodeFrame). Frames with other tags that arrive first are kept
// for later Receives.
func (t *Comm) Receive(data any, src, tag int) error {
	m, err := wire.ForReceive(data)
	if err != nil {
		return fmt.Errorf("collective: tcp rank %d receive from %d: %w", t.cfg.Rank, src, err)
	}
	return t.RecvMsg(m, src, tag)
}

func (t *Comm) SendMsg(m wire.Msg, dest, tag int) error {
	if err := t.check("send to", dest); err != nil {
		return err
	}
	tg, err := wire.CheckTag(tag)
	if err != nil {
		return fmt.Errorf("collective: tcp rank %d send to %d: %w", t.cfg.Rank, dest, err)
	}
	if dest == t.cfg.Rank {
		return t.sendSelf(m, tg)
	}
	p, err := t.route("send to", dest)
	if err != nil {
		return err
	}
	if e := p.lost(); e != nil {
		return e
	}
	p.wmu.Lock()
	p.wbuf, err = wire.AppendMsg(p.wbuf[:0], &m, tg)
	if err != nil {
		p.wmu.Unlock()
		return fmt.Errorf("collective: tcp rank %d send to %d: %w", t.cfg.Rank, dest, err)
	}
	n := len(p.wbuf)
	werr := p.writeAll(p.wbuf)
	p.wmu.Unlock()
	if werr != nil {
		return t.lose(p, p.writeCause(werr))
	}
	t.sent.Add(int64(n))
	return nil
}

func (t *Comm) BcastMsg(m wire.Msg, tag int) error {
	if t.cfg.Rank != 0 {
		return fmt.Errorf("collective: tcp rank %d: broadcast is rooted at rank 0", t.cfg.Rank)
	}
	if err := t.check("broadcast to", 0); err != nil {
		return err
	}
	tg, err := wire.CheckTag(tag)
	if err != nil {
		return fmt.Errorf("collective: tcp rank 0 broadcast: %w", err)
	}
	t.bmu.Lock()
	defer t.bmu.Unlock()
	t.bbuf, err = wire.AppendMsg(t.bbuf[:0], &m, tg)
	if err != nil {
		return fmt.Errorf("collective: tcp rank 0 broadcast: %w", err)
	}
	for _, p := range t.peers[1:] {
		if e := p.lost(); e != nil {
			return e
		}
		p.wmu.Lock()
		werr := p.writeAll(t.bbuf)
		p.wmu.Unlock()
		if werr != nil {
			return t.lose(p, p.writeCause(werr))
		}
		t.sent.Add(int64(len(t.bbuf)))
	}
	return nil
}

func (t *Comm) RecvMsg(m wire.Msg, src, tag int) error {
	if err := t.check("receive from", src); err != nil {
		return err
	}
	tg, err := wire.CheckTag(tag)
	if err != nil {
		return fmt.Errorf("collective: tcp rank %d receive from %d: %w", t.cfg.Rank, src, err)
	}
	if src == t.cfg.Rank {
		return t.recvSelf(m, tg)
	}
	p, err := t.route("receive from", src)
	if err != nil {
		return err
	}
	p.rmu.Lock()
	defer p.rmu.Unlock()
	for i, s := range p.stash {
		if s.tag == tg {
			p.stash = slices.Delete(p.stash, i, i+1)
			return t.decoded(wire.DecodePayload(s.kind, s.data, &m), src, tag)
		}
	}
	if e := p.lost(); e != nil {
		return e
	}
	for {
		h, payload, err := p.readFrame()
		if err != nil {
			return err
		}
		switch h.Kind {
		case wire.KindHeartbeat:
			continue
		case wire.KindGoodbye:
			return t.lose(p, collective.ErrPeerLeft)
		case wire.KindAbort:
			r, host, cause, err := wire.ParseAbort(payload)
			if err != nil {
				return t.lose(p, fmt.Errorf("bad abort frame: %w", err))
			}
			e, _ := p.setLost(&collective.RankLostError{Rank: r, Host: host,
				Cause: fmt.Errorf("reported by rank %d (host %s): %s", p.rank, p.host, cause)})
			return e
		case wire.KindSparse, wire.KindFloat64s, wire.KindBytes, wire.KindGob:
		default:
			return t.lose(p, fmt.Errorf("unexpected %s frame", wire.KindName(h.Kind)))
		}
		t.recvd.Add(int64(wire.HeaderSize + h.N))
		if h.Tag != tg {
			if len(p.stash) >= mailbox.MaxStash {
				return fmt.Errorf("collective: tcp rank %d receive from %d: more than %d unexpected messages while waiting for tag %d", t.cfg.Rank, src, mailbox.MaxStash, tag)
			}
			p.stash = append(p.stash, stashedFrame{kind: h.Kind, tag: h.Tag, data: slices.Clone(payload)})
			continue
		}
		return t.decoded(wire.DecodePayload(h.Kind, payload, &m), src, tag)
	}
}

func (t *Comm) decoded(err error, src, tag int) error {
	if err != nil {
		return fmt.Errorf("collective: tcp rank %d receive from %d (tag %d): %w", t.cfg.Rank, src, tag, err)
	}
	return nil
}

func (t *Comm) sendSelf(m wire.Msg, tg int32) error {
	buf, err := wire.AppendMsg(t.self.Buffer(), &m, tg)
	if err != nil {
		t.self.Recycle(buf)
		return fmt.Errorf("collective: tcp rank %d send to itself: %w", t.cfg.Rank, err)
	}
	select {
	case t.self.Q <- buf:
		return nil
	case <-t.done:
		return fmt.Errorf("collective: tcp rank %d send to itself: %w", t.cfg.Rank, collective.ErrFinalized)
	}
}

func (t *Comm) recvSelf(m wire.Msg, tg int32) error {
	t.selfR.Lock()
	defer t.selfR.Unlock()
	f, ok := t.self.TakeStashed(tg)
	for !ok {
		select {
		case f = <-t.self.Q:
		case <-t.done:
			return fmt.Errorf("collective: tcp rank %d receive from itself: %w", t.cfg.Rank, collective.ErrFinalized)
		}
		if wire.FrameTag(f) == tg {
			break
		}
		if len(t.self.Stash) >= mailbox.MaxStash {
			t.self.Recycle(f)
			return fmt.Errorf("collective: tcp rank %d receive from itself: more than %d unexpected messages", t.cfg.Rank, mailbox.MaxStash)
		}
		t.self.Stash = append(t.self.Stash, f)
	}
	err := wire.DecodePayload(f[2], f[wire.HeaderSize:], &m)
	t.self.Recycle(f)
	return t.decoded(err, t.cfg.Rank, int(tg))
}

// Finalize ends the rank: it stops the heartbeats, sends every peer a
// goodbye, waits up to Timeout for theirs, and closes the connections. It
// never fails; calling it again does nothing.
func (t *Comm) Finalize() {
	prev := t.state.Swap(stateFinalized)
	if prev == stateFinalized {
		return
	}
	close(t.done)
	if t.ln != nil {
		t.ln.Close()
	}
	if prev != stateRunning {
		return
	}
	close(t.hbStop)
	t.hbWG.Wait()
	deadline := time.Now().Add(t.timeout)
	goodbye := wire.AppendControl(nil, wire.KindGoodbye, nil)
	for _, p := range t.peers {
		if p == nil {
			continue
		}
		p.wmu.Lock()
		p.conn.SetWriteDeadline(deadline)
		p.conn.Write(goodbye)
		p.conn.CloseWrite()
		p.wmu.Unlock()
	}
	for _, p := range t.peers {
		if p == nil {
			continue
		}
		// Read what is left (heartbeats, the goodbye) until the peer closes
		// its side, so that our close does not reset unread data.
		p.conn.SetReadDeadline(deadline)
		p.rmu.Lock()
		io.Copy(io.Discard, p.br)
		p.rmu.Unlock()
		p.conn.Close()
	}
}
