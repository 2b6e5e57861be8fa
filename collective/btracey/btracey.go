// Package btracey adapts github.com/btracey/mpi's own TCP Network to
// collective.Comm, so that it can be selected by name ("btracey") and
// compared with efmpi's transports; see Comm.
package btracey

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/btracey/mpi"

	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/wire"
)

// btraceyGrace is how long Finalize waits before closing btracey's
// connections; see Comm.
const btraceyGrace = 100 * time.Millisecond

// Comm wraps github.com/btracey/mpi's own TCP Network (all-to-all
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
type Comm struct {
	nw    *mpi.Network
	rank  int
	size  int
	toB   []int // our rank → btracey's rank (its ranks follow sorted addresses)
	sent  atomic.Int64
	recvd atomic.Int64
}

// New returns rank rank of a btracey world whose rank r listens on
// addrs[r] (host:port, all distinct). The secret becomes btracey's password
// (hashed first, because btracey sends it in clear); timeout bounds Init
// (0 means DefaultTimeout).
func New(addrs []string, rank int, secret []byte, timeout time.Duration) (*Comm, error) {
	n := len(addrs)
	if n == 0 {
		return nil, fmt.Errorf("collective: btracey: no addresses")
	}
	if rank < 0 || rank >= n {
		return nil, fmt.Errorf("collective: btracey: rank %d out of range [0, %d)", rank, n)
	}
	if timeout == 0 {
		timeout = collective.DefaultTimeout
	}
	sorted := slices.Clone(addrs)
	sort.Strings(sorted)
	for i := 1; i < n; i++ {
		if sorted[i] == sorted[i-1] {
			return nil, fmt.Errorf("collective: btracey: address %s listed twice", sorted[i])
		}
	}
	b := &Comm{rank: rank, size: n, toB: make([]int, n)}
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
func (b *Comm) Init() error {
	if err := b.nw.Init(); err != nil {
		return fmt.Errorf("collective: btracey rank %d init: %w", b.rank, err)
	}
	return nil
}

// Finalize closes the connections after a short grace period (see Comm).
func (b *Comm) Finalize() {
	time.Sleep(btraceyGrace)
	b.nw.Finalize()
}

// Rank returns this rank's number.
func (b *Comm) Rank() int { return b.rank }

// Size returns the number of ranks.
func (b *Comm) Size() int { return b.size }

// BytesSent returns the efmpi frame size of the messages sent to others.
func (b *Comm) BytesSent() int64 { return b.sent.Load() }

// BytesReceived returns the efmpi frame size of the messages received from
// others.
func (b *Comm) BytesReceived() int64 { return b.recvd.Load() }

// Transport returns "btracey".
func (b *Comm) Transport() string { return "btracey" }

// Send gob-encodes data and sends it to rank dest through btracey's Network,
// which waits for the receiver's acknowledgement.
func (b *Comm) Send(data any, dest, tag int) error {
	if dest < 0 || dest >= b.size {
		return fmt.Errorf("collective: btracey rank %d send to rank %d: out of range [0, %d)", b.rank, dest, b.size)
	}
	m, err := wire.ForSend(data)
	if err != nil {
		return fmt.Errorf("collective: btracey rank %d send to %d: %w", b.rank, dest, err)
	}
	size, err := wire.FrameSize(&m)
	if err != nil {
		return fmt.Errorf("collective: btracey rank %d send to %d: %w", b.rank, dest, err)
	}
	if m.Kind == wire.MsgSparse && len(m.Vec.Idx) != len(m.Vec.Val) {
		return fmt.Errorf("collective: btracey rank %d send to %d: sparse vector has %d indices but %d values", b.rank, dest, len(m.Vec.Idx), len(m.Vec.Val))
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
func (b *Comm) Receive(data any, src, tag int) error {
	if src < 0 || src >= b.size {
		return fmt.Errorf("collective: btracey rank %d receive from rank %d: out of range [0, %d)", b.rank, src, b.size)
	}
	m, err := wire.ForReceive(data)
	if err != nil {
		return fmt.Errorf("collective: btracey rank %d receive from %d: %w", b.rank, src, err)
	}
	fail := func(err error) error {
		return fmt.Errorf("collective: btracey rank %d receive from %d (tag %d): %w", b.rank, src, tag, err)
	}
	var size int
	switch m.Kind {
	case wire.MsgSparse:
		// gob leaves fields it does not transmit (zero values) untouched.
		m.Vec.Reset(0)
		if err := b.nw.Receive(m.Vec, b.toB[src], tag); err != nil {
			return fail(err)
		}
		if err := m.Vec.Validate(); err != nil {
			return fail(err)
		}
		size = wire.SparseFrameSize(m.Vec.Len())
	case wire.MsgDense:
		tmp := m.F[:0]
		if err := b.nw.Receive(&tmp, b.toB[src], tag); err != nil {
			return fail(err)
		}
		if len(tmp) != len(m.F) {
			return fail(fmt.Errorf("dense length mismatch: message has %d values, receiver expects %d", len(tmp), len(m.F)))
		}
		copy(m.F, tmp)
		size = wire.DenseFrameSize(len(m.F))
	case wire.MsgDensePtr:
		*m.FP = (*m.FP)[:0]
		if err := b.nw.Receive(m.FP, b.toB[src], tag); err != nil {
			return fail(err)
		}
		size = wire.DenseFrameSize(len(*m.FP))
	case wire.MsgBytes:
		tmp := m.B[:0]
		if err := b.nw.Receive(&tmp, b.toB[src], tag); err != nil {
			return fail(err)
		}
		if len(tmp) != len(m.B) {
			return fail(fmt.Errorf("byte length mismatch: message has %d bytes, receiver expects %d", len(tmp), len(m.B)))
		}
		copy(m.B, tmp)
		size = wire.BytesFrameSize(len(m.B))
	case wire.MsgBytesPtr:
		*m.BP = (*m.BP)[:0]
		if err := b.nw.Receive(m.BP, b.toB[src], tag); err != nil {
			return fail(err)
		}
		size = wire.BytesFrameSize(len(*m.BP))
	default:
		if err := b.nw.Receive(data, b.toB[src], tag); err != nil {
			return fail(err)
		}
		if size, err = wire.FrameSize(&m); err != nil {
			return fail(err)
		}
	}
	if src != b.rank {
		b.recvd.Add(int64(size))
	}
	return nil
}
