package driver

import (
	"context"
	"fmt"
	"sync"

	"github.com/efmpi/efmpi/collective/inproc"
)

// RunInproc runs every rank of the job as a goroutine of this process over an
// in-process world (the embedded default) and returns rank 0's result.
// rank0 are the options of rank 0 (the recorder's attributes, progress); the
// other ranks get none.
func RunInproc(ctx context.Context, sh *Shared, rank0 Options) (Result, error) {
	n := sh.Ranks
	world, err := inproc.NewWorld(n)
	if err != nil {
		return Result{}, err
	}
	results := make([]Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for r := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := world[r]
			// Finalize unblocks the other ranks if this one stops early.
			defer c.Finalize()
			if err := c.Init(); err != nil {
				errs[r] = err
				return
			}
			opts := Options{}
			if r == 0 {
				opts = rank0
			}
			results[r], errs[r] = RunRank(ctx, sh, c, opts)
		}()
	}
	wg.Wait()
	if errs[0] != nil {
		return results[0], errs[0]
	}
	for r, err := range errs {
		if err != nil {
			return results[0], fmt.Errorf("rank %d: %w", r, err)
		}
	}
	return results[0], nil
}
