package collective

import (
	"errors"
	"fmt"

	"github.com/btracey/mpi"
)

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

// wire is implemented by the transports that take messages without boxing
// them into interfaces (Inproc and TCP); the collectives use it so that they
// allocate nothing per call.
type wire interface {
	sendMsg(m msg, dest, tag int) error
	recvMsg(m msg, src, tag int) error
	// bcastMsg sends m from rank 0 to ranks 1, …, n−1 in order.
	bcastMsg(m msg, tag int) error
}
