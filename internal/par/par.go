// Package par is efmpi's one deterministic parallel loop: a fixed pool of
// threads that runs the items 0…n−1 of a Task, item i always on the thread
// given by a static contiguous split. A Task must make each item's result
// independent of which thread runs it (and of the other items), and do any
// reduction across items itself, in item order, after For returns: then the
// bits of a computation never depend on the thread count.
//
// For allocates nothing: a Task is an interface value (a pointer to a
// caller-owned struct), not a closure built per call.
package par

import "sync"

// Task is one parallel loop body.
type Task interface {
	// Run computes item on the given thread (0 ≤ thread < Threads): per-thread
	// scratch space may be indexed by thread.
	Run(item, thread int)
}

// Pool runs Tasks on a fixed number of threads: the calling goroutine is
// thread 0, and Threads()−1 long-lived goroutines are the others. A Pool is
// used by one caller at a time (it is not safe for concurrent For calls).
type Pool struct {
	threads int
	start   []chan struct{}
	wg      sync.WaitGroup
	task    Task
	n       int
	closed  bool
}

// New returns a pool of threads threads (at least 1).
func New(threads int) *Pool {
	threads = max(threads, 1)
	p := &Pool{threads: threads}
	for t := 1; t < threads; t++ {
		ch := make(chan struct{})
		p.start = append(p.start, ch)
		go p.worker(t, ch)
	}
	return p
}

// Threads is the number of threads of the pool.
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// Span is the items [lo, hi) that thread t of threads runs out of n: the
// static contiguous split every For uses.
func Span(n, threads, t int) (lo, hi int) {
	return t * n / threads, (t + 1) * n / threads
}

func (p *Pool) worker(t int, ch chan struct{}) {
	for range ch {
		lo, hi := Span(p.n, p.threads, t)
		for i := lo; i < hi; i++ {
			p.task.Run(i, t)
		}
		p.wg.Done()
	}
}

// For runs task.Run(i, thread) for every i in [0, n) and returns when all
// are done. A nil Pool runs everything on the caller.
func (p *Pool) For(n int, task Task) {
	if p == nil || p.threads == 1 || n <= 1 {
		for i := 0; i < n; i++ {
			task.Run(i, 0)
		}
		return
	}
	p.task, p.n = task, n
	p.wg.Add(p.threads - 1)
	for _, ch := range p.start {
		ch <- struct{}{}
	}
	lo, hi := Span(n, p.threads, 0)
	for i := lo; i < hi; i++ {
		task.Run(i, 0)
	}
	p.wg.Wait()
	p.task = nil
}

// Close stops the pool's goroutines. The pool must not be used afterwards.
func (p *Pool) Close() {
	if p == nil || p.closed {
		return
	}
	p.closed = true
	for _, ch := range p.start {
		close(ch)
	}
}
