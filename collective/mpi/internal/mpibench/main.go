//go:build mpi

// Command mpibench times, under mpirun or mpiexec (one rank per core), one
// EF21 communication round of the MPI transport (AggregateSparse: every rank
// contributes a k-sparse message and ends with the rank-order sum) beside a
// bare MPI_Allgatherv of the same frames, for k = 10 and k = 100000 (the
// messages of collective's BenchmarkAggregate: dimension 10k, random
// indices). Rank 0 prints one line per case: ns per round, median of 5
// batches.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/mpi"
	"github.com/efmpi/efmpi/collective/wire"
	"github.com/efmpi/efmpi/sparse"
)

func message(r, k int) *sparse.Vector {
	dim := 10 * k
	rng := rand.New(rand.NewPCG(uint64(r), uint64(k)))
	idx := rng.Perm(dim)[:k]
	slices.Sort(idx)
	v := sparse.NewVector(dim, k)
	for _, i := range idx {
		v.Append(int32(i), 1+rng.Float64())
	}
	return v
}

func main() {
	budget := flag.Duration("time", time.Second, "time per case")
	flag.Parse()
	c, err := mpi.Init(mpi.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "mpibench:", err)
		os.Exit(1)
	}
	w := c.(*mpi.World)
	defer c.Finalize()
	n := c.Size()
	for _, k := range []int{10, 100000} {
		msg := message(c.Rank(), k)
		sum := algorithms.NewAggregator(10 * k).Aggregate // the server's rank-order sum
		out := sparse.NewVector(0, n*k)
		round := func() error {
			_, err := c.AggregateSparse(msg, sum, out)
			return err
		}
		frame, _ := wire.AppendFrame(nil, msg, 0)
		counts := make([]int, n)
		for r := range counts {
			counts[r] = len(frame) // every message has k entries
		}
		recv := make([]byte, n*len(frame))
		raw := func() error { return w.RawAllgatherv(frame, recv, counts) }
		for _, cs := range []struct {
			name string
			op   func() error
		}{{"mpi AggregateSparse", round}, {"raw MPI_Allgatherv", raw}} {
			ns, err := timeOp(c, cs.op, *budget)
			if err != nil {
				fmt.Fprintln(os.Stderr, "mpibench:", err)
				mpi.Abort(1)
			}
			if c.Rank() == 0 {
				fmt.Printf("%s %s n=%d k=%d: %.0f ns/round (%d bytes per rank)\n", mpi.Flavour(), cs.name, n, k, ns, len(frame))
			}
		}
	}
}

// timeOp runs op in 5 batches sized (on rank 0, then broadcast) to fill the
// budget and returns the median ns per op.
func timeOp(c collective.Collectives, op func() error, budget time.Duration) (float64, error) {
	for range 3 { // warm up, grow buffers
		if err := op(); err != nil {
			return 0, err
		}
	}
	// calibrate: batches of doubling size until rank 0 has spent budget/10;
	// rank 0 decides, so every rank runs the same number of collectives
	reps := 1
	for {
		t := time.Now()
		for range reps {
			if err := op(); err != nil {
				return 0, err
			}
		}
		more := []float64{0}
		if time.Since(t) < budget/10 {
			more[0] = 1
		}
		if err := c.BroadcastDense(more); err != nil {
			return 0, err
		}
		if more[0] == 0 {
			break
		}
		reps *= 2
	}
	reps = max(reps*2, 1)
	var per []float64
	for range 5 {
		if err := c.Barrier(); err != nil {
			return 0, err
		}
		t := time.Now()
		for range reps {
			if err := op(); err != nil {
				return 0, err
			}
		}
		per = append(per, float64(time.Since(t).Nanoseconds())/float64(reps))
	}
	sort.Float64s(per)
	return per[2], nil
}
