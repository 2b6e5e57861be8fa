package collective_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/internal/testworld"
	"github.com/efmpi/efmpi/collective/wire"
	"github.com/efmpi/efmpi/sparse"
)

// The benchmarks run benchRanks ranks as goroutines of one process; on tcp
// each rank has its own loopback sockets, so the bytes really cross the
// kernel's TCP stack.
const benchRanks = 4

var benchKs = []int{10, 100000}

type benchMsgs struct {
	msgs []*sparse.Vector
	agg  *sparse.Vector
}

var (
	benchMsgMu    sync.Mutex
	benchMsgCache = map[int]benchMsgs{}
)

// benchMessages returns every rank's sparse message with k nonzeros in
// dimension 10k (fixed random sorted indices) and the aggregate rank 0
// broadcasts: the sum of the messages, up to benchRanks·k nonzeros. They are
// built once per k and shared; nobody modifies them.
func benchMessages(k int) (msgs []*sparse.Vector, agg *sparse.Vector) {
	benchMsgMu.Lock()
	defer benchMsgMu.Unlock()
	if m, ok := benchMsgCache[k]; ok {
		return m.msgs, m.agg
	}
	dim := 10 * k
	dense := make([]float64, dim)
	for r := range benchRanks {
		rng := rand.New(rand.NewPCG(uint64(r), uint64(k)))
		idx := rng.Perm(dim)[:k]
		slices.Sort(idx)
		v := sparse.NewVector(dim, k)
		for _, i := range idx {
			v.Append(int32(i), 1+rng.Float64()) // never sums to zero
		}
		v.AddTo(dense)
		msgs = append(msgs, v)
	}
	agg = sparse.NewVector(dim, benchRanks*k)
	for i, x := range dense {
		if x != 0 {
			agg.Append(int32(i), x)
		}
	}
	benchMsgCache[k] = benchMsgs{msgs, agg}
	return msgs, agg
}

// gatherBcastWireBytes is what one gather+broadcast puts on the wire: n−1
// messages of k entries to rank 0, then the aggregate to n−1 ranks.
func gatherBcastWireBytes(k, aggNNZ int) int64 {
	return int64((benchRanks - 1) * (wire.SparseFrameSize(k) + wire.SparseFrameSize(aggNNZ)))
}

func totalSent(comms []collective.Comm) int64 {
	var s int64
	for _, c := range comms {
		s += c.BytesSent()
	}
	return s
}

// benchLoop runs op(c, rank) b.N times on every rank: ranks 1…n−1 loop in
// goroutines of their own (started once per run, not per op), rank 0's loop
// is the timed one. The ops synchronise through their messages. One untimed
// op first lets the buffers grow to size. It returns the bytes sent by all
// ranks during the timed ops.
func benchLoop(b *testing.B, comms []collective.Comm, op func(c collective.Comm) error) int64 {
	b.Helper()
	if err := testworld.ForEach(comms, op); err != nil {
		b.Fatal(err)
	}
	before := totalSent(comms)
	errs := make([]error, len(comms))
	var wg sync.WaitGroup
	b.ResetTimer()
	for r := 1; r < len(comms); r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range b.N {
				if errs[r] = op(comms[r]); errs[r] != nil {
					comms[r].Finalize() // so that rank 0 fails too
					return
				}
			}
		}()
	}
	for range b.N {
		if errs[0] = op(comms[0]); errs[0] != nil {
			comms[0].Finalize()
			break
		}
	}
	wg.Wait()
	b.StopTimer()
	for r, err := range errs {
		if err != nil {
			b.Fatalf("rank %d: %v", r, err)
		}
	}
	return totalSent(comms) - before
}

// BenchmarkGatherBcast measures one round of the job's communication:
// every rank gathers a k-sparse message to rank 0, which broadcasts the
// aggregate (built once) to every rank.
func BenchmarkGatherBcast(b *testing.B) {
	for _, transport := range transports {
		for _, k := range benchKs {
			b.Run(fmt.Sprintf("%s/k=%d", transport, k), func(b *testing.B) {
				msgs, agg := benchMessages(k)
				perOp := gatherBcastWireBytes(k, agg.Len())
				comms := testworld.New(b, transport, benchRanks, testworld.Opts{Timeout: 30 * time.Second})
				defer testworld.FinalizeAll(comms)
				out := make([]sparse.Vector, benchRanks)
				recv := make([]*sparse.Vector, benchRanks)
				for r := range recv {
					recv[r] = sparse.NewVector(0, 0)
				}
				recv[0] = agg
				op := func(c collective.Comm) error {
					r := c.Rank()
					if err := collective.GatherSparse(c, msgs[r], out); err != nil {
						return err
					}
					return collective.BroadcastSparse(c, recv[r])
				}
				b.SetBytes(perOp)
				sent := benchLoop(b, comms, op)
				if transport == "inproc" {
					perOp = int64((benchRanks - 1) * wire.SparseFrameSize(k)) // the broadcast shares memory
				}
				if sent != perOp*int64(b.N) {
					b.Fatalf("%d ops sent %d bytes, want %d per op", b.N, sent, perOp)
				}
				for r := 1; r < benchRanks; r++ {
					if !sameSparse(recv[r], agg) {
						b.Fatalf("rank %d received a different aggregate", r)
					}
				}
			})
		}
	}
}

