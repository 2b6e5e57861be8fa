package runfile

import (
	"math"
	"testing"
)

// summaryOf builds a summary from rows without a file: iterations 0, 10,
// 20, …, 32 bits per worker per iteration.
func summaryOf(g ...float64) *Summary {
	s := &Summary{gradNormSq: g}
	for i := range g {
		s.iteration = append(s.iteration, int64(10*i))
		s.bits = append(s.bits, int64(320*i))
	}
	return s
}

// ReachRow against rows worked out by hand: a dip below T that does not
// last counts for first, not for stays; NaN is above every target.
func TestReachRowCriteria(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		g            []float64
		first, stays int
	}{
		{[]float64{1, 0.5, 2, 0.4, 0.3}, 1, 3},
		{[]float64{1, 0.5, 2, 0.4, 0.7}, 1, -1}, // dips twice, ends above T
		{[]float64{0.1, 0.2, 0.3}, 0, 0},        // always below
		{[]float64{1, 0.1, nan}, 1, -1},         // diverged after the dip
		{[]float64{1, nan, 0.1, 0.5}, 2, 2},     // NaN before the last stretch
		{[]float64{2, 3}, -1, -1},               // never
		{nil, -1, -1},                           // no rows
		{[]float64{1, 0.5, 0.6, 0.5}, 1, 3},     // equality counts as reached
		{[]float64{0.5, 0.6, 0.5, 0.5}, 0, 2},
	} {
		if got := ReachRow(c.g, 0.5, First); got != c.first {
			t.Errorf("ReachRow(%v, first) = %d, want %d", c.g, got, c.first)
		}
		if got := ReachRow(c.g, 0.5, Stays); got != c.stays {
			t.Errorf("ReachRow(%v, stays) = %d, want %d", c.g, got, c.stays)
		}
	}
	if got := ReachRow([]float64{0.1}, nan, Stays); got != -1 {
		t.Errorf("NaN target reached at %d", got)
	}
	if _, err := ParseCriterion("last"); err == nil {
		t.Error("criterion last accepted")
	}
}

// The case: three seeds each dip below T on one or two rows and end
// above it. Under first every seed "reaches" T; the median curve (by hand:
// the middle value of the three at each row) never goes below T, so the
// group's median reach is never under either criterion, as the figure of
// the median curve shows.
func TestGroupReachDipsThenAbove(t *testing.T) {
	const T = 1e-3
	a := summaryOf(5e-3, 0.9e-3, 3e-3, 2.7e-3, 2.7e-3)
	b := summaryOf(5e-3, 3e-3, 1e-3, 2.6e-3, 2.7e-3)
	c := summaryOf(5e-3, 2.5e-3, 3e-3, 0.8e-3, 2.8e-3)
	// median per row: 5e-3, 2.5e-3, 3e-3, 2.6e-3, 2.7e-3
	first := GroupReach([]*Summary{a, b, c}, T, First)
	if first.Iteration != -1 || first.Bits != -1 || first.MinIteration != 10 || first.MaxIteration != 30 ||
		first.MinBits != 320 || first.MaxBits != 960 || first.Runs != 3 {
		t.Errorf("first: %+v", first)
	}
	stays := GroupReach([]*Summary{a, b, c}, T, Stays)
	if stays.Iteration != -1 || stays.MinIteration != -1 || stays.MaxIteration != -1 {
		t.Errorf("stays: %+v", stays)
	}
	// at T = 2.65e-3 the median (…, 2.6e-3, 2.7e-3) first dips at row 3 and
	// does not stay; at 2.7e-3 it stays from row 3 (2.6e-3, 2.7e-3).
	if g := GroupReach([]*Summary{a, b, c}, 2.65e-3, First); g.Iteration != 10 || g.Bits != 320 {
		t.Errorf("first at 2.65e-3: %+v", g)
	}
	if g := GroupReach([]*Summary{a, b, c}, 2.65e-3, Stays); g.Iteration != -1 {
		t.Errorf("stays at 2.65e-3: %+v", g)
	}
	// seeds' own stays rows at 2.7e-3: a from row 3 (30),
	// b from row 2 (1e-3, 2.6e-3, 2.7e-3: 20), c never (2.8e-3 last): the
	// minimum is 20, the maximum "never".
	g := GroupReach([]*Summary{a, b, c}, 2.7e-3, Stays)
	if g.Iteration != 30 || g.Bits != 960 || g.MinIteration != 20 || g.MaxIteration != -1 {
		t.Errorf("stays at 2.7e-3: %+v", g)
	}
}

// The median of an even count is the mean of the middle two, and the
// common rows of runs recorded at different iterations are those all have.
func TestMedianAndCommonRows(t *testing.T) {
	if m := Median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median %v", m)
	}
	if m := Median([]float64{1, math.NaN()}); !math.IsNaN(m) {
		t.Errorf("median with NaN %v", m)
	}
	common, rows := CommonRows([][]float64{{0, 10, 20, 30}, {0, 20, 30, 40}})
	if len(common) != 3 || common[0] != 0 || common[1] != 20 || common[2] != 30 ||
		rows[0][1] != 2 || rows[1][1] != 1 || rows[1][2] != 2 {
		t.Errorf("common %v rows %v", common, rows)
	}
	med := MedianColumn([][]float64{{1, 2, 3, 4}, {5, 6, 7, 8}}, rows)
	if med[0] != 3 || med[1] != 4.5 || med[2] != 5.5 {
		t.Errorf("median column %v", med)
	}
}
