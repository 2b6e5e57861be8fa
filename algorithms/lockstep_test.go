package algorithms

import (
	"sync"

	"github.com/efmpi/efmpi/sparse"
)

// lockstep runs one node per rank in goroutines (test only) with an exchanger
// that behaves like a gather + broadcast: every rank contributes, rank order
// sums, everyone gets the sum.
type lockstep struct {
	nodes []*Node
	agg   *Aggregator
	mu    sync.Mutex
	msgs  []*sparse.Vector
	sum   sparse.Vector
	done  chan struct{}
	count int
}

type rankEx struct {
	w *lockstep
	r int
}

func (e rankEx) Exchange(msgs []*sparse.Vector, agg *sparse.Vector) error {
	w := e.w
	w.mu.Lock()
	w.msgs[e.r] = msgs[0]
	w.count++
	if w.count == len(w.nodes) {
		for r, m := range w.msgs {
			w.agg.Add(r, m)
		}
		w.agg.Sum(&w.sum)
		close(w.done)
	}
	done := w.done
	w.mu.Unlock()
	<-done
	agg.CopyFrom(&w.sum)
	return nil
}

func (w *lockstep) run(f func(*Node, Exchanger) error) error {
	w.msgs = make([]*sparse.Vector, len(w.nodes))
	w.count = 0
	w.done = make(chan struct{})
	errs := make([]error, len(w.nodes))
	var wg sync.WaitGroup
	for r, nd := range w.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[r] = f(nd, rankEx{w, r})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
