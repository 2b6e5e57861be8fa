package collective_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/internal/testworld"
	"github.com/efmpi/efmpi/collective/tcp"
	"github.com/efmpi/efmpi/collective/wire"
	"github.com/efmpi/efmpi/sparse"
)

var transports = []string{"inproc", "tcp", "btracey"}

const confDim = 40

// rankMessage is rank r's sparse message in the conformance suite: k_r =
// 7r mod 9 entries (rank 0 sends none), a -0 among the values.
func rankMessage(r, round int) *sparse.Vector {
	rng := rand.New(rand.NewPCG(uint64(r), uint64(round)))
	k := (7 * r) % 9
	idx := rng.Perm(confDim)[:k]
	slices.Sort(idx)
	v := sparse.NewVector(confDim, k)
	for j, i := range idx {
		x := rng.NormFloat64()
		if j == 1 {
			x = math.Copysign(0, -1)
		}
		v.Append(int32(i), x)
	}
	return v
}

// rankDense is rank r's dense vector: magnitudes spread over 30 decades so
// that the summation order shows in the bits.
func rankDense(r, salt int) []float64 {
	rng := rand.New(rand.NewPCG(uint64(r), uint64(1000+salt)))
	x := make([]float64, confDim)
	for j := range x {
		x[j] = (rng.Float64() - 0.5) * math.Pow(10, float64(rng.IntN(31)-15))
	}
	return x
}

// naiveSum adds the vectors in the given order, starting from a copy of the first.
func naiveSum(vs [][]float64, order []int) []float64 {
	sum := slices.Clone(vs[order[0]])
	for _, r := range order[1:] {
		for j, x := range vs[r] {
			sum[j] += x
		}
	}
	return sum
}

// naiveTree is the reduction tree written as a recursion: the sum of the
// block of size 2^j starting at lo is the sum of its first half plus the sum
// of its second half (when that starts below n).
func naiveTree(vs [][]float64) []float64 {
	n := len(vs)
	size := 1
	for size < n {
		size *= 2
	}
	var block func(lo, size int) []float64
	block = func(lo, size int) []float64 {
		if size == 1 {
			return slices.Clone(vs[lo])
		}
		a := block(lo, size/2)
		if lo+size/2 < n {
			b := block(lo+size/2, size/2)
			for j := range a {
				a[j] += b[j]
			}
		}
		return a
	}
	return block(0, size)
}

func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func sameSparse(a, b *sparse.Vector) bool {
	return a.Dim == b.Dim && slices.Equal(a.Idx, b.Idx) && sameBits(a.Val, b.Val)
}

// aggregate is what rank 0 broadcasts: the nonzero entries of the sum of the
// gathered messages.
func aggregate(msgs []sparse.Vector) *sparse.Vector {
	d := make([]float64, confDim)
	for i := range msgs {
		msgs[i].AddTo(d)
	}
	v := sparse.NewVector(confDim, 0)
	for i, x := range d {
		if x != 0 {
			v.Append(int32(i), x)
		}
	}
	return v
}

type counts struct{ sent, recv int64 }

func snap(c collective.Comm) counts { return counts{c.BytesSent(), c.BytesReceived()} }

// confResult is what one rank observed in one round.
type confResult struct {
	gathered        []sparse.Vector // rank 0
	bcast           *sparse.Vector
	dense           []float64
	reduced         []float64 // rank 0
	allreduced      []float64
	afterGather     counts
	afterGatherBcst counts
	final           counts
}

