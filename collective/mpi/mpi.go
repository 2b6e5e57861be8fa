//go:build mpi

package mpi

/*
#include <mpi.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

// Every helper refuses to run off the thread that called MPI_Init_thread
// (MPI_THREAD_FUNNELED): EFMPI_NOT_MAIN instead of undefined behaviour.
#define EFMPI_NOT_MAIN (-77)
#define MAIN_ONLY do { int m_ = 0; MPI_Is_thread_main(&m_); if (!m_) return EFMPI_NOT_MAIN; } while (0)

// The threads the library starts in MPI_Init_thread (progress threads of
// UCX, PMIx, …) inherit the signal mask of the calling thread: with the
// signals Go handles blocked during the call, those arrive only at Go's
// threads. And the handlers the library installs for them are undone
// afterwards: MPICH sets its own SIGUSR1 handler (Hydra's fault
// notification) without SA_ONSTACK, and a SIGUSR1 forwarded by mpiexec then
// killed the process ("non-Go code set up signal handler without
// SA_ONSTACK flag"); Open MPI may set SIGSEGV/SIGBUS handlers for
// backtraces, which would turn Go's panics into crashes.
static const int efmpi_go_signals[] = {SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP, SIGPIPE, SIGURG,
	SIGSEGV, SIGBUS, SIGFPE, SIGILL};
#define EFMPI_NSIG (sizeof efmpi_go_signals / sizeof efmpi_go_signals[0])

static int efmpi_init(int *provided) {
	int flag = 0;
	MPI_Initialized(&flag);
	if (!flag) {
		sigset_t block, old;
		struct sigaction saved[EFMPI_NSIG];
		sigemptyset(&block);
		for (size_t i = 0; i < EFMPI_NSIG; i++) {
			sigaction(efmpi_go_signals[i], NULL, &saved[i]);
			if (efmpi_go_signals[i] != SIGSEGV && efmpi_go_signals[i] != SIGBUS &&
			    efmpi_go_signals[i] != SIGFPE && efmpi_go_signals[i] != SIGILL)
				sigaddset(&block, efmpi_go_signals[i]);
		}
		pthread_sigmask(SIG_BLOCK, &block, &old);
		int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, provided);
		for (size_t i = 0; i < EFMPI_NSIG; i++)
			sigaction(efmpi_go_signals[i], &saved[i], NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc != MPI_SUCCESS) return rc;
	} else {
		MPI_Query_thread(provided);
	}
	return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}
static int efmpi_funneled(void) { return MPI_THREAD_FUNNELED; }
static int efmpi_is_main(void) { int m = 0; MPI_Is_thread_main(&m); return m; }
static int efmpi_rank_size(int *rank, int *size) {
	MAIN_ONLY;
	int rc = MPI_Comm_rank(MPI_COMM_WORLD, rank);
	if (rc != MPI_SUCCESS) return rc;
	return MPI_Comm_size(MPI_COMM_WORLD, size);
}
static int efmpi_tag_ub(int *ub) {
	MAIN_ONLY;
	int *v = NULL, flag = 0;
	int rc = MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &v, &flag);
	if (rc != MPI_SUCCESS) return rc;
	*ub = (flag && v) ? *v : 32767;
	return MPI_SUCCESS;
}
static int efmpi_send(void *buf, int n, int dest, int tag) {
	MAIN_ONLY;
	return MPI_Send(buf, n, MPI_BYTE, dest, tag, MPI_COMM_WORLD);
}
static int efmpi_probe(int src, int tag, int *count) {
	MAIN_ONLY;
	MPI_Status st;
	int rc = MPI_Probe(src, tag, MPI_COMM_WORLD, &st);
	if (rc != MPI_SUCCESS) return rc;
	return MPI_Get_count(&st, MPI_BYTE, count);
}
static int efmpi_recv(void *buf, int n, int src, int tag) {
	MAIN_ONLY;
	return MPI_Recv(buf, n, MPI_BYTE, src, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
}
static int efmpi_send_f64(double *buf, int n, int dest, int tag) {
	MAIN_ONLY;
	return MPI_Send(buf, n, MPI_DOUBLE, dest, tag, MPI_COMM_WORLD);
}
static int efmpi_recv_f64(double *buf, int n, int src, int tag) {
	MAIN_ONLY;
	return MPI_Recv(buf, n, MPI_DOUBLE, src, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
}
static int efmpi_allgather(void *send, int n, void *recv) {
	MAIN_ONLY;
	return MPI_Allgather(send, n, MPI_BYTE, recv, n, MPI_BYTE, MPI_COMM_WORLD);
}
static int efmpi_allgatherv(void *send, int n, void *recv, int *counts, int *displs) {
	MAIN_ONLY;
	return MPI_Allgatherv(send, n, MPI_BYTE, recv, counts, displs, MPI_BYTE, MPI_COMM_WORLD);
}
static int efmpi_gather_int(int v, int *out) {
	MAIN_ONLY;
	return MPI_Gather(&v, 1, MPI_INT, out, 1, MPI_INT, 0, MPI_COMM_WORLD);
}
static int efmpi_gatherv(void *send, int n, void *recv, int *counts, int *displs) {
	MAIN_ONLY;
	return MPI_Gatherv(send, n, MPI_BYTE, recv, counts, displs, MPI_BYTE, 0, MPI_COMM_WORLD);
}
static int efmpi_bcast(void *buf, int n) {
	MAIN_ONLY;
	return MPI_Bcast(buf, n, MPI_BYTE, 0, MPI_COMM_WORLD);
}
static int efmpi_barrier(void) {
	MAIN_ONLY;
	return MPI_Barrier(MPI_COMM_WORLD);
}
static int efmpi_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }
static int efmpi_finalize(void) {
	int f = 0;
	MPI_Finalized(&f);
	if (f) return MPI_SUCCESS;
	MAIN_ONLY;
	return MPI_Finalize();
}
static void efmpi_error_string(int code, char *buf) {
	int len = 0;
	if (MPI_Error_string(code, buf, &len) != MPI_SUCCESS) len = 0;
	buf[len] = 0;
}
static int efmpi_max_error(void) { return MPI_MAX_ERROR_STRING; }
static void efmpi_library_version(char *buf) {
	int len = 0;
	MPI_Get_library_version(buf, &len);
	buf[len] = 0;
}
static int efmpi_max_version(void) { return MPI_MAX_LIBRARY_VERSION_STRING; }
static const char *efmpi_flavour(void) {
#if defined(OPEN_MPI)
	return "openmpi";
#elif defined(MPICH)
	return "mpich";
#else
	return "unknown";
#endif
}
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/wire"
	"github.com/efmpi/efmpi/sparse"
)

func init() {
	// Called from an init function, this keeps the main goroutine on the
	// process's main thread for the whole run: the thread that will call
	// MPI_Init_thread, and the only one allowed to call MPI afterwards.
	runtime.LockOSThread()
}

// Error is a failed MPI call.
type Error struct {
	Rank int    // this process's rank
	Op   string // the MPI function
	Code int    // its return code
	Msg  string // MPI_Error_string
}

// Error formats the failure.
func (e *Error) Error() string {
	return fmt.Sprintf("mpi: rank %d: %s: %s (code %d)", e.Rank, e.Op, e.Msg, e.Code)
}

// ErrNotMainThread is the cause of an *Error for an MPI call made from a
// thread other than the one that initialised MPI.
var ErrNotMainThread = errors.New("MPI called from a thread other than the main one (MPI_THREAD_FUNNELED)")

// ErrNotLinked is what a build without the mpi tag returns from Init.
var ErrNotLinked = errors.New("this efmpi is built without MPI (build it with `make build-mpi`)")

// Linked reports whether this binary is linked against an MPI library.
func Linked() bool { return true }

// Flavour names the linked MPI library: "openmpi" or "mpich" (from mpi.h).
func Flavour() string { return C.GoString(C.efmpi_flavour()) }

// LibraryVersion is the linked library's MPI_Get_library_version string
// (callable before MPI_Init).
func LibraryVersion() string {
	buf := (*C.char)(C.malloc(C.size_t(C.efmpi_max_version() + 1)))
	defer C.free(unsafe.Pointer(buf))
	C.efmpi_library_version(buf)
	return strings.TrimSpace(C.GoString(buf))
}

// Options configures Init.
type Options struct {
	// Timeout is the watchdog's limit on one blocking MPI call; 0 disables
	// the watchdog.
	Timeout time.Duration
	// OnHang, if set, is called by the watchdog (from its own goroutine):
	// with final false when a call has blocked for the mark time after
	// Hurry, with final true just before it aborts the job (the process
	// ends right after).
	OnHang func(err error, final bool)
}

// World is this process's rank of MPI_COMM_WORLD. It implements
// collective.Collectives; all its methods must be called from the main
// goroutine (see the package documentation).
type World struct {
	rank, size int
	tagUB      int
	host       string
	opts       Options
	sent       atomic.Int64
	recvd      atomic.Int64
	done       atomic.Bool
	// watchdog: the MPI call in progress and since when (unix ns, 0: none)
	busyOp    atomic.Pointer[string]
	busySince atomic.Int64
	limit     atomic.Int64 // the watchdog's timeout, ns
	markAfter atomic.Int64 // after Hurry: when to call OnHang, ns
	hurriedAt atomic.Int64 // when Hurry was called (unix ns), 0: not yet
	stop      chan struct{}

	// aggregate: fixed slot size agreed from the previous round
	slot     int
	frame    []byte
	sendBuf  []byte
	recvBuf  []byte
	counts   []C.int
	displs   []C.int
	lens     []int
	msgs     []sparse.Vector
	fscratch []float64
	acc      []float64 // the tree's partial sums (memory of our own, for cgo)
	children []int
	bbuf     []byte
	// messages to oneself, which MPI_Send may not deliver before a matching
	// receive is posted (MPICH blocks): kept here, in order
	self []selfMsg
}

type selfMsg struct {
	tag   int
	frame []byte
}

// Init initialises MPI (MPI_Init_thread, MPI_THREAD_FUNNELED) on the calling
// thread, which must be the main one, sets MPI_ERRORS_RETURN, and returns
// this process's rank. It checks the launcher first (CheckLauncher) so that
// a binary started by the wrong MPI's launcher fails with a clear message
// before MPI_Init can hang.
func Init(opts Options) (collective.Collectives, error) {
	if err := CheckLauncher(Flavour(), nil); err != nil {
		return nil, err
	}
	// A peer that dies leaves the library writing into a closed socket:
	// with SIGPIPE caught (and dropped), the write fails, MPI returns the
	// error (MPI_ERRORS_RETURN), and the rank reports it instead of being
	// killed by the signal's default action.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	var provided C.int
	if rc := C.efmpi_init(&provided); rc != C.MPI_SUCCESS {
		return nil, mpiErr(-1, "MPI_Init_thread", rc)
	}
	if C.efmpi_is_main() == 0 {
		return nil, &Error{Rank: -1, Op: "MPI_Init_thread", Code: int(C.EFMPI_NOT_MAIN), Msg: ErrNotMainThread.Error()}
	}
	if provided < C.efmpi_funneled() {
		return nil, fmt.Errorf("mpi: MPI_Init_thread provided thread level %d, need MPI_THREAD_FUNNELED (%d)", provided, C.efmpi_funneled())
	}
	var r, n, ub C.int
	if rc := C.efmpi_rank_size(&r, &n); rc != C.MPI_SUCCESS {
		return nil, mpiErr(-1, "MPI_Comm_rank", rc)
	}
	if rc := C.efmpi_tag_ub(&ub); rc != C.MPI_SUCCESS {
		return nil, mpiErr(int(r), "MPI_Comm_get_attr(MPI_TAG_UB)", rc)
	}
	host, _ := os.Hostname()
	w := &World{rank: int(r), size: int(n), tagUB: int(ub), host: host, opts: opts, slot: 256,
		counts: make([]C.int, n), displs: make([]C.int, n), lens: make([]int, n),
		msgs: make([]sparse.Vector, n), stop: make(chan struct{})}
	w.limit.Store(int64(opts.Timeout))
	if opts.Timeout > 0 {
		go w.watchdog()
	}
	return w, nil
}

func mpiErr(rank int, op string, rc C.int) error {
	if rc == C.EFMPI_NOT_MAIN {
		return &Error{Rank: rank, Op: op, Code: int(rc), Msg: ErrNotMainThread.Error()}
	}
	buf := (*C.char)(C.malloc(C.size_t(C.efmpi_max_error() + 1)))
	defer C.free(unsafe.Pointer(buf))
	C.efmpi_error_string(rc, buf)
	return &Error{Rank: rank, Op: op, Code: int(rc), Msg: C.GoString(buf)}
}

// Unwrap gives ErrNotMainThread for a call from the wrong thread.
func (e *Error) Unwrap() error {
	if e.Code == int(C.EFMPI_NOT_MAIN) {
		return ErrNotMainThread
	}
	return nil
}

// opNames are the watchdog's labels (static, so that marking costs nothing).
var opNames = map[string]*string{}

func opName(s string) *string {
	if p, ok := opNames[s]; ok {
		return p
	}
	p := &s
	opNames[s] = p
	return p
}

var (
	opAllgather  = opName("MPI_Allgather")
	opAllgatherv = opName("MPI_Allgatherv")
	opGather     = opName("MPI_Gather(v)")
	opBcast      = opName("MPI_Bcast")
	opBarrier    = opName("MPI_Barrier")
	opSend       = opName("MPI_Send")
	opRecv       = opName("MPI_Recv")
	opFinalize   = opName("MPI_Finalize")
)

// begin and end bracket a blocking MPI call for the watchdog.
func (w *World) begin(op *string) {
	w.busyOp.Store(op)
	w.busySince.Store(time.Now().UnixNano())
}
func (w *World) end() { w.busySince.Store(0) }

// watchdog aborts the job when one MPI call blocks for longer than the
// timeout: the only way out of a collective that a dead or hung peer will
// never complete. Before aborting, and earlier after Hurry, it calls OnHang.
func (w *World) watchdog() {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	var warned, closed int64 // busySince of the call OnHang was last called for (final)
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		since := w.busySince.Load()
		if since == 0 {
			continue
		}
		blocked := time.Since(time.Unix(0, since))
		limit, mark := time.Duration(w.limit.Load()), time.Duration(w.markAfter.Load())
		if h := w.hurriedAt.Load(); h == 0 || since > h {
			mark = 0 // only a call already in progress at the signal is suspect
		}
		if blocked < limit && (mark <= 0 || blocked < mark) {
			continue
		}
		op := "an MPI call"
		if p := w.busyOp.Load(); p != nil {
			op = *p
		}
		err := fmt.Errorf("rank %d (host %s) blocked in %s for %s: a peer died or hangs (MPI does not say which)", w.rank, w.host, op, blocked.Round(time.Millisecond))
		if blocked < limit {
			// after a signal: record at mark, close the record at
			// mark+closeGrace if still stuck (the launcher's SIGKILL may
			// come any moment, and only a closed file is sure to be whole)
			if w.opts.OnHang != nil && warned != since {
				warned = since
				w.opts.OnHang(err, false)
			} else if w.opts.OnHang != nil && closed != since && blocked >= mark+closeGrace {
				closed = since
				w.opts.OnHang(err, true)
			}
			continue
		}
		fmt.Fprintf(os.Stderr, "efmpi: %v; aborting the job (exit 4)\n", err)
		if w.opts.OnHang != nil {
			w.opts.OnHang(err, true)
		}
		time.Sleep(100 * time.Millisecond) // let the launcher forward the message
		if p := w.busyOp.Load(); p != opFinalize {
			// (MPI_Abort is invalid once MPI_Finalize has begun: MPICH
			// then exits with a garbled code)
			C.efmpi_abort(4)
		}
		os.Exit(4)
	}
}

// closeGrace is how long after OnHang(err, false) a call still stuck after
// a signal gets OnHang(err, true).
const closeGrace = 400 * time.Millisecond

// Hurry is for a stop signal, which the launcher also sends to every rank
// when it tears a job down (mpirun after a rank died, killing the survivors
// about a second later): the MPI call in progress at the signal, if it has
// blocked for mark (counted from its start), gets OnHang(err, false) at
// once, while the process is still alive to record it, and OnHang(err,
// true) closeGrace later if it is still stuck. Calls made after the
// signal (the interrupted run's checkpoint, its last collectives) keep the
// normal timeout. The abort limit is never raised.
func (w *World) Hurry(mark time.Duration) {
	w.markAfter.Store(int64(mark))
	w.hurriedAt.CompareAndSwap(0, time.Now().UnixNano())
}

// Init does nothing: Init (the package function) initialised MPI.
func (w *World) Init() error { return nil }

// Finalize calls MPI_Finalize, then stops the watchdog; later calls do
// nothing. MPI_Finalize synchronises with the other ranks in both Open MPI
// and MPICH, so a rank that ends early (bad input seen by it alone) would
// wait there for ever: the watchdog covers it like any other call.
func (w *World) Finalize() {
	if w.done.Swap(true) {
		return
	}
	w.begin(opFinalize)
	C.efmpi_finalize()
	w.end()
	close(w.stop)
}

// Rank is this process's rank in MPI_COMM_WORLD.
func (w *World) Rank() int { return w.rank }

// Size is the number of ranks.
func (w *World) Size() int { return w.size }

// Transport returns "mpi".
func (w *World) Transport() string { return "mpi" }

// BytesSent counts the bytes this rank handed to MPI to send (slot padding
// of the aggregate included; the library's own protocol bytes are not seen).
func (w *World) BytesSent() int64 { return w.sent.Load() }

// BytesReceived counts the bytes MPI delivered to this rank from others.
func (w *World) BytesReceived() int64 { return w.recvd.Load() }

func ptr[T any](b []T) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

func (w *World) check(op string) error {
	if w.done.Load() {
		return fmt.Errorf("mpi: rank %d %s: %w", w.rank, op, collective.ErrFinalized)
	}
	return nil
}

func (w *World) checkTag(tag int) error {
	if tag < 0 || tag >= w.tagUB {
		return fmt.Errorf("mpi: rank %d: tag %d outside [0, %d) (MPI_TAG_UB is the collectives' own)", w.rank, tag, w.tagUB)
	}
	return nil
}

// Send encodes data as an efmpi frame (wire.AppendFrame) and sends it
// with MPI_Send. tag must be below MPI_TAG_UB (at least 32767), which the
// dense collectives use for themselves.
func (w *World) Send(data any, dest, tag int) error {
	if err := w.check("send"); err != nil {
		return err
	}
	if err := w.checkTag(tag); err != nil {
		return err
	}
	if dest < 0 || dest >= w.size {
		return fmt.Errorf("mpi: rank %d send to rank %d: out of range [0, %d)", w.rank, dest, w.size)
	}
	f, err := wire.AppendFrame(nil, data, tag)
	if err != nil {
		return fmt.Errorf("mpi: rank %d send to %d: %w", w.rank, dest, err)
	}
	if dest == w.rank {
		w.self = append(w.self, selfMsg{tag, f})
		return nil
	}
	w.begin(opSend)
	rc := C.efmpi_send(ptr(f), C.int(len(f)), C.int(dest), C.int(tag))
	w.end()
	if rc != C.MPI_SUCCESS {
		return mpiErr(w.rank, "MPI_Send", rc)
	}
	if dest != w.rank {
		w.sent.Add(int64(len(f)))
	}
	return nil
}

// Receive waits (MPI_Probe, MPI_Recv) for the message with the tag from src
// and decodes it into data (wire.DecodeFrame).
func (w *World) Receive(data any, src, tag int) error {
	if err := w.check("receive"); err != nil {
		return err
	}
	if err := w.checkTag(tag); err != nil {
		return err
	}
	if src < 0 || src >= w.size {
		return fmt.Errorf("mpi: rank %d receive from rank %d: out of range [0, %d)", w.rank, src, w.size)
	}
	if src == w.rank {
		for i, m := range w.self {
			if m.tag == tag {
				w.self = append(w.self[:i], w.self[i+1:]...)
				if _, err := wire.DecodeFrame(m.frame, data); err != nil {
					return fmt.Errorf("mpi: rank %d receive from itself (tag %d): %w", w.rank, tag, err)
				}
				return nil
			}
		}
		return fmt.Errorf("mpi: rank %d receive from itself: no message with tag %d was sent (it would wait for ever)", w.rank, tag)
	}
	var count C.int
	w.begin(opRecv)
	rc := C.efmpi_probe(C.int(src), C.int(tag), &count)
	if rc == C.MPI_SUCCESS {
		if int(count) > wire.HeaderSize+wire.MaxPayload {
			w.end()
			return fmt.Errorf("mpi: rank %d receive from %d: %d-byte message exceeds the frame limit", w.rank, src, count)
		}
		f := make([]byte, int(count))
		rc = C.efmpi_recv(ptr(f), count, C.int(src), C.int(tag))
		w.end()
		if rc == C.MPI_SUCCESS {
			if src != w.rank {
				w.recvd.Add(int64(len(f)))
			}
			if _, err := wire.DecodeFrame(f, data); err != nil {
				return fmt.Errorf("mpi: rank %d receive from %d (tag %d): %w", w.rank, src, tag, err)
			}
			return nil
		}
	}
	w.end()
	return mpiErr(w.rank, "MPI_Recv", rc)
}

// AggregateSparse allgathers the efmpi frames of every rank's message and
// applies sum to them in rank order on every rank. Every rank sends a slot
// of the same size: 4 bytes of frame length, then the frame if it fits. The
// slot size for the next round is the largest frame of this one (plus 4,
// rounded up to 64 bytes), which every rank computes alike; a round in which
// some frame outgrows its slot is completed by an MPI_Allgatherv of the
// exact frames. So the steady state is one MPI_Allgather per iteration.
func (w *World) AggregateSparse(msg *sparse.Vector, sum collective.SumFunc, out *sparse.Vector) (collective.Traffic, error) {
	if msg == nil || out == nil {
		return collective.Traffic{}, errors.New("mpi: aggregate: nil message or result")
	}
	if err := w.check("aggregate"); err != nil {
		return collective.Traffic{}, err
	}
	var err error
	if w.frame, err = wire.AppendFrame(w.frame[:0], msg, 0); err != nil {
		return collective.Traffic{}, fmt.Errorf("mpi: rank %d aggregate: %w", w.rank, err)
	}
	n, S, L := w.size, w.slot, len(w.frame)
	w.sendBuf = grow(w.sendBuf, S)
	w.recvBuf = grow(w.recvBuf, n*S)
	binary.LittleEndian.PutUint32(w.sendBuf, uint32(L))
	fits := L+4 <= S
	if fits {
		copy(w.sendBuf[4:], w.frame)
	}
	w.begin(opAllgather)
	rc := C.efmpi_allgather(ptr(w.sendBuf), C.int(S), ptr(w.recvBuf))
	w.end()
	if rc != C.MPI_SUCCESS {
		return collective.Traffic{}, mpiErr(w.rank, "MPI_Allgather", rc)
	}
	w.sent.Add(int64(S))
	w.recvd.Add(int64((n - 1) * S))
	maxL, overflow, total := 0, false, 0
	for r := range n {
		l := int(binary.LittleEndian.Uint32(w.recvBuf[r*S:]))
		if l > wire.HeaderSize+wire.MaxPayload {
			return collective.Traffic{}, fmt.Errorf("mpi: rank %d aggregate: rank %d announces a %d-byte frame", w.rank, r, l)
		}
		w.lens[r] = l
		maxL = max(maxL, l)
		overflow = overflow || l+4 > S
		total += l
	}
	frames := w.recvBuf
	if overflow {
		off := 0
		for r := range n {
			w.counts[r], w.displs[r] = C.int(w.lens[r]), C.int(off)
			off += w.lens[r]
		}
		w.bbuf = grow(w.bbuf, total)
		w.begin(opAllgatherv)
		rc := C.efmpi_allgatherv(ptr(w.frame), C.int(L), ptr(w.bbuf), &w.counts[0], &w.displs[0])
		w.end()
		if rc != C.MPI_SUCCESS {
			return collective.Traffic{}, mpiErr(w.rank, "MPI_Allgatherv", rc)
		}
		w.sent.Add(int64(L))
		w.recvd.Add(int64(total - L))
		frames = w.bbuf
	}
	off := 0
	for r := range n {
		var f []byte
		if overflow {
			f = frames[off : off+w.lens[r]]
			off += w.lens[r]
		} else {
			f = frames[r*S+4 : r*S+4+w.lens[r]]
		}
		if r == w.rank {
			w.msgs[r] = *msg
			continue
		}
		if _, err := wire.DecodeFrame(f, &w.msgs[r]); err != nil {
			return collective.Traffic{}, fmt.Errorf("mpi: rank %d aggregate: message of rank %d: %w", w.rank, r, err)
		}
	}
	w.slot = (maxL + 4 + 63) &^ 63
	err = sum(w.msgs, out)
	w.msgs[w.rank] = sparse.Vector{}
	if err != nil {
		return collective.Traffic{}, err
	}
	return collective.Traffic{Sent: int64(L), Received: int64(total - L)}, nil
}

func grow[T any](b []T, n int) []T {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]T, n)
}

// GatherSparse collects every rank's message on rank 0 (MPI_Gather of the
// frame lengths, MPI_Gatherv of the frames).
func (w *World) GatherSparse(msg *sparse.Vector, out []sparse.Vector) error {
	if msg == nil {
		return errors.New("mpi: gather: nil message")
	}
	if err := w.check("gather"); err != nil {
		return err
	}
	if w.rank == 0 && len(out) < w.size {
		return fmt.Errorf("mpi: gather at rank 0: out has %d elements, need %d", len(out), w.size)
	}
	var err error
	if w.frame, err = wire.AppendFrame(w.frame[:0], msg, 0); err != nil {
		return fmt.Errorf("mpi: rank %d gather: %w", w.rank, err)
	}
	L := len(w.frame)
	w.begin(opGather)
	rc := C.efmpi_gather_int(C.int(L), &w.counts[0])
	if rc != C.MPI_SUCCESS {
		w.end()
		return mpiErr(w.rank, "MPI_Gather", rc)
	}
	total := 0
	if w.rank == 0 {
		for r := range w.size {
			w.displs[r] = C.int(total)
			total += int(w.counts[r])
		}
		w.bbuf = grow(w.bbuf, max(total, 1))
	}
	rc = C.efmpi_gatherv(ptr(w.frame), C.int(L), ptr(w.bbuf), &w.counts[0], &w.displs[0])
	w.end()
	if rc != C.MPI_SUCCESS {
		return mpiErr(w.rank, "MPI_Gatherv", rc)
	}
	if w.rank != 0 {
		w.sent.Add(int64(L))
		return nil
	}
	w.recvd.Add(int64(total - L))
	for r := range w.size {
		f := w.bbuf[int(w.displs[r]) : int(w.displs[r])+int(w.counts[r])]
		if _, err := wire.DecodeFrame(f, &out[r]); err != nil {
			return fmt.Errorf("mpi: gather at rank 0: message of rank %d: %w", r, err)
		}
	}
	return nil
}

// bcastBytes broadcasts rank 0's b[:n] (n known everywhere).
func (w *World) bcastBytes(b []byte) error {
	w.begin(opBcast)
	rc := C.efmpi_bcast(ptr(b), C.int(len(b)))
	w.end()
	if rc != C.MPI_SUCCESS {
		return mpiErr(w.rank, "MPI_Bcast", rc)
	}
	if w.rank == 0 {
		w.sent.Add(int64(len(b)))
	} else {
		w.recvd.Add(int64(len(b)))
	}
	return nil
}

// BroadcastSparse sends rank 0's v to every rank (MPI_Bcast of the frame
// length, then of the frame).
func (w *World) BroadcastSparse(v *sparse.Vector) error {
	if v == nil {
		return errors.New("mpi: broadcast: nil vector")
	}
	if err := w.check("sparse broadcast"); err != nil {
		return err
	}
	var l [8]byte
	if w.rank == 0 {
		var err error
		if w.frame, err = wire.AppendFrame(w.frame[:0], v, 0); err != nil {
			return fmt.Errorf("mpi: rank 0 sparse broadcast: %w", err)
		}
		binary.LittleEndian.PutUint64(l[:], uint64(len(w.frame)))
	}
	if err := w.bcastBytes(l[:]); err != nil {
		return err
	}
	n := binary.LittleEndian.Uint64(l[:])
	if n > uint64(wire.HeaderSize+wire.MaxPayload) {
		return fmt.Errorf("mpi: rank %d sparse broadcast: %d-byte frame", w.rank, n)
	}
	if w.rank != 0 {
		w.frame = grow(w.frame, int(n))
	}
	if err := w.bcastBytes(w.frame[:n]); err != nil {
		return err
	}
	if w.rank != 0 {
		if _, err := wire.DecodeFrame(w.frame[:n], v); err != nil {
			return fmt.Errorf("mpi: rank %d sparse broadcast: %w", w.rank, err)
		}
	}
	return nil
}

// BroadcastDense sends rank 0's x to every rank; the length travels with
// the values, and a rank whose x has another length gets an error.
func (w *World) BroadcastDense(x []float64) error {
	if err := w.check("dense broadcast"); err != nil {
		return err
	}
	w.fscratch = grow(w.fscratch, len(x)+1)
	buf := w.fscratch
	if w.rank == 0 {
		buf[0] = float64(len(x))
		copy(buf[1:], x)
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), 8*len(buf))
	if err := w.bcastBytes(b); err != nil {
		return err
	}
	if int(buf[0]) != len(x) {
		return fmt.Errorf("mpi: rank %d dense broadcast: %d values here, rank 0 broadcasts %v", w.rank, len(x), buf[0])
	}
	copy(x, buf[1:])
	return nil
}

// treeUp sums src over the subtree of this rank into w.acc
// (collective.TreeChildren order: own values, then each child's partial
// sum) and sends it to the parent. Only buffers of the World's own cross
// into C: the caller's slices may live inside structs holding Go pointers,
// which cgo refuses.
func (w *World) treeUp(src []float64) error {
	d := len(src)
	w.acc = grow(w.acc, max(d, 1))
	acc := w.acc[:d]
	copy(acc, src)
	var parent int
	w.children, parent = collective.TreeChildren(w.rank, w.size, w.children)
	w.fscratch = grow(w.fscratch, max(d, 1))
	tmp := w.fscratch[:d]
	for _, c := range w.children {
		w.begin(opRecv)
		rc := C.efmpi_recv_f64((*C.double)(ptr(tmp)), C.int(d), C.int(c), C.int(w.tagUB))
		w.end()
		if rc != C.MPI_SUCCESS {
			return mpiErr(w.rank, fmt.Sprintf("MPI_Recv (tree, from rank %d)", c), rc)
		}
		w.recvd.Add(int64(8 * d))
		for j, v := range tmp {
			acc[j] += v
		}
	}
	if parent >= 0 {
		w.begin(opSend)
		rc := C.efmpi_send_f64((*C.double)(ptr(acc)), C.int(d), C.int(parent), C.int(w.tagUB))
		w.end()
		if rc != C.MPI_SUCCESS {
			return mpiErr(w.rank, fmt.Sprintf("MPI_Send (tree, to rank %d)", parent), rc)
		}
		w.sent.Add(int64(8 * d))
	}
	return nil
}

// Allreduce sums src up the fixed tree to rank 0 and broadcasts the sum
// (MPI_Bcast moves bits, it does not add), so every rank gets TreeSum.
func (w *World) Allreduce(src, dst []float64) error {
	if len(dst) != len(src) {
		return fmt.Errorf("mpi: allreduce at rank %d: dst has length %d, src %d", w.rank, len(dst), len(src))
	}
	if err := w.check("allreduce"); err != nil {
		return err
	}
	if err := w.treeUp(src); err != nil {
		return err
	}
	if len(dst) == 0 {
		return nil
	}
	acc := w.acc[:len(dst)]
	if err := w.bcastBytes(unsafe.Slice((*byte)(unsafe.Pointer(&acc[0])), 8*len(acc))); err != nil {
		return err
	}
	copy(dst, acc)
	return nil
}

// Reduce sums src up the fixed tree; rank 0's dst gets TreeSum.
func (w *World) Reduce(src, dst []float64) error {
	if err := w.check("reduce"); err != nil {
		return err
	}
	if w.rank == 0 && len(dst) != len(src) {
		return fmt.Errorf("mpi: reduce at rank 0: dst has length %d, src %d", len(dst), len(src))
	}
	if err := w.treeUp(src); err != nil {
		return err
	}
	if w.rank == 0 {
		copy(dst, w.acc[:len(src)])
	}
	return nil
}

// Barrier is MPI_Barrier.
func (w *World) Barrier() error {
	if err := w.check("barrier"); err != nil {
		return err
	}
	w.begin(opBarrier)
	rc := C.efmpi_barrier()
	w.end()
	if rc != C.MPI_SUCCESS {
		return mpiErr(w.rank, "MPI_Barrier", rc)
	}
	return nil
}

// RawAllgatherv is the bare MPI_Allgatherv of bytes, for benchmarks that
// compare a collective with the library call underneath: every rank sends
// send, and recv receives counts[r] bytes from rank r in rank order.
func (w *World) RawAllgatherv(send, recv []byte, counts []int) error {
	off := 0
	for r, c := range counts {
		w.counts[r], w.displs[r] = C.int(c), C.int(off)
		off += c
	}
	if off > len(recv) {
		return fmt.Errorf("mpi: raw allgatherv: %d bytes into %d", off, len(recv))
	}
	rc := C.efmpi_allgatherv(ptr(send), C.int(len(send)), ptr(recv), &w.counts[0], &w.displs[0])
	if rc != C.MPI_SUCCESS {
		return mpiErr(w.rank, "MPI_Allgatherv", rc)
	}
	return nil
}

// Abort ends every rank of the job with the exit code (MPI_Abort).
func Abort(code int) { C.efmpi_abort(C.int(code)) }
