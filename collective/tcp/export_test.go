package tcp

import "net"

// Hooks into the transport's internals for the external tests.

// SetWorld changes the rank and size a Comm claims, past New's checks.
func SetWorld(t *Comm, rank, size int) { t.cfg.Rank, t.cfg.Size = rank, size }

// PeerConn returns the connection to rank r.
func PeerConn(t *Comm, r int) *net.TCPConn { return t.peers[r].conn }

// SetSilent stops t's heartbeats, as in a hung process.
func SetSilent(t *Comm) { t.silent = true }

// WriteControl and ReadControl are the handshake's frame helpers.
var (
	WriteControl = writeControl
	ReadControl  = readControl
)
