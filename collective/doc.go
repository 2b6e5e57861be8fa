// Package collective moves the messages of an efmpi job between ranks.
//
// A rank is a value of type Comm: github.com/btracey/mpi's Interface (Init,
// Rank, Size, Send, Receive, Finalize) plus byte counters and the name of its
// transport. Three transports of this package implement it, and a fourth,
// mpi, lives in collective/mpi (build tag mpi):
//
//   - inproc (NewInprocWorld): n goroutine ranks in one process, the default;
//   - tcp (NewTCP): one rank per process (or per goroutine in tests) over TCP
//     in a star around rank 0, with length-prefixed binary frames, a per-job
//     shared secret checked by HMAC-SHA256 challenge–response in both
//     directions, heartbeats and deadlines so that a dead or silent peer is
//     reported as a *RankLostError within the configured timeout, and a
//     goodbye frame so that a normal end is told apart from a loss;
//   - btracey (NewBtracey): btracey/mpi's own gob-based Network, kept for
//     comparison only.
//
// The collectives the driver uses form one typed interface, Collectives
// (AggregateSparse, GatherSparse, BroadcastSparse, BroadcastDense, Reduce,
// Allreduce, Barrier), which Inproc and TCP implement directly, as does the
// MPI transport of package collective/mpi; Of adapts any other Comm over
// its point-to-point messages, and the package-level functions of the same
// names call Of. Results are bitwise reproducible and the same on every
// transport: the sparse aggregate is the caller's SumFunc over the messages
// in rank order; dense sums add in the fixed tree order of TreeSum. The
// in-process world runs its collectives (all but the gather) through shared
// memory: the last rank to arrive computes the result once and every rank
// copies it, so a world of thousands of goroutine ranks costs O(n) per
// collective, not O(n²). TCP runs them as a star around rank 0, where its
// connections go. Nothing is allocated per call once buffers have grown.
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
