// Package collective moves the messages of an efmpi job between ranks.
//
// A rank is a value of type Comm: github.com/btracey/mpi's Interface (Init,
// Rank, Size, Send, Receive, Finalize) plus byte counters and the name of its
// transport. This package holds what is the same on every transport: Comm,
// the typed Collectives, the package-level collectives, TreeSum, Traffic,
// RankLostError and the sentinel errors, and Star, the collectives over any
// Comm's point-to-point messages. The transports live in packages of their
// own, which import this one (never the reverse):
//
//   - collective/inproc (inproc.NewWorld): n goroutine ranks in one process,
//     the default;
//   - collective/tcp (tcp.New): one rank per process (or per goroutine in
//     tests) over TCP in a star around rank 0, with length-prefixed binary
//     frames, a per-job shared secret checked by HMAC-SHA256
//     challenge–response in both directions, heartbeats and deadlines so
//     that a dead or silent peer is reported as a *RankLostError within the
//     configured timeout, and a goodbye frame so that a normal end is told
//     apart from a loss;
//   - collective/mpi (build tag mpi): one rank per MPI process;
//   - collective/btracey (btracey.New): btracey/mpi's own gob-based Network,
//     kept for comparison only.
//
// The frame format they share is package collective/wire.
//
// The collectives the driver uses form one typed interface, Collectives
// (AggregateSparse, GatherSparse, BroadcastSparse, BroadcastDense, Reduce,
// Allreduce, Barrier), which the inproc, tcp and mpi transports implement
// directly; Of adapts any other Comm with a Star over its point-to-point
// messages, and the package-level functions of the same names call Of. A
// Comm may offer the optional fast path MsgComm (messages as wire.Msg
// values, not boxed in interfaces), which Star uses. Results are bitwise
// reproducible and the same on every transport: the sparse aggregate is the
// caller's SumFunc over the messages in rank order; dense sums add in the
// fixed tree order of TreeSum. The in-process world runs its collectives
// (all but the gather) through shared memory: the last rank to arrive
// computes the result once and every rank copies it, so a world of
// thousands of goroutine ranks costs O(n) per collective, not O(n²). TCP
// runs them as a star around rank 0, where its connections go. Nothing is
// allocated per call once buffers have grown.
//
// # Wire format
//
// Every message is one frame of the format of package collective/wire: a
// wire.HeaderSize-byte header followed by the payload.
//
// # Byte counters
//
// BytesSent and BytesReceived count the data frames (header included) a
// rank writes to and reads from its peers — exactly the bytes Send and
// Receive put on or take off the socket for messages. Connection set-up
// (handshake), heartbeat, goodbye and abort frames are control traffic and
// are not counted, nor are messages a rank sends to itself. The in-process
// transport counts the frames that pass through its mailboxes (its
// shared-memory collectives move none); btracey reports the efmpi frame
// size, not the gob bytes it really writes. The transport-neutral measure
// of a collective's payload is Traffic, which the trajectory records.
package collective
