package algorithms

import (
	"fmt"
	"slices"

	"github.com/efmpi/efmpi/sparse"
)

// Aggregator sums the clients' messages in rank order 0, 1, …, n−1:
// out[j] = m_0[j] + m_1[j] + … over the messages that hold index j, starting
// from the first such message's value. The fixed order makes the aggregate,
// and hence every replica, bitwise reproducible. It allocates nothing after
// NewAggregator.
type Aggregator struct {
	d       int
	acc     []float64
	seen    []bool
	touched []int32
}

// NewAggregator returns an aggregator for dimension d.
func NewAggregator(d int) *Aggregator {
	return &Aggregator{d: d, acc: make([]float64, d), seen: make([]bool, d), touched: make([]int32, 0, d)}
}

// Add adds the message of rank r (the next in rank order); nil adds nothing
// (a client outside the round). A malformed message is an error naming r, and
// leaves the aggregator empty.
func (a *Aggregator) Add(r int, m *sparse.Vector) error {
	if m == nil {
		return nil
	}
	if m.Dim != a.d {
		a.reset()
		return fmt.Errorf("aggregate: message from rank %d has dimension %d, want %d", r, m.Dim, a.d)
	}
	for j, i := range m.Idx {
		if int(i) < 0 || int(i) >= a.d {
			a.reset()
			return fmt.Errorf("aggregate: message from rank %d has index %d outside [0, %d)", r, i, a.d)
		}
		if a.seen[i] {
			a.acc[i] += m.Val[j]
		} else {
			a.seen[i] = true
			a.acc[i] = m.Val[j]
			a.touched = append(a.touched, i)
		}
	}
	return nil
}

// Sum writes the sum of the messages added since the last Sum into out, with
// increasing indices, and empties the aggregator.
func (a *Aggregator) Sum(out *sparse.Vector) {
	out.Reset(a.d)
	if 8*len(a.touched) > a.d {
		for i, seen := range a.seen {
			if seen {
				out.Append(int32(i), a.acc[i])
				a.seen[i] = false
			}
		}
		a.touched = a.touched[:0]
		return
	}
	slices.Sort(a.touched)
	for _, i := range a.touched {
		out.Append(i, a.acc[i])
		a.seen[i] = false
	}
	a.touched = a.touched[:0]
}

func (a *Aggregator) reset() {
	for _, i := range a.touched {
		a.seen[i] = false
	}
	a.touched = a.touched[:0]
}

// Aggregate sums msgs (message r from rank r) into out. An empty message
// (no entries) is a client that sent nothing.
func (a *Aggregator) Aggregate(msgs []sparse.Vector, out *sparse.Vector) error {
	for r := range msgs {
		if err := a.Add(r, &msgs[r]); err != nil {
			return err
		}
	}
	a.Sum(out)
	return nil
}
