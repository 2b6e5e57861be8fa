package inproc

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/wire"
	"github.com/efmpi/efmpi/sparse"
)

// TestBlock checks that the nodes' blocks tile [0, n) in order, with sizes
// that differ by at most one.
func TestBlock(t *testing.T) {
	for n := 1; n <= 40; n++ {
		for p := 1; p <= n; p++ {
			next, lo0, hi0 := 0, 0, 0
			minSize, maxSize := n, 0
			for q := range p {
				lo, hi := Block(n, p, q)
				if lo != next || hi <= lo {
					t.Fatalf("n=%d p=%d: node %d has [%d, %d), want it to start at %d", n, p, q, lo, hi, next)
				}
				if q == 0 {
					lo0, hi0 = lo, hi
				}
				minSize, maxSize = min(minSize, hi-lo), max(maxSize, hi-lo)
				next = hi
			}
			if next != n || maxSize-minSize > 1 || lo0 != 0 || hi0 < 1 {
				t.Fatalf("n=%d p=%d: blocks end at %d, sizes %d…%d", n, p, next, minSize, maxSize)
			}
		}
	}
}

// runNodes runs f on every node of a hosted world in its own goroutine and
// fails the test on any node's error.
func runNodes(t *testing.T, n, p int, f func(c *Comm) error) {
	t.Helper()
	if err := errors.Join(nodeErrors(t, n, p, f)...); err != nil {
		t.Fatal(err)
	}
}

// nodeErrors runs f on every node of a hosted world in its own goroutine
// and returns each node's error.
func nodeErrors(t *testing.T, n, p int, f func(c *Comm) error) []error {
	t.Helper()
	world, err := NewHosted(n, p)
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, p)
	var wg sync.WaitGroup
	for q, c := range world {
		wg.Go(func() {
			defer c.Finalize()
			if errs[q] = c.Init(); errs[q] == nil {
				errs[q] = f(c)
			}
		})
	}
	wg.Wait()
	return errs
}

// TestHostedCollectives checks the hosted aggregate and allreduce of 7 ranks
// on 3 nodes against a naive computation over the 7 ranks' inputs: the sum
// function must see every message in rank order (here it weights message r
// by r+1, so any other order or a missing message changes the result), the
// frame total is the sum of the frames, and the dense sum is TreeSum over
// the ranks in rank order, bit for bit, on every node, for 20 rounds; in
// the odd rounds the dense sum travels with the aggregate
// (AggregateReduceHosted) and must give the same.
func TestHostedCollectives(t *testing.T) {
	const n, p, d, rounds = 7, 3, 9, 20
	rnd := rand.New(rand.NewPCG(1, 2))
	msgs := make([][]sparse.Vector, rounds)
	dense := make([][][]float64, rounds)
	for k := range rounds {
		msgs[k] = make([]sparse.Vector, n)
		dense[k] = make([][]float64, n)
		for r := range n {
			v := sparse.Vector{Dim: d}
			for j := range d {
				if rnd.IntN(3) == 0 {
					v.Append(int32(j), rnd.NormFloat64())
				}
			}
			msgs[k][r] = v
			dense[k][r] = make([]float64, d)
			for j := range dense[k][r] {
				dense[k][r][j] = rnd.NormFloat64() * math.Pow(10, float64(rnd.IntN(9)-4))
			}
		}
	}
	weighted := func(ms []sparse.Vector, out *sparse.Vector) error {
		acc := make([]float64, d)
		for r := range ms {
			for j, i := range ms[r].Idx {
				acc[i] += float64(r+1) * ms[r].Val[j]
			}
		}
		out.SetDense(acc)
		return nil
	}
	runNodes(t, n, p, func(c *Comm) error {
		lo, hi := c.Hosted()
		if c.Ranks() != n || c.Size() != p {
			t.Errorf("node %d: %d ranks on %d nodes, want %d on %d", c.Rank(), c.Ranks(), c.Size(), n, p)
		}
		var out sparse.Vector
		sum := make([]float64, d)
		scratch := make([]float64, (n-1)*d)
		want := make([]float64, d)
		for k := range rounds {
			mine := make([]*sparse.Vector, 0, hi-lo)
			for r := lo; r < hi; r++ {
				mine = append(mine, &msgs[k][r])
			}
			var total int64
			var err error
			if k%2 == 1 {
				total, err = c.AggregateReduceHosted(mine, weighted, &out, dense[k][lo:hi], sum)
			} else {
				total, err = c.AggregateHosted(mine, weighted, &out)
			}
			if err != nil {
				return err
			}
			var wantOut sparse.Vector
			weighted(msgs[k], &wantOut)
			var wantTotal int64
			for r := range n {
				wantTotal += int64(wire.SparseFrameSize(msgs[k][r].Len()))
			}
			if total != wantTotal || !equalVectors(&out, &wantOut) {
				t.Errorf("node %d round %d: aggregate %v (%d bytes), want %v (%d bytes)", c.Rank(), k, out, total, wantOut, wantTotal)
			}
			if k%2 == 0 {
				if err := c.AllreduceHosted(dense[k][lo:hi], sum); err != nil {
					return err
				}
			}
			collective.TreeSum(want, dense[k], scratch)
			for j := range want {
				if math.Float64bits(sum[j]) != math.Float64bits(want[j]) {
					t.Errorf("node %d round %d: sum[%d] = %v, TreeSum over the ranks %v", c.Rank(), k, j, sum[j], want[j])
				}
			}
		}
		return nil
	})
}

