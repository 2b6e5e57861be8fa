//go:build mpi

// Command mpiconf is the conformance test program of package
// collective/mpi: started by mpirun or mpiexec, it checks every collective
// of the MPI transport against a naive computation from data that each rank
// can regenerate for every other rank, and prints "rank R/N ok" (exit 0) or
// the first failure (exit 1).
package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"

	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/mpi"
	"github.com/efmpi/efmpi/collective/wire"
	"github.com/efmpi/efmpi/sparse"
)

const dim = 6000

func main() {
	rounds := flag.Int("rounds", 6, "rounds of the collectives")
	flag.Parse()
	c, err := mpi.Init(mpi.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "mpiconf:", err)
		os.Exit(1)
	}
	if err := run(c, *rounds); err != nil {
		fmt.Fprintf(os.Stderr, "mpiconf: rank %d/%d: %v\n", c.Rank(), c.Size(), err)
		mpi.Abort(1)
		os.Exit(1)
	}
	c.Finalize()
	fmt.Printf("rank %d/%d ok\n", c.Rank(), c.Size())
}

// message is rank r's sparse message in round k: its size varies with rank
// and round, and round 2 has one large message, so that the aggregate's
// fixed slot both overflows (MPI_Allgatherv) and shrinks again.
func message(r, k int) *sparse.Vector {
	nnz := (7*r + 13*k) % 40
	if k == 2 && r == 0 {
		nnz = 3000
	}
	rng := rand.New(rand.NewPCG(uint64(r), uint64(k)))
	idx := rng.Perm(dim)[:nnz]
	slices.Sort(idx)
	v := sparse.NewVector(dim, nnz)
	for j, i := range idx {
		x := rng.NormFloat64() * math.Pow(10, float64(rng.IntN(21)-10))
		if j == 0 {
			x = math.Copysign(0, -1)
		}
		v.Append(int32(i), x)
	}
	return v
}

// dense is rank r's dense vector: magnitudes over 30 decades, so that the
// order of summation shows in the bits.
func dense(r, salt int) []float64 {
	rng := rand.New(rand.NewPCG(uint64(r), uint64(1000+salt)))
	x := make([]float64, 33)
	for j := range x {
		x[j] = (rng.Float64() - 0.5) * math.Pow(10, float64(rng.IntN(31)-15))
	}
	return x
}

// naiveSum is the aggregate: a dense accumulator filled in rank order, its
// touched entries in index order.
func naiveSum(msgs []sparse.Vector, out *sparse.Vector) error {
	acc := make([]float64, dim)
	seen := make([]bool, dim)
	for r := range msgs {
		for j, i := range msgs[r].Idx {
			if seen[i] {
				acc[i] += msgs[r].Val[j]
			} else {
				seen[i], acc[i] = true, msgs[r].Val[j]
			}
		}
	}
	out.Reset(dim)
	for i := range acc {
		if seen[i] {
			out.Append(int32(i), acc[i])
		}
	}
	return nil
}

