package par

import (
	"fmt"
	"testing"
	"time"
)

// record notes, per item, the thread that ran it and how often.
type record struct {
	thread []int
	count  []int
	sleep  time.Duration
}

func (r *record) Run(item, thread int) {
	r.thread[item] = thread
	r.count[item]++
	if r.sleep > 0 {
		time.Sleep(r.sleep)
	}
}

// TestForRunsEachItemOnItsSpan: every item exactly once, on the thread whose
// Span holds it, for pools of 1…5 threads, item counts below and above the
// thread count, and many Fors in a row (with pauses between some, the workers idle).
func TestForRunsEachItemOnItsSpan(t *testing.T) {
	for threads := 1; threads <= 5; threads++ {
		p := New(threads)
		for rep := range 50 {
			for _, n := range []int{0, 1, 2, 3, 7, 64} {
				r := &record{thread: make([]int, n), count: make([]int, n)}
				if rep%10 == 9 {
					time.Sleep(100 * time.Microsecond) // let the workers fall asleep
				}
				p.For(n, r)
				for th := range threads {
					lo, hi := Span(n, threads, th)
					for i := lo; i < hi; i++ {
						want := th
						if n <= 1 {
							want = 0
						}
						if r.count[i] != 1 || r.thread[i] != want {
							t.Fatalf("threads %d n %d: item %d ran %d times on thread %d, want once on %d",
								threads, n, i, r.count[i], r.thread[i], want)
						}
					}
				}
			}
		}
		p.Close()
		p.Close()
	}
}

// TestForWaitsForSlowItems: For returns only after the slowest item.
func TestForWaitsForSlowItems(t *testing.T) {
	p := New(3)
	defer p.Close()
	r := &record{thread: make([]int, 3), count: make([]int, 3), sleep: 150 * time.Microsecond}
	p.For(3, r)
	for i, c := range r.count {
		if c != 1 {
			t.Fatalf("item %d ran %d times when For returned", i, c)
		}
	}
}

// TestSpan: the split is contiguous, covers [0, n) and differs in size by
// at most one.
func TestSpan(t *testing.T) {
	for n := range 20 {
		for threads := 1; threads <= 6; threads++ {
			next := 0
			for th := range threads {
				lo, hi := Span(n, threads, th)
				if lo != next || hi-lo < n/threads || hi-lo > n/threads+1 {
					t.Fatalf("%s", fmt.Sprint("Span(", n, threads, th, ") = ", lo, hi))
				}
				next = hi
			}
			if next != n {
				t.Fatalf("Span(%d, %d, ·) ends at %d", n, threads, next)
			}
		}
	}
}

type nop struct{ sum []int }

func (x *nop) Run(item, thread int) { x.sum[thread] += item }

// TestForAllocs: a For allocates nothing.
func TestForAllocs(t *testing.T) {
	p := New(2)
	defer p.Close()
	x := &nop{sum: make([]int, 2)}
	if a := testing.AllocsPerRun(100, func() { p.For(10, x) }); a != 0 {
		t.Fatalf("%v allocations per For", a)
	}
}

// BenchmarkForEmpty is the cost of one For of two empty items on two threads.
func BenchmarkForEmpty(b *testing.B) {
	p := New(2)
	defer p.Close()
	x := &nop{sum: make([]int, 2)}
	for b.Loop() {
		p.For(2, x)
	}
}