// BenchmarkRawPingPong is the floor for BenchmarkGatherBcast/tcp: the same
// bytes over bare loopback TCP connections (TCP_NODELAY), without framing,
// decoding, deadlines or bookkeeping. Three clients each write a message
// frame's worth of bytes to the root, which reads all three in order and
// writes the broadcast frame's worth of bytes back to each.
func BenchmarkRawPingPong(b *testing.B) {
	for _, k := range benchKs {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			_, agg := benchMessages(k)
			up, down := wire.SparseFrameSize(k), wire.SparseFrameSize(agg.Len())
			ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			clients := make([]*net.TCPConn, benchRanks-1)
			servers := make([]*net.TCPConn, benchRanks-1)
			for i := range clients {
				if clients[i], err = net.DialTCP("tcp", nil, ln.Addr().(*net.TCPAddr)); err != nil {
					b.Fatal(err)
				}
				if servers[i], err = ln.AcceptTCP(); err != nil {
					b.Fatal(err)
				}
				for _, c := range []*net.TCPConn{clients[i], servers[i]} {
					defer c.Close()
					if err := c.SetNoDelay(true); err != nil {
						b.Fatal(err)
					}
				}
			}
			rootUp, rootDown := make([]byte, up), make([]byte, down)
			client := func(c *net.TCPConn, n int) error {
				msg, in := make([]byte, up), make([]byte, down)
				for range n {
					if _, err := c.Write(msg); err != nil {
						return err
					}
					if _, err := io.ReadFull(c, in); err != nil {
						return err
					}
				}
				return nil
			}
			root := func(n int) error {
				for range n {
					for _, s := range servers {
						if _, err := io.ReadFull(s, rootUp); err != nil {
							return err
						}
					}
					for _, s := range servers {
						if _, err := s.Write(rootDown); err != nil {
							return err
						}
					}
				}
				return nil
			}
			run := func(n int) {
				errs := make([]error, len(clients))
				var wg sync.WaitGroup
				for i, c := range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if errs[i] = client(c, n); errs[i] != nil {
							c.Close()
						}
					}()
				}
				if err := root(n); err != nil {
					for _, s := range servers {
						s.Close()
					}
					b.Error(err)
				}
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			run(1) // warm up
			b.SetBytes(int64((benchRanks - 1) * (up + down)))
			b.ResetTimer()
			run(b.N)
		})
	}
}

// BenchmarkAllreduce measures the job's per-iteration metric reduction: an
// Allreduce of 3 float64 values among 4 tcp ranks.
func BenchmarkAllreduce(b *testing.B) {
	comms := testworld.New(b, "tcp", benchRanks, testworld.Opts{Timeout: 30 * time.Second})
	defer testworld.FinalizeAll(comms)
	src := make([][]float64, benchRanks)
	dst := make([][]float64, benchRanks)
	for r := range src {
		src[r] = []float64{float64(r), 0.5, -1}
		dst[r] = make([]float64, 3)
	}
	perOp := int64(2 * (benchRanks - 1) * wire.DenseFrameSize(3))
	b.SetBytes(perOp)
	sent := benchLoop(b, comms, func(c collective.Comm) error {
		return collective.Allreduce(c, src[c.Rank()], dst[c.Rank()])
	})
	if sent != perOp*int64(b.N) {
		b.Fatalf("%d ops sent %d bytes, want %d per op", b.N, sent, perOp)
	}
	for r := range dst {
		if dst[r][0] != 6 || dst[r][1] != 2 || dst[r][2] != -4 {
			b.Fatalf("rank %d: allreduce gave %v", r, dst[r])
		}
	}
}

// aggRanks is the world of BenchmarkAggregate: one rank per core here.
const aggRanks = 2