func sameBits(a, b []float64) bool {
	return len(a) == len(b) && slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

func sameSparse(a, b *sparse.Vector) bool {
	return a.Dim == b.Dim && slices.Equal(a.Idx, b.Idx) && sameBits(a.Val, b.Val)
}

func run(c collective.Collectives, rounds int) error {
	n, me := c.Size(), c.Rank()
	if c.Transport() != "mpi" {
		return fmt.Errorf("transport %q", c.Transport())
	}
	agg := sparse.NewVector(dim, 0)
	gathered := make([]sparse.Vector, n)
	for k := range rounds {
		// aggregate: every rank gets the rank-order sum; Traffic as defined
		all := make([]sparse.Vector, n)
		var wantRecv int64
		for r := range n {
			all[r] = *message(r, k)
			if r != me {
				wantRecv += int64(wire.SparseFrameSize(all[r].Len()))
			}
		}
		want := sparse.NewVector(dim, 0)
		naiveSum(all, want)
		tr, err := c.AggregateSparse(message(me, k), naiveSum, agg)
		if err != nil {
			return fmt.Errorf("round %d aggregate: %w", k, err)
		}
		if !sameSparse(agg, want) {
			return fmt.Errorf("round %d aggregate differs from the rank-order sum (%d vs %d entries)", k, agg.Len(), want.Len())
		}
		if tr.Sent != int64(wire.SparseFrameSize(all[me].Len())) || tr.Received != wantRecv {
			return fmt.Errorf("round %d aggregate traffic %+v, want sent %d received %d", k, tr, wire.SparseFrameSize(all[me].Len()), wantRecv)
		}
		// gather
		if err := c.GatherSparse(message(me, k), gathered); err != nil {
			return fmt.Errorf("round %d gather: %w", k, err)
		}
		if me == 0 {
			for r := range n {
				if !sameSparse(&gathered[r], &all[r]) {
					return fmt.Errorf("round %d gather: message of rank %d differs", k, r)
				}
			}
		}
		// broadcasts
		v := sparse.NewVector(dim, 0)
		if me == 0 {
			v.CopyFrom(&all[n-1])
		}
		if err := c.BroadcastSparse(v); err != nil {
			return fmt.Errorf("round %d sparse broadcast: %w", k, err)
		}
		if !sameSparse(v, &all[n-1]) {
			return fmt.Errorf("round %d sparse broadcast differs", k)
		}
		x := make([]float64, 33)
		if me == 0 {
			copy(x, dense(99, k))
		}
		if err := c.BroadcastDense(x); err != nil {
			return fmt.Errorf("round %d dense broadcast: %w", k, err)
		}
		if !sameBits(x, dense(99, k)) {
			return fmt.Errorf("round %d dense broadcast differs", k)
		}
		// sums in tree order, not rank order
		vs := make([][]float64, n)
		for r := range n {
			vs[r] = dense(r, k)
		}
		wantSum := make([]float64, 33)
		collective.TreeSum(wantSum, vs, make([]float64, 33*n))
		seq := slices.Clone(vs[0])
		for r := 1; r < n; r++ {
			for j := range seq {
				seq[j] += vs[r][j]
			}
		}
		if n >= 4 && sameBits(seq, wantSum) {
			return errors.New("test data does not tell tree order from rank order")
		}
		got := make([]float64, 33)
		if err := c.Allreduce(dense(me, k), got); err != nil {
			return fmt.Errorf("round %d allreduce: %w", k, err)
		}
		if !sameBits(got, wantSum) {
			return fmt.Errorf("round %d allreduce differs from TreeSum", k)
		}
		red := make([]float64, 33)
		if err := c.Reduce(dense(me, k), red); err != nil {
			return fmt.Errorf("round %d reduce: %w", k, err)
		}
		if me == 0 && !sameBits(red, wantSum) {
			return fmt.Errorf("round %d reduce differs from TreeSum", k)
		}
		if err := c.Barrier(); err != nil {
			return fmt.Errorf("round %d barrier: %w", k, err)
		}
	}
	// point to point: two messages received in the opposite order, and one
	// to oneself
	last := n - 1
	a := []float64{1, 2, 3}
	b := message(last, 1)
	if me == last {
		if err := c.Send(a, 0, 7); err != nil {
			return err
		}
		if err := c.Send(b, 0, 8); err != nil {
			return err
		}
	}
	if me == 0 {
		var gb sparse.Vector
		var ga []float64
		if err := c.Receive(&gb, last, 8); err != nil {
			return err
		}
		if err := c.Receive(&ga, last, 7); err != nil {
			return err
		}
		if !sameSparse(&gb, b) || !sameBits(ga, a) {
			return errors.New("out-of-order point-to-point messages differ")
		}
		if err := c.Send([]byte("self"), 0, 3); err != nil {
			return err
		}
		var got []byte
		if err := c.Receive(&got, 0, 3); err != nil || string(got) != "self" {
			return fmt.Errorf("message to oneself: %q, %v", got, err)
		}
	}
	// an MPI call from another thread is refused, not undefined behaviour
	errc := make(chan error)
	go func() { errc <- c.Barrier() }()
	if err := <-errc; !errors.Is(err, mpi.ErrNotMainThread) {
		return fmt.Errorf("barrier from another goroutine: %v, want ErrNotMainThread", err)
	}
	return c.Barrier()
}
