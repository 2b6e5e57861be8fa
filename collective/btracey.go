package collective

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/btracey/mpi"
)

// btraceyGrace is how long Finalize waits before closing btracey's
// connections; see Btracey.
const btraceyGrace = 100 * time.Millisecond

// Btracey wraps github.com/btracey/mpi's own TCP Network (all-to-all
// connections, gob encoding, a password compared in clear) so that it can be
// selected by name ("btracey") and compared with the other transports. It is
// not meant for production runs: it is slow, it panics in its own goroutines
// when a connection fails, and it reports no lost rank.
//
// Differences from the other transports:
//   - the byte counters do not see btracey's sockets: they count the size the
//     same messages have as efmpi frames (what inproc and tcp count), not the
//     gob bytes btracey actually writes;
//   - Finalize waits 100 ms before closing, because btracey acknowledges
//     each received message from a goroutine of its own that panics if the
//     connection is closed under it;
//   - a world of one rank leaks btracey's listener.
//
// Btracey's package registers flags (-mpi-addr, …) on flag.CommandLine when
// it is imported; they are ignored here because every field is set.
type Btracey struct {
	nw    *mpi.Network
	rank  int
	size  int
	toB   []int // our rank → btracey's rank (its ranks follow sorted addresses)
	sent  atomic.Int64
	recvd atomic.Int64
}

// NewBtracey returns rank rank of a btracey world whose rank r listens on
// addrs[r] (host:port, all distinct). The secret becomes btracey's password
// (hashed first, because btracey sends it in clear); timeout bounds Init
// (0 means DefaultTimeout).
func NewBtracey(addrs []string, rank int, secret []byte, timeout time.Duration) (*Btracey, error) {
	n := len(addrs)
	if n == 0 {
		return nil, fmt.Errorf("collective: btracey: no addresses")
	}
	if rank < 0 || rank >= n {
		return nil, fmt.Errorf("collective: btracey: rank %d out of range [0, %d)", rank, n)
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	sorted := slices.Clone(addrs)
	sort.Strings(sorted)
	for i := 1; i < n; i++ {
		if sorted[i] == sorted[i-1] {
			return nil, fmt.Errorf("collective: btracey: address %s listed twice", sorted[i])
		}
	}
	b := &Btracey{rank: rank, size: n, toB: make([]int, n)}
	for r, a := range addrs {
		b.toB[r] = sort.SearchStrings(sorted, a)
	}
	sum := sha256.Sum256(append([]byte("efmpi btracey password\x00"), secret...))
	b.nw = &mpi.Network{
		NetProto: "tcp",
		Addr:     addrs[rank],
		Addrs:    slices.Clone(addrs),
		Timeout:  timeout,
		Password: hex.EncodeToString(sum[:]),
	}
	return b, nil
}

// Init connects to every other rank.
func (b *Btracey) Init() error {
	if err := b.nw.Init(); err != nil {
		return fmt.Errorf("collective: btracey rank %d init: %w", b.rank, err)
	}
	return nil
}

// Finalize closes the connections after a short grace period (see Btracey).
func (b *Btracey) Finalize() {
	time.Sleep(btraceyGrace)
	b.nw.Finalize()
}

// Rank returns this rank's number.
func (b *Btracey) Rank() int { return b.rank }

// Size returns the number of ranks.
func (b *Btracey) Size() int { return b.size }

// BytesSent returns the efmpi frame size of the messages sent to others.
func (b *Btracey) BytesSent() int64 { return b.sent.Load() }

// BytesReceived returns the efmpi frame size of the messages received from
// others.
func (b *Btracey) BytesReceived() int64 { return b.recvd.Load() }

// Transport returns "btracey".
func (b *Btracey) Transport() string { return "btracey" }

// Send gob-encodes data and sends it to rank dest through btracey's Network,
// which waits for the receiver's acknowledgement.
func (b *Btracey) Send(data any, dest, tag int) error {
	if dest < 0 || dest >= b.size {
		return fmt.Errorf("collective: btracey rank %d send to rank %d: out of range [0, %d)", b.rank, dest, b.size)
	}
	m, err := sendMsgOf(data)
	if err != nil {
		return fmt.Errorf("collective: btracey rank %d send to %d: %w", b.rank, dest, err)
	}
	size, err := frameSize(&m)
	if err != nil {
		return fmt.Errorf("collective: btracey rank %d send to %d: %w", b.rank, dest, err)
	}
	if m.k == mSparse && len(m.sv.Idx) != len(m.sv.Val) {
		return fmt.Errorf("collective: btracey rank %d send to %d: sparse vector has %d indices but %d values", b.rank, dest, len(m.sv.Idx), len(m.sv.Val))
	}
	if err := b.nw.Send(data, b.toB[dest], tag); err != nil {
		return fmt.Errorf("collective: btracey rank %d send to %d: %w", b.rank, dest, err)
	}
	if dest != b.rank {
		b.sent.Add(int64(size))
	}
	return nil
}

// Receive receives from rank src through btracey's Network and gob-decodes
// into data, with the same destination rules as the other transports
// (fixed-length slices must match, sparse vectors are validated).
func (b *Btracey) Receive(data any, src, tag int) error {
	if src < 0 || src >= b.size {
		return fmt.Errorf("collective: btracey rank %d receive from rank %d: out of range [0, %d)", b.rank, src, b.size)
	}
	m, err := recvMsgOf(data)
	if err != nil {
		return fmt.Errorf("collective: btracey rank %d receive from %d: %w", b.rank, src, err)
	}
	fail := func(err error) error {
		return fmt.Errorf("collective: btracey rank %d receive from %d (tag %d): %w", b.rank, src, tag, err)
	}
	var size int
	switch m.k {
	case mSparse:
		// gob leaves fields it does not transmit (zero values) untouched.
		m.sv.Reset(0)
		if err := b.nw.Receive(m.sv, b.toB[src], tag); err != nil {
			return fail(err)
		}
		if err := m.sv.Validate(); err != nil {
			return fail(err)
		}
		size = SparseFrameSize(m.sv.Len())
	case mDense:
		tmp := m.f[:0]
		if err := b.nw.Receive(&tmp, b.toB[src], tag); err != nil {
			return fail(err)
		}
		if len(tmp) != len(m.f) {
			return fail(fmt.Errorf("dense length mismatch: message has %d values, receiver expects %d", len(tmp), len(m.f)))
		}
		copy(m.f, tmp)
		size = DenseFrameSize(len(m.f))
	case mDensePtr:
		*m.fp = (*m.fp)[:0]
		if err := b.nw.Receive(m.fp, b.toB[src], tag); err != nil {
			return fail(err)
		}
		size = DenseFrameSize(len(*m.fp))
	case mBytes:
		tmp := m.b[:0]
		if err := b.nw.Receive(&tmp, b.toB[src], tag); err != nil {
			return fail(err)
		}
		if len(tmp) != len(m.b) {
			return fail(fmt.Errorf("byte length mismatch: message has %d bytes, receiver expects %d", len(tmp), len(m.b)))
		}
		copy(m.b, tmp)
		size = BytesFrameSize(len(m.b))
	case mBytesPtr:
		*m.bp = (*m.bp)[:0]
		if err := b.nw.Receive(m.bp, b.toB[src], tag); err != nil {
			return fail(err)
		}
		size = BytesFrameSize(len(*m.bp))
	default:
		if err := b.nw.Receive(data, b.toB[src], tag); err != nil {
			return fail(err)
		}
		if size, err = frameSize(&m); err != nil {
			return fail(err)
		}
	}
	if src != b.rank {
		b.recvd.Add(int64(size))
	}
	return nil
}
