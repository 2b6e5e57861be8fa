package collective

import (
	"sync"

	"github.com/efmpi/efmpi/collective/wire"
)

// mailboxDepth is how many frames may wait in one in-memory mailbox before
// Send blocks.
const mailboxDepth = 16

// maxStash bounds the frames a receiver holds aside while it waits for a
// different tag from the same source.
const maxStash = 64

// mailbox carries frames from one rank to another in memory. Frames are
// encoded into buffers recycled through free, so steady-state traffic does
// not allocate and the sender may reuse its data as soon as Send returns.
type mailbox struct {
	q    chan []byte
	free chan []byte
	// stash holds frames taken off q whose tag nobody was waiting for yet.
	// Guarded by the receiver's lock.
	stash [][]byte
	// rmu admits one receiver at a time.
	rmu sync.Mutex
}

func newMailbox() *mailbox {
	return &mailbox{q: make(chan []byte, mailboxDepth), free: make(chan []byte, mailboxDepth+2)}
}

// buffer returns a recycled buffer (length 0) or nil.
func (mb *mailbox) buffer() []byte {
	select {
	case b := <-mb.free:
		return b[:0]
	default:
		return nil
	}
}

// recycle returns a frame's buffer for reuse.
func (mb *mailbox) recycle(b []byte) {
	select {
	case mb.free <- b:
	default:
	}
}

// takeStashed removes and returns the first stashed frame with the tag.
func (mb *mailbox) takeStashed(tag int32) ([]byte, bool) {
	for i, f := range mb.stash {
		if wire.FrameTag(f) == tag {
			copy(mb.stash[i:], mb.stash[i+1:])
			mb.stash[len(mb.stash)-1] = nil
			mb.stash = mb.stash[:len(mb.stash)-1]
			return f, true
		}
	}
	return nil, false
}
