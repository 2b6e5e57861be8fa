package runfile

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Criterion says when a run counts as having reached a ‖∇f‖² target T.
type Criterion string

const (
	// First: the first recorded row with ‖∇f‖² ≤ T, even if the run goes
	// back above T afterwards (one momentary dip counts).
	First Criterion = "first"
	// Stays: the first recorded row from which ‖∇f‖² stays ≤ T on every
	// later row to the end of the run. A run whose last row is above T (or
	// not finite) never reaches the target.
	Stays Criterion = "stays"
)

// Criteria lists the criteria, the default first.
func Criteria() []Criterion { return []Criterion{First, Stays} }

// ParseCriterion reads "first" or "stays" ("" is First).
func ParseCriterion(s string) (Criterion, error) {
	switch Criterion(s) {
	case "", First:
		return First, nil
	case Stays:
		return Stays, nil
	}
	return "", fmt.Errorf("target criterion %q: want first (the first row with ‖∇f‖² ≤ T) or stays (the first row from which ‖∇f‖² stays ≤ T to the end)", s)
}

// Describe says in words what the criterion means, for table headers and
// figure notes.
func (c Criterion) Describe() string {
	if c == Stays {
		return "first row from which ‖∇f‖² stays ≤ T to the end of the run"
	}
	return "first row with ‖∇f‖² ≤ T"
}

// ReachRow returns the index of the row at which the values g reach the
// target under criterion c, or -1 if they never do (or target is NaN).
func ReachRow(g []float64, target float64, c Criterion) int {
	if math.IsNaN(target) {
		return -1
	}
	if c == Stays {
		i := len(g)
		for i > 0 && g[i-1] <= target { // NaN compares false: it is above T
			i--
		}
		if i == len(g) {
			return -1
		}
		return i
	}
	for i, v := range g {
		if v <= target {
			return i
		}
	}
	return -1
}

// ReachBy returns the recorded iteration and bits per worker at which the
// run reaches the target under criterion c; ok is false if it never does.
func (s *Summary) ReachBy(target float64, c Criterion) (iteration, bits int64, ok bool) {
	i := ReachRow(s.gradNormSq, target, c)
	if i < 0 {
		return -1, -1, false
	}
	return s.iteration[i], s.bits[i], true
}

// Median is the median of v: the middle value, or the mean of the middle
// two for an even count; NaN if v is empty or holds a NaN.
func Median(v []float64) float64 {
	if len(v) == 0 || slices.ContainsFunc(v, math.IsNaN) {
		return math.NaN()
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// CommonRows returns the iterations that every one of the runs recorded
// (ascending), and for each run the index of each of them among its rows.
// It is how runs that differ only by seed are put side by side, both for
// the median curve of a figure and for the median row of a table.
func CommonRows(iterations [][]float64) (common []float64, rows [][]int) {
	count := map[float64]int{}
	for _, its := range iterations {
		seen := map[float64]bool{}
		for _, it := range its {
			if !seen[it] {
				seen[it] = true
				count[it]++
			}
		}
	}
	for it, n := range count {
		if n == len(iterations) {
			common = append(common, it)
		}
	}
	sort.Float64s(common)
	rows = make([][]int, len(iterations))
	for j, its := range iterations {
		at := make(map[float64]int, len(its))
		for i, it := range its {
			if _, ok := at[it]; !ok {
				at[it] = i
			}
		}
		rows[j] = make([]int, len(common))
		for i, it := range common {
			rows[j][i] = at[it]
		}
	}
	return common, rows
}

// MedianColumn is the median over runs of one column at the common rows:
// out[i] = Median(col[j][rows[j][i]] over j). A run whose column is
// shorter than its rows contributes NaN.
func MedianColumn(cols [][]float64, rows [][]int) []float64 {
	if len(rows) == 0 {
		return nil
	}
	out := make([]float64, len(rows[0]))
	vals := make([]float64, len(cols))
	for i := range out {
		for j, c := range cols {
			if r := rows[j][i]; r < len(c) {
				vals[j] = c[r]
			} else {
				vals[j] = math.NaN()
			}
		}
		out[i] = Median(vals)
	}
	return out
}

// Spread is a target reached by a group of runs that differ only by seed:
// the median run's value and the smallest and largest over the runs.
type Spread struct {
	// Iteration and Bits are where the median curve — the median ‖∇f‖²
	// over the runs at every iteration they all recorded, the curve that
	// `efmpi plot -aggregate seed` draws — reaches the target under the
	// criterion; Bits is the median of the runs' bits at that iteration.
	// -1 when the median curve never reaches it.
	Iteration, Bits int64
	// Min and Max are the smallest and largest of the runs' own values
	// (iterations and bits); a run that never reaches the target counts as
	// +∞, so MaxIteration = -1 means "some run never reached it", and
	// MinIteration = -1 that none did.
	MinIteration, MaxIteration int64
	MinBits, MaxBits           int64
	// Runs is the number of runs.
	Runs int
}

// GroupReach computes the Spread of runs that differ only by seed: the
// reach of their median curve and the range of their own reaches.
func GroupReach(runs []*Summary, target float64, c Criterion) Spread {
	sp := Spread{Iteration: -1, Bits: -1, MinIteration: -1, MaxIteration: -1, MinBits: -1, MaxBits: -1, Runs: len(runs)}
	if len(runs) == 0 {
		return sp
	}
	its := make([][]float64, len(runs))
	bits := make([][]float64, len(runs))
	gs := make([][]float64, len(runs))
	never := false
	first := true
	for j, s := range runs {
		its[j], bits[j], gs[j] = floats(s.iteration), floats(s.bits), s.gradNormSq
		it, b, ok := s.ReachBy(target, c)
		if !ok {
			never = true
			continue
		}
		if first {
			sp.MinIteration, sp.MaxIteration, sp.MinBits, sp.MaxBits = it, it, b, b
			first = false
			continue
		}
		sp.MinIteration, sp.MaxIteration = min(sp.MinIteration, it), max(sp.MaxIteration, it)
		sp.MinBits, sp.MaxBits = min(sp.MinBits, b), max(sp.MaxBits, b)
	}
	if never {
		sp.MaxIteration, sp.MaxBits = -1, -1
	}
	common, rows := CommonRows(its)
	g := MedianColumn(gs, rows)
	if i := ReachRow(g, target, c); i >= 0 {
		sp.Iteration = int64(common[i])
		sp.Bits = int64(math.Round(MedianColumn(bits, rows)[i]))
	}
	return sp
}

func floats(v []int64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