// conformanceRound runs the collectives once on rank c.
func conformanceRound(c collective.Comm, round int, res *confResult) error {
	n, r := c.Size(), c.Rank()
	base := snap(c)
	sub := func(x counts) counts { return counts{x.sent - base.sent, x.recv - base.recv} }

	msg := rankMessage(r, round)
	if r == 0 {
		res.gathered = make([]sparse.Vector, n)
		res.gathered[0] = *sparse.NewVector(5, 1) // storage to be overwritten
		res.gathered[0].Append(4, 1)
	}
	if err := collective.GatherSparse(c, msg, res.gathered); err != nil {
		return err
	}
	res.afterGather = sub(snap(c))

	if r == 0 {
		res.bcast = aggregate(res.gathered)
	} else {
		res.bcast = sparse.NewVector(3, 8)
		res.bcast.Append(2, 7)
	}
	if err := collective.BroadcastSparse(c, res.bcast); err != nil {
		return err
	}
	res.afterGatherBcst = sub(snap(c))

	res.dense = make([]float64, confDim)
	if r == 0 {
		copy(res.dense, rankDense(0, 99+round))
	}
	if err := collective.BroadcastDense(c, res.dense); err != nil {
		return err
	}

	if r == 0 {
		res.reduced = make([]float64, confDim)
	}
	if err := collective.Reduce(c, rankDense(r, round), res.reduced); err != nil {
		return err
	}
	res.allreduced = make([]float64, confDim)
	if err := collective.Allreduce(c, rankDense(r, 50+round), res.allreduced); err != nil {
		return err
	}
	if err := collective.Barrier(c); err != nil {
		return err
	}
	res.final = sub(snap(c))
	return nil
}

func TestConformance(t *testing.T) {
	for _, tr := range transports {
		for _, n := range []int{1, 2, 3, 4, 8} {
			t.Run(fmt.Sprintf("%s/n=%d", tr, n), func(t *testing.T) {
				comms := testworld.New(t, tr, n, testworld.Opts{})
				defer testworld.FinalizeAll(comms)
				for _, c := range comms {
					if c.Transport() != tr {
						t.Fatalf("Transport() = %q, want %q", c.Transport(), tr)
					}
				}
				var rounds [2][]confResult
				for round := range rounds {
					res := make([]confResult, n)
					if err := testworld.ForEach(comms, func(c collective.Comm) error {
						return conformanceRound(c, round, &res[c.Rank()])
					}); err != nil {
						t.Fatal(err)
					}
					checkConformance(t, n, round, res, tr == "inproc")
					rounds[round] = res
				}
				if tr != "btracey" {
					checkPointToPoint(t, comms)
				}
				checkGob(t, comms)
			})
		}
	}
}

func checkConformance(t *testing.T, n, round int, res []confResult, shared bool) {
	t.Helper()
	// Gather: rank 0 holds every rank's message, in rank order.
	for r := range n {
		if want := rankMessage(r, round); !sameSparse(&res[0].gathered[r], want) {
			t.Errorf("round %d: gathered[%d] = %+v, want %+v", round, r, res[0].gathered[r], *want)
		}
	}
	want := aggregate(res[0].gathered)
	dense0 := rankDense(0, 99+round)
	var src, src2 [][]float64
	order := make([]int, n)
	for r := range n {
		src = append(src, rankDense(r, round))
		src2 = append(src2, rankDense(r, 50+round))
		order[r] = r
	}
	wantReduce := naiveTree(src)
	wantAll := naiveTree(src2)
	if n >= 4 && sameBits(naiveSum(src, order), wantReduce) {
		t.Errorf("test data does not distinguish the tree order from rank order")
	}
	if !sameBits(res[0].reduced, wantReduce) {
		t.Errorf("round %d: reduce = %v, want (tree order) %v", round, res[0].reduced, wantReduce)
	}
	for r := range n {
		if !sameSparse(res[r].bcast, want) {
			t.Errorf("round %d rank %d: sparse broadcast = %+v, want %+v", round, r, *res[r].bcast, *want)
		}
		if !sameBits(res[r].dense, dense0) {
			t.Errorf("round %d rank %d: dense broadcast differs", round, r)
		}
		if !sameBits(res[r].allreduced, wantAll) {
			t.Errorf("round %d rank %d: allreduce = %v, want %v", round, r, res[r].allreduced, wantAll)
		}
	}

	// Byte counters from the frame-size formula.
	nb := int64(wire.SparseFrameSize(want.Len()))
	dn := int64(wire.DenseFrameSize(confDim))
	bar := int64(wire.BytesFrameSize(0))
	var up int64
	for r := 1; r < n; r++ {
		km := int64(wire.SparseFrameSize(rankMessage(r, round).Len()))
		up += km
		checkCounts(t, round, r, "gather", res[r].afterGather, counts{km, 0})
		if shared {
			continue
		}
		checkCounts(t, round, r, "gather+bcast", res[r].afterGatherBcst, counts{km, nb})
		checkCounts(t, round, r, "all", res[r].final, counts{km + 2*dn + bar, nb + 2*dn + bar})
	}
	m := int64(n - 1)
	if shared {
		// inproc: only the gather moves frames; the other collectives go
		// through shared memory.
		for r := 1; r < n; r++ {
			km := int64(wire.SparseFrameSize(rankMessage(r, round).Len()))
			checkCounts(t, round, r, "all (inproc)", res[r].final, counts{km, 0})
		}
		checkCounts(t, round, 0, "all (inproc)", res[0].final, counts{0, up})
		return
	}
	checkCounts(t, round, 0, "gather", res[0].afterGather, counts{0, up})
	checkCounts(t, round, 0, "gather+bcast", res[0].afterGatherBcst, counts{m * nb, up})
	checkCounts(t, round, 0, "all", res[0].final, counts{m * (nb + 2*dn + bar), up + m*(2*dn+bar)})
}

