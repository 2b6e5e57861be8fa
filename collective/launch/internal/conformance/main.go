// Command conformance is the test program of package launch: started by a
// launcher (mpirun, mpiexec, srun, or launch.Spawn), it joins the world with
// launch.Join, checks every collective against a naive computation from
// per-rank data each rank can derive itself, and prints
//
//	rank R/N ok bytes_sent=S bytes_recv=B
//
// exiting 0, or prints the error and exits 1.
//
// Flags: -transport (tcp or btracey), -dir (shared directory for the
// rendezvous file), -rounds. With EFMPI_TEST_HANG_RANK=r, rank r announces
// "rank r hanging pid=P" on stderr in the middle of the collectives and
// sleeps instead of contributing, so that a test can kill it.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/launch"
	"github.com/efmpi/efmpi/sparse"
)

func main() {
	transport := flag.String("transport", "tcp", "transport: tcp or btracey")
	dir := flag.String("dir", ".", "directory shared by the ranks, for the rendezvous file")
	rounds := flag.Int("rounds", 5, "rounds of the collectives")
	flag.Parse()

	c, env, err := launch.Join(context.Background(), launch.Options{Transport: *transport, SharedDir: *dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(1)
	}
	hang := -1
	if s := os.Getenv("EFMPI_TEST_HANG_RANK"); s != "" {
		if hang, err = strconv.Atoi(s); err != nil {
			fmt.Fprintln(os.Stderr, "conformance: EFMPI_TEST_HANG_RANK:", err)
			os.Exit(2)
		}
	}
	if err := run(c, *rounds, hang); err != nil {
		fmt.Fprintf(os.Stderr, "conformance: rank %d/%d: %v\n", env.Rank, env.Size, err)
		os.Exit(1)
	}
	c.Finalize()
	fmt.Printf("rank %d/%d ok bytes_sent=%d bytes_recv=%d\n", env.Rank, env.Size, c.BytesSent(), c.BytesReceived())
}

// message is rank r's sparse message in round k: r+1+k entries (rank n-1
// sends none in odd rounds) at indices r, r+n, r+2n, … of a vector of
// dimension dim, with values that identify rank, round and position.
func message(r, n, k, dim int) *sparse.Vector {
	nnz := r + 1 + k
	if r == n-1 && k%2 == 1 {
		nnz = 0
	}
	v := sparse.NewVector(dim, nnz)
	for j := 0; j < nnz; j++ {
		v.Append(int32(r+j*n), float64(1000*r+10*k+j)+0.25)
	}
	return v
}

// dense is rank r's vector for Reduce and Allreduce in round k: values of
// mixed magnitudes, so that the summation order shows in the rounding.
func dense(r, k, dim int) []float64 {
	x := make([]float64, dim)
	for i := range x {
		x[i] = math.Sin(float64(1+i+7*r+13*k)) * math.Pow(10, float64((i+r)%9-4))
	}
	return x
}

func run(c collective.Comm, rounds, hang int) error {
	r, n := c.Rank(), c.Size()
	dim := n*(n+rounds) + 5 // every message fits: indices up to r+(r+k)n
	out := make([]sparse.Vector, n)
	for k := 0; k < rounds; k++ {
		// Gather to rank 0, in rank order.
		if k == 1 && r == hang {
			fmt.Fprintf(os.Stderr, "rank %d hanging pid=%d\n", r, os.Getpid())
			time.Sleep(time.Hour)
		}
		if err := collective.GatherSparse(c, message(r, n, k, dim), out); err != nil {
			return fmt.Errorf("round %d: gather: %w", k, err)
		}
		if r == 0 {
			for src := range n {
				if err := equalSparse(&out[src], message(src, n, k, dim)); err != nil {
					return fmt.Errorf("round %d: gather: from rank %d: %w", k, src, err)
				}
			}
		}

		// Sparse broadcast from rank 0.
		want := message(n-1-k%n, n, k, dim) // some message rank 0 can derive
		v := sparse.NewVector(0, 0)
		if r == 0 {
			v.CopyFrom(want)
		}
		if err := collective.BroadcastSparse(c, v); err != nil {
			return fmt.Errorf("round %d: sparse broadcast: %w", k, err)
		}
		if err := equalSparse(v, want); err != nil {
			return fmt.Errorf("round %d: sparse broadcast: %w", k, err)
		}

		// Dense broadcast from rank 0.
		wantx := dense(0, k+100, dim)
		x := make([]float64, dim)
		if r == 0 {
			copy(x, wantx)
		}
		if err := collective.BroadcastDense(c, x); err != nil {
			return fmt.Errorf("round %d: dense broadcast: %w", k, err)
		}
		if err := equalDense(x, wantx); err != nil {
			return fmt.Errorf("round %d: dense broadcast: %w", k, err)
		}

		// Reduce to rank 0 and Allreduce: bitwise the naive sum in the
		// fixed tree order over rank numbers.
		naive := treeSum(n, func(src int) []float64 { return dense(src, k, dim) })
		dst := make([]float64, dim)
		if err := collective.Reduce(c, dense(r, k, dim), dst); err != nil {
			return fmt.Errorf("round %d: reduce: %w", k, err)
		}
		if r == 0 {
			if err := equalDense(dst, naive); err != nil {
				return fmt.Errorf("round %d: reduce: %w", k, err)
			}
		}
		clear(dst)
		if err := collective.Allreduce(c, dense(r, k, dim), dst); err != nil {
			return fmt.Errorf("round %d: allreduce: %w", k, err)
		}
		if err := equalDense(dst, naive); err != nil {
			return fmt.Errorf("round %d: allreduce: %w", k, err)
		}

		if err := collective.Barrier(c); err != nil {
			return fmt.Errorf("round %d: barrier: %w", k, err)
		}
	}
	return nil
}

// treeSum adds v(0), …, v(n−1) as a binary tree over rank numbers, written
// as a recursion: a block of 2^j ranks starting at lo is the sum of its
// first half plus the sum of its second half (when that starts below n).
func treeSum(n int, v func(int) []float64) []float64 {
	var block func(lo, size int) []float64
	block = func(lo, size int) []float64 {
		if size == 1 {
			return v(lo)
		}
		a := block(lo, size/2)
		if lo+size/2 < n {
			for i, y := range block(lo+size/2, size/2) {
				a[i] += y
			}
		}
		return a
	}
	size := 1
	for size < n {
		size *= 2
	}
	return block(0, size)
}

func equalSparse(got, want *sparse.Vector) error {
	if got.Dim != want.Dim || got.Len() != want.Len() {
		return fmt.Errorf("got dim %d with %d entries, want dim %d with %d", got.Dim, got.Len(), want.Dim, want.Len())
	}
	for j := range want.Idx {
		if got.Idx[j] != want.Idx[j] || math.Float64bits(got.Val[j]) != math.Float64bits(want.Val[j]) {
			return fmt.Errorf("entry %d: got (%d, %v), want (%d, %v)", j, got.Idx[j], got.Val[j], want.Idx[j], want.Val[j])
		}
	}
	return nil
}

func equalDense(got, want []float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d values, want %d", len(got), len(want))
	}
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			return fmt.Errorf("value %d: got %v, want %v", i, got[i], want[i])
		}
	}
	return nil
}