func equalVectors(a, b *sparse.Vector) bool {
	if a.Dim != b.Dim || a.Len() != b.Len() {
		return false
	}
	for j := range a.Idx {
		if a.Idx[j] != b.Idx[j] || math.Float64bits(a.Val[j]) != math.Float64bits(b.Val[j]) {
			return false
		}
	}
	return true
}

// TestHostedNodeLeaves checks that a node which finalizes early is reported
// to the nodes waiting for it as a *RankLostError instead of leaving them
// blocked.
func TestHostedNodeLeaves(t *testing.T) {
	world, err := NewHosted(6, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range world {
		c.Init()
	}
	world[2].Finalize()
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for q := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lo, hi := world[q].Hosted()
			errs[q] = world[q].AllreduceHosted(make([][]float64, hi-lo), make([]float64, 1))
		}()
	}
	wg.Wait()
	for q, err := range errs {
		var lost *collective.RankLostError
		if !errors.As(err, &lost) || lost.Rank != 2 {
			t.Errorf("node %d: %v, want the loss of node 2", q, err)
		}
	}
}

// TestAggregateReduceDisagreement: when one node passes its dense vectors
// to AggregateReduceHosted and another does not, every node gets an error
// naming the mismatch instead of a sum over missing vectors.
func TestAggregateReduceDisagreement(t *testing.T) {
	for _, with := range []int{0, 1} {
		t.Run(fmt.Sprintf("only node %d", with), func(t *testing.T) { aggregateReduceDisagreement(t, with) })
	}
}

func aggregateReduceDisagreement(t *testing.T, with int) {
	const n, p, d = 4, 2, 3
	errs := nodeErrors(t, n, p, func(c *Comm) error {
		lo, hi := c.Hosted()
		msgs := make([]*sparse.Vector, hi-lo)
		for i := range msgs {
			msgs[i] = &sparse.Vector{Dim: d}
		}
		var srcs [][]float64
		if c.Rank() == with {
			srcs = [][]float64{{1, 2, 3}, {4, 5, 6}}
		}
		sum := func(ms []sparse.Vector, out *sparse.Vector) error { out.Reset(d); return nil }
		var out sparse.Vector
		_, err := c.AggregateReduceHosted(msgs, sum, &out, srcs, make([]float64, d))
		return err
	})
	for q, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "contributes") {
			t.Errorf("node %d: %v, want the mismatch reported", q, err)
		}
	}
}
