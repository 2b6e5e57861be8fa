// Package mailbox holds the in-memory frame queues of the in-process
// transport, which the tcp transport also uses for a rank's messages to
// itself.
package mailbox

import (
	"sync"

	"github.com/efmpi/efmpi/collective/wire"
)

// mailboxDepth is how many frames may wait in one in-memory mailbox before
// Send blocks.
const mailboxDepth = 16

// MaxStash bounds the frames a receiver holds aside while it waits for a
// different tag from the same source.
const MaxStash = 64

// Mailbox carries frames from one rank to another in memory. Frames are
// encoded into buffers recycled through free, so steady-state traffic does
// not allocate and the sender may reuse its data as soon as Send returns.
type Mailbox struct {
	Q    chan []byte
	free chan []byte
	// Stash holds frames taken off Q whose tag nobody was waiting for yet.
	// Guarded by the receiver's lock.
	Stash [][]byte
	// RMu admits one receiver at a time.
	RMu sync.Mutex
}

// New returns an empty mailbox.
func New() *Mailbox {
	return &Mailbox{Q: make(chan []byte, mailboxDepth), free: make(chan []byte, mailboxDepth+2)}
}

// Buffer returns a recycled buffer (length 0) or nil.
func (mb *Mailbox) Buffer() []byte {
	select {
	case b := <-mb.free:
		return b[:0]
	default:
		return nil
	}
}

// Recycle returns a frame's buffer for reuse.
func (mb *Mailbox) Recycle(b []byte) {
	select {
	case mb.free <- b:
	default:
	}
}

// TakeStashed removes and returns the first stashed frame with the tag.
func (mb *Mailbox) TakeStashed(tag int32) ([]byte, bool) {
	for i, f := range mb.Stash {
		if wire.FrameTag(f) == tag {
			copy(mb.Stash[i:], mb.Stash[i+1:])
			mb.Stash[len(mb.Stash)-1] = nil
			mb.Stash = mb.Stash[:len(mb.Stash)-1]
			return f, true
		}
	}
	return nil, false
}