func checkCounts(t *testing.T, round, r int, what string, got, want counts) {
	t.Helper()
	if got != want {
		t.Errorf("round %d rank %d after %s: bytes sent/received = %d/%d, want %d/%d", round, r, what, got.sent, got.recv, want.sent, want.recv)
	}
}

// checkPointToPoint sends two messages from the last rank to rank 0 and
// receives them in the opposite order, plus a message to oneself.
func checkPointToPoint(t *testing.T, comms []collective.Comm) {
	t.Helper()
	n := len(comms)
	last := n - 1
	a := []float64{1, 2, 3}
	b := sparse.NewVector(9, 2)
	b.Append(1, -1)
	b.Append(8, 0.5)
	err := testworld.ForEach(comms, func(c collective.Comm) error {
		r := c.Rank()
		if r == last {
			if err := c.Send(a, 0, 7); err != nil {
				return err
			}
			if err := c.Send(b, 0, 8); err != nil {
				return err
			}
		}
		if r == 0 {
			var gb sparse.Vector
			var ga []float64
			if err := c.Receive(&gb, last, 8); err != nil {
				return err
			}
			if err := c.Receive(&ga, last, 7); err != nil {
				return err
			}
			if !sameSparse(&gb, b) || !sameBits(ga, a) {
				return fmt.Errorf("out-of-order receive got %v %+v", ga, gb)
			}
		}
		if r == 0 {
			if err := c.Send([]byte("self"), 0, 3); err != nil {
				return err
			}
			var got []byte
			if err := c.Receive(&got, 0, 3); err != nil {
				return err
			}
			if string(got) != "self" {
				return fmt.Errorf("self message = %q", got)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n > 1 {
		// rank 0 is not in a tcp star with itself only: ranks 1 and 2 have no route.
		if tc, ok := comms[1].(*tcp.Comm); ok && n > 2 {
			err := tc.Send(a, 2, 1)
			if !errors.Is(err, collective.ErrNoRoute) {
				t.Errorf("tcp send between non-zero ranks: %v, want ErrNoRoute", err)
			}
		}
	}
}

type gobThing struct {
	Name  string
	Steps []int
}

// checkGob sends a value without a fast path from the last rank to rank 0.
func checkGob(t *testing.T, comms []collective.Comm) {
	t.Helper()
	n := len(comms)
	if n < 2 {
		return
	}
	want := gobThing{Name: "ef21", Steps: []int{1, 2, 3}}
	err := testworld.ForEach(comms, func(c collective.Comm) error {
		switch c.Rank() {
		case n - 1:
			return c.Send(want, 0, 11)
		case 0:
			var got gobThing
			if err := c.Receive(&got, n-1, 11); err != nil {
				return err
			}
			if got.Name != want.Name || !slices.Equal(got.Steps, want.Steps) {
				return fmt.Errorf("gob value = %+v", got)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
