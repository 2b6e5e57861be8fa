package collective

import (
	"errors"
	"fmt"
	"time"

	"github.com/btracey/mpi"

	"github.com/efmpi/efmpi/collective/wire"
)

// DefaultTimeout is the timeout of the network transports (tcp, btracey)
// when none is configured.
const DefaultTimeout = 30 * time.Second

// Comm is what the collectives and the driver use: one rank's view of a
// world, with btracey/mpi's Interface for messages plus wire accounting.
type Comm interface {
	mpi.Interface
	// BytesSent is the number of bytes of data frames, headers included, this
	// rank has written to other ranks (see the package documentation).
	BytesSent() int64
	// BytesReceived is the number of bytes of data frames, headers included,
	// this rank has read from other ranks.
	BytesReceived() int64
	// Transport names the transport: "inproc", "tcp", "mpi" or "btracey".
	Transport() string
}

// Sentinel errors, matched with errors.Is.
var (
	// ErrPeerLeft is the cause in a RankLostError when the peer finalized
	// (said goodbye) while this rank still expected a message from it.
	ErrPeerLeft = errors.New("peer finalized and left the job while a message was expected")
	// ErrFinalized is returned by Send and Receive after Finalize.
	ErrFinalized = errors.New("communicator finalized")
	// ErrNotInitialized is returned by Send and Receive before Init.
	ErrNotInitialized = errors.New("communicator not initialized (call Init)")
	// ErrNoRoute is returned by the tcp transport for a message between two
	// non-zero ranks: its connections form a star around rank 0.
	ErrNoRoute = errors.New("tcp transport connects every rank to rank 0 only")
)

// RankLostError reports that a peer rank died, went silent for longer than
// the timeout, closed its connection without saying goodbye, sent garbage,
// or left the job early. Rank 0 forwards the first loss it sees to the other
// ranks, so every surviving rank names the rank that was lost.
type RankLostError struct {
	Rank  int    // the lost rank
	Host  string // its host name, as it reported it when it joined
	Cause error  // what was observed
}

// Error formats the loss as "rank R (host H) lost: cause".
func (e *RankLostError) Error() string {
	return fmt.Sprintf("rank %d (host %s) lost: %v", e.Rank, e.Host, e.Cause)
}

// Unwrap returns the cause.
func (e *RankLostError) Unwrap() error { return e.Cause }

// MsgComm is an optional fast path a Comm may implement: it takes messages
// as wire.Msg values, not boxed into interfaces, so that the star collectives
// (Star, Of) allocate nothing per call. The in-process and TCP transports
// implement it.
type MsgComm interface {
	// SendMsg sends m to rank dest with the tag, as Send would.
	SendMsg(m wire.Msg, dest, tag int) error
	// RecvMsg receives the message with the tag from rank src into m, as
	// Receive would.
	RecvMsg(m wire.Msg, src, tag int) error
	// BcastMsg sends m from rank 0 to ranks 1, …, n−1 in order.
	BcastMsg(m wire.Msg, tag int) error
}