// BenchmarkAggregate measures one EF21 communication round as the driver
// runs it (AggregateSparse: every rank contributes a k-sparse message and
// ends with the rank-order sum) with 2 ranks, on inproc and tcp. Its MPI
// counterpart is collective/mpi/internal/mpibench under mpirun (README
// "MPI"). The reported bytes are the round's payload, one message per rank.
func BenchmarkAggregate(b *testing.B) {
	for _, transport := range []string{"inproc", "tcp"} {
		for _, k := range benchKs {
			b.Run(fmt.Sprintf("%s/k=%d", transport, k), func(b *testing.B) {
				msgs, _ := benchMessages(k)
				comms := testworld.New(b, transport, aggRanks, testworld.Opts{Timeout: 30 * time.Second})
				defer testworld.FinalizeAll(comms)
				// the server's rank-order sum, as the driver does it
				fns := []collective.SumFunc{algorithms.NewAggregator(10 * k).Aggregate, algorithms.NewAggregator(10 * k).Aggregate}
				outs := make([]*sparse.Vector, aggRanks)
				for r := range outs {
					outs[r] = sparse.NewVector(0, 2*k)
				}
				want := sparse.NewVector(0, 0)
				if err := algorithms.NewAggregator(10*k).Aggregate([]sparse.Vector{*msgs[0], *msgs[1]}, want); err != nil {
					b.Fatal(err)
				}
				op := func(c collective.Comm) error {
					r := c.Rank()
					_, err := collective.AggregateSparse(c, msgs[r], fns[r], outs[r])
					return err
				}
				b.SetBytes(int64(aggRanks * wire.SparseFrameSize(k)))
				benchLoop(b, comms, op)
				for r := range outs {
					if !sameSparse(outs[r], want) {
						b.Fatalf("rank %d: aggregate differs from the rank-order sum", r)
					}
				}
			})
		}
	}
}

// The in-process aggregate allocates nothing per round once its buffers
// have grown.
func TestAggregateAllocs(t *testing.T) {
	msgs, _ := benchMessages(10)
	comms := testworld.New(t, "inproc", 2, testworld.Opts{})
	defer testworld.FinalizeAll(comms)
	sum0, sum1 := algorithms.NewAggregator(100).Aggregate, algorithms.NewAggregator(100).Aggregate
	outs := []*sparse.Vector{sparse.NewVector(0, 20), sparse.NewVector(0, 20)}
	done := make(chan error)
	const runs = 200
	go func() {
		for range runs + 1 {
			if _, err := collective.AggregateSparse(comms[1], msgs[1], sum1, outs[1]); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	allocs := testing.AllocsPerRun(runs, func() {
		if _, err := collective.AggregateSparse(comms[0], msgs[0], sum0, outs[0]); err != nil {
			t.Error(err)
		}
	})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if allocs != 0 {
		t.Errorf("%v allocations per aggregate round, want 0", allocs)
	}
}

func TestBenchMessages(t *testing.T) {
	for _, k := range []int{10, 1000} {
		msgs, agg := benchMessages(k)
		if len(msgs) != benchRanks {
			t.Fatalf("k=%d: %d messages", k, len(msgs))
		}
		union := map[int32]bool{}
		for r, m := range msgs {
			if m.Len() != k || m.Dim != 10*k || m.Validate() != nil {
				t.Fatalf("k=%d: rank %d message has %d entries, dim %d, validate %v", k, r, m.Len(), m.Dim, m.Validate())
			}
			for _, i := range m.Idx {
				union[i] = true
			}
		}
		if agg.Len() != len(union) || agg.Validate() != nil {
			t.Fatalf("k=%d: aggregate has %d entries, union of indices %d", k, agg.Len(), len(union))
		}
	}
}

// BenchmarkAggregateWide is the in-process world issue 11 aims at: 4096
// goroutine ranks, each contributing a top-1 message of a 123-dimensional
// problem (a1a's), every rank ending with the rank-order sum. ns/op is one
// whole round of the world.
func BenchmarkAggregateWide(b *testing.B) {
	const n, d = 4096, 123
	comms := testworld.New(b, "inproc", n, testworld.Opts{})
	defer testworld.FinalizeAll(comms)
	msgs := make([]*sparse.Vector, n)
	outs := make([]*sparse.Vector, n)
	fns := make([]collective.SumFunc, n)
	for r := range n {
		msgs[r] = sparse.NewVector(d, 1)
		msgs[r].Append(int32(r%d), float64(r)+0.5)
		outs[r] = sparse.NewVector(d, d)
		fns[r] = algorithms.NewAggregator(d).Aggregate
	}
	benchLoop(b, comms, func(c collective.Comm) error {
		r := c.Rank()
		_, err := collective.AggregateSparse(c, msgs[r], fns[r], outs[r])
		return err
	})
	// every index r mod d appears; the sum at index i is Σ_{r ≡ i} (r + 0.5)
	for i := range d {
		want := 0.0
		for r := i; r < n; r += d {
			want += float64(r) + 0.5
		}
		if outs[n-1].Idx[i] != int32(i) || outs[n-1].Val[i] != want {
			b.Fatalf("index %d: got %d:%v, want %v", i, outs[n-1].Idx[i], outs[n-1].Val[i], want)
		}
	}
}
