package driver

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/inproc"
)

// RunInproc runs every rank of the job in this process and returns rank 0's
// result. The ranks are simulated by Nodes(n) goroutines, each hosting a
// block of consecutive ranks with one replica of x and g (inproc.NewHosted):
// thousands of ranks cost a few goroutines, and every collective combines
// the ranks' contributions exactly as one rank per process does, so the
// trajectory is bitwise that of any other transport. rank0 are the options
// of rank 0 (the recorder's attributes, progress); the other ranks get none.
func RunInproc(ctx context.Context, sh *Shared, rank0 Options) (Result, error) {
	return runInprocNodes(ctx, sh, rank0, Nodes(sh.Ranks))
}

// runInprocNodes is RunInproc with p nodes.
func runInprocNodes(ctx context.Context, sh *Shared, rank0 Options, p int) (Result, error) {
	n := sh.Ranks
	world, err := inproc.NewHosted(n, p)
	if err != nil {
		return Result{}, err
	}
	comms := make([]collective.Comm, p)
	for q, c := range world {
		comms[q] = c
	}
	return runWorld(ctx, sh, rank0, comms, func(q int) string {
		lo, hi := inproc.Block(n, p, q)
		return fmt.Sprintf("ranks %d–%d", lo, hi-1)
	})
}

// runWorld runs RunRank on every communicator of an in-process world, each
// in its own goroutine, and returns the result of the first (rank 0's).
// name(q) names communicator q in an error.
func runWorld(ctx context.Context, sh *Shared, rank0 Options, world []collective.Comm, name func(int) string) (Result, error) {
	p := len(world)
	results := make([]Result, p)
	errs := make([]error, p)
	var wg sync.WaitGroup
	for q := range p {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := world[q]
			// Finalize unblocks the other nodes if this one stops early.
			defer c.Finalize()
			if err := c.Init(); err != nil {
				errs[q] = err
				return
			}
			opts := Options{}
			if q == 0 {
				opts = rank0
			}
			results[q], errs[q] = RunRank(ctx, sh, c, opts)
		}()
	}
	wg.Wait()
	if errs[0] != nil {
		return results[0], errs[0]
	}
	for q, err := range errs {
		if err != nil {
			return results[0], fmt.Errorf("%s: %w", name(q), err)
		}
	}
	return results[0], nil
}

// Nodes is the number of goroutines that simulate n in-process ranks: one
// per core the Go scheduler runs on (GOMAXPROCS), at most n. More would only
// add wake-ups and copies of x and g; fewer would leave cores idle.
func Nodes(n int) int { return max(1, min(n, runtime.GOMAXPROCS(0))) }
