package collective

import (
	"fmt"
	"math/bits"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/collective/wire"
)

// simNet counts the messages of a collective's schedule: per rank the
// messages and bytes sent and received, and the longest chain of dependent
// messages, where a message depends on everything its sender received
// before sending it and on the sender's previous send (a rank sends one
// message at a time).
type simNet struct {
	sent, recv, bsent, brecv []int64
	depth                    []int // depth of the latest event at each rank
}

func newSimNet(n int) *simNet {
	return &simNet{make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int, n)}
}

// send delivers a message of b bytes from src to dst.
func (s *simNet) send(src, dst int, b int64) {
	s.depth[src]++
	d := s.depth[src]
	s.sent[src]++
	s.bsent[src] += b
	s.recv[dst]++
	s.brecv[dst] += b
	s.depth[dst] = max(s.depth[dst], d)
}

func (s *simNet) chain() int {
	m := 0
	for _, d := range s.depth {
		m = max(m, d)
	}
	return m
}

// Schedules. F is a message's frame size, A the aggregate's, D a dense
// vector's.

// starAggregate: the TCP transport (and every transport before the
// redesign): gather to rank 0, which broadcasts the aggregate.
func simStarAggregate(s *simNet, n int, F, A int64) {
	for r := 1; r < n; r++ {
		s.send(r, 0, F)
	}
	for r := 1; r < n; r++ {
		s.send(0, r, A)
	}
}

// simAllgather: recursive doubling (what Open MPI and MPICH use for short
// messages on a power-of-two world): at step j every rank swaps all it holds
// with rank r XOR 2^j. Then every rank sums locally: no broadcast.
func simAllgather(s *simNet, n int, F int64) {
	// every send of one step happens before any receive of the next step
	for step := 1; step < n; step *= 2 {
		d := make([]int, n)
		for r := range n {
			s.depth[r]++
			d[r] = s.depth[r]
		}
		for r := range n {
			p := r ^ step
			s.sent[r]++
			s.bsent[r] += int64(step) * F
			s.recv[p]++
			s.brecv[p] += int64(step) * F
		}
		for r := range n {
			s.depth[r] = max(s.depth[r], d[r^step])
		}
	}
}

// simStarAllreduce: gather to rank 0, which broadcasts the sum.
func simStarAllreduce(s *simNet, n int, D int64) {
	for r := 1; r < n; r++ {
		s.send(r, 0, D)
	}
	for r := 1; r < n; r++ {
		s.send(0, r, D)
	}
}

// simTreeAllreduce: the MPI transport's Allreduce, up the tree of
// TreeChildren (children first, deepest levels first), then a binomial
// broadcast down the same tree (modelling MPI_Bcast's binomial algorithm).
func simTreeAllreduce(s *simNet, n int, D int64) {
	for step := 1; step < n; step *= 2 { // level by level
		for r := 0; r+step < n; r += 2 * step {
			s.send(r+step, r, D)
		}
	}
	for step := 1 << (bits.Len(uint(n-1)) - 1); step >= 1; step /= 2 {
		for r := 0; r+step < n; r += 2 * step {
			s.send(r, r+step, D)
		}
	}
}

// TestScaleCounts counts, for n = 4, 64, 1024 ranks and one iteration of
// EF21 with top-k (k = 10, d = 10⁶, so the aggregate has up to n·k
// entries), the messages, bytes and longest dependency chain of the old
// star schedules and of the redesigned ones, and checks the shape the
// README claims: rank 0's bytes no longer grow like n² (aggregate) or n·d
// (dense sums), and the chain grows like log n. The table is logged
// (go test -run TestScaleCounts -v ./collective).
func TestScaleCounts(t *testing.T) {
	const k, d = 10, 1000000
	F := int64(wire.SparseFrameSize(k))
	D := int64(wire.DenseFrameSize(123 + 2)) // the metric row of a1a/a9a: f, ∇f, stop flag
	var tab strings.Builder
	fmt.Fprintf(&tab, "| n | collective | schedule | rank 0 msgs sent/recv | rank 0 bytes sent/recv | max bytes of any rank | longest chain |\n|---|---|---|---|---|---|---|\n")
	for _, n := range []int{4, 64, 1024} {
		A := int64(wire.SparseFrameSize(min(n*k, d)))
		lg := bits.Len(uint(n - 1)) // ⌈log₂ n⌉
		rows := []struct {
			coll, sched string
			run         func(*simNet)
			check       func(*simNet) error
		}{
			{"sparse aggregate", "star: gather + broadcast (tcp; all transports before)", func(s *simNet) { simStarAggregate(s, n, F, A) },
				func(s *simNet) error {
					if s.bsent[0] != int64(n-1)*A || s.chain() != n {
						return fmt.Errorf("star aggregate: rank 0 sent %d bytes, chain %d", s.bsent[0], s.chain())
					}
					return nil
				}},
			{"sparse aggregate", "allgather (mpi: recursive doubling) + local rank-order sum", func(s *simNet) { simAllgather(s, n, F) },
				func(s *simNet) error {
					for r := range n {
						if s.brecv[r] != int64(n-1)*F || s.sent[r] != int64(lg) {
							return fmt.Errorf("allgather: rank %d received %d bytes in %d messages", r, s.brecv[r], s.recv[r])
						}
					}
					if s.chain() != lg {
						return fmt.Errorf("allgather chain %d, want %d", s.chain(), lg)
					}
					return nil
				}},
			{"dense sum (metrics)", "star: reduce + broadcast (tcp)", func(s *simNet) { simStarAllreduce(s, n, D) },
				func(s *simNet) error {
					if s.brecv[0] != int64(n-1)*D {
						return fmt.Errorf("star allreduce: rank 0 received %d", s.brecv[0])
					}
					return nil
				}},
			{"dense sum (metrics)", "tree over rank numbers + binomial broadcast (mpi)", func(s *simNet) { simTreeAllreduce(s, n, D) },
				func(s *simNet) error {
					ch, _ := TreeChildren(0, n, nil)
					if s.recv[0] != int64(len(ch)) || len(ch) != lg || s.chain() != 2*lg {
						return fmt.Errorf("tree: rank 0 received %d messages (children %d), chain %d, want %d and %d", s.recv[0], len(ch), s.chain(), lg, 2*lg)
					}
					for r := range n {
						if s.brecv[r]+s.bsent[r] > int64(2*lg)*D {
							return fmt.Errorf("tree: rank %d moved %d bytes > 2⌈log₂n⌉·D", r, s.brecv[r]+s.bsent[r])
						}
					}
					return nil
				}},
		}
		for _, row := range rows {
			s := newSimNet(n)
			row.run(s)
			if err := row.check(s); err != nil {
				t.Errorf("n=%d: %v", n, err)
			}
			var most int64
			for r := range n {
				most = max(most, s.bsent[r]+s.brecv[r])
			}
			fmt.Fprintf(&tab, "| %d | %s | %s | %d / %d | %d / %d | %d | %d |\n", n, row.coll, row.sched,
				s.sent[0], s.recv[0], s.bsent[0], s.brecv[0], most, s.chain())
		}
	}
	t.Logf("one EF21 iteration, top-%d, d = %d; frames: message %d B, metric row %d B\n%s", k, d, F, D, tab.String())
}
