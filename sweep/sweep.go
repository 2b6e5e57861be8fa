// Package sweep runs an experiment over a grid of config values and tables
// the outcome: for every point, the first iteration and the bits per worker
// at which ‖∇f‖² reached a target, and the final values.
//
// A grid is a list of axes, each a config key ("stepsize.gamma0",
// "run.iterations", "algorithm.k", "run.ranks", …) with its values written
// in TOML syntax as `efmpi run -set` takes them. Points are the cartesian
// product in nested-loop order: the first axis varies slowest, the last
// fastest.
//
// The paper chooses K, the number of iterations, as the smallest value on a
// grid (e.g. multiples of 500) for which the run reaches the target; since
// γ = γ0/√(K+1) depends on K, every candidate K is a separate run. KSearch
// does that per grid point.
//
// The package runs nothing itself: a Runner (in-process ranks in cmd/efmpi,
// or a fake in tests) runs one point into an HDF5 file, and the package
// reads the file back through package runfile, which names and counts runs
// for every output.
package sweep

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/runfile"
)

// KSearch chooses K per point: the smallest K in Start, Start+Step, …, ≤ Max
// whose run reaches the target.
type KSearch struct {
	Key              string // the config key of K, normally run.iterations
	Start, Step, Max int
	Linear           bool // try every K in order instead of doubling and bisecting
}

// ParseKSearch reads "key=START:STEP:MAX" or "START:STEP:MAX" (key
// run.iterations). START defaults to STEP when empty ("::").
func ParseKSearch(s string) (KSearch, error) {
	ks := KSearch{Key: "run.iterations"}
	spec := s
	if eq := strings.IndexByte(s, '='); eq >= 0 {
		ks.Key, spec = strings.TrimSpace(s[:eq]), s[eq+1:]
	}
	parts := strings.Split(spec, ":")
	if len(parts) != 3 {
		return KSearch{}, fmt.Errorf("choose-k %q: want [key=]START:STEP:MAX", s)
	}
	var nums [3]int
	for i, p := range parts {
		if p == "" && i == 0 {
			nums[0] = -1
			continue
		}
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return KSearch{}, fmt.Errorf("choose-k %q: %q is not an integer", s, p)
		}
		nums[i] = v
	}
	ks.Start, ks.Step, ks.Max = nums[0], nums[1], nums[2]
	if ks.Start < 0 {
		ks.Start = ks.Step
	}
	if ks.Step < 1 || ks.Start < 1 || ks.Max < ks.Start {
		return KSearch{}, fmt.Errorf("choose-k %q: want 1 ≤ START ≤ MAX and STEP ≥ 1", s)
	}
	return ks, nil
}

// grid returns the number of candidate values of K.
func (k KSearch) grid() int { return (k.Max-k.Start)/k.Step + 1 }

// value is the i-th candidate.
func (k KSearch) value(i int) int { return k.Start + i*k.Step }

// Runner runs one configuration — the base config with the given `-set`
// overrides applied — and writes its trajectory to out (replacing a file
// there). It returns an error only when the run could not be made (bad
// input, I/O); a run that diverged is not an error: its file says so.
type Runner func(ctx context.Context, overrides []string, out string) error

// Result is one row of the table: one run.
type Result struct {
	Point Point
	// K is the value of the KSearch key for this run (0 without a search).
	K int
	// Role is "point" (no search), "chosen" (the K picked for its point),
	// "tried" (a K run during the search) or "none" (no K on the grid
	// reached the target: the row of the largest K tried).
	Role string
	File string
	// Status is the run's status attribute, or "error" if it could not run.
	Status string
	Err    string
	// Reused is set when a resumed sweep took the run from an existing
	// finished file instead of running it; Resumed when it continued an
	// unfinished one from its newest checkpoint (run.resume=true).
	Reused, Resumed bool
	// Summary is the run file's summary (package runfile; nil if there is
	// no readable file). The fields below repeat its numbers.
	Summary *runfile.Summary
	// ItersToTarget and BitsToTarget are the recorded iteration and bits
	// per worker at which ‖∇f‖² reaches the target under the sweep's
	// Criterion (-1: never; also -1 without a target).
	ItersToTarget, BitsToTarget int64
	// Final values: last row's iteration, f, ‖∇f‖², bits; MinGradNormSq over
	// all rows.
	Iterations    int64
	FinalF        float64
	FinalGradNorm float64
	MinGradNormSq float64
	BitsPerWorker int64
	Gamma         float64
	TimeS         float64
	// Method is the run's label (runfile.MethodLabel); Rule is its step-size
	// rule and Gamma0 the rule's γ0 (NaN if none).
	Method, Rule   string
	Gamma0         float64
	reachedTarget  bool
	hasTrajectory  bool
	hadRunnerError bool
}

// Reached reports whether the run reached the target.
func (r Result) Reached() bool { return r.reachedTarget }

// Sweep is a grid, an optional K search, a target and where files go.
type Sweep struct {
	Axes []Axis
	// Target is the ‖∇f‖² threshold; NaN or ≤ 0 for none (required with a
	// K search). Criterion says when a run reaches it (runfile.First when
	// empty; runfile.Stays: from a row on to the end of the run), also for
	// the K search.
	Target    float64
	Criterion runfile.Criterion
	// KSearch, when non-nil, chooses K for every point.
	KSearch *KSearch
	// Dir receives point-NNN.h5 (and point-NNN-k<K>.h5 for tried Ks).
	Dir string
	// Progress, if set, is called after every run (never by two runs at
	// once).
	Progress func(Result)
	// Resume reuses a run whose file already exists and is finished
	// (runfile.Finished) instead of running it again.
	Resume bool
	// Zip pairs axes (by Key) that advance together (see ExpandZip).
	Zip [][]string
	// Jobs is the most grid points in flight at once; 0 or 1 runs them one
	// after the other. Points are independent runs, so their files are the
	// same whatever Jobs is; a point's K search stays sequential.
	Jobs int
	// Cores, when > 0, replaces Jobs by a budget of cores: a point starts,
	// in point order, once the cores it needs — Weight(point), clamped to
	// [1, Cores] (1 when Weight is nil) — are free.
	Cores  int
	Weight func(Point) int

	progressMu *sync.Mutex // set by Run: serialises Progress
}

// criterion is the sweep's target criterion (runfile.First by default).
func (s *Sweep) criterion() runfile.Criterion {
	if s.Criterion == "" {
		return runfile.First
	}
	return s.Criterion
}

// HasTarget reports whether a target is set.
func (s *Sweep) HasTarget() bool { return !math.IsNaN(s.Target) && s.Target > 0 }

// Run runs every point (several at once with Jobs or Cores, started in point
// order) and returns one Result per run, points in expansion order whatever
// order they finished in; with a K search a point's tried Ks come before its
// chosen one. A Runner error for one point is recorded in its row and the
// sweep goes on; Run returns an error only for a bad sweep or a cancelled
// context (then with the rows of the points that finished).
func (s *Sweep) Run(ctx context.Context, run Runner) ([]Result, error) {
	points, err := ExpandZip(s.Axes, s.Zip)
	if err != nil {
		return nil, err
	}
	if s.KSearch != nil {
		if !s.HasTarget() {
			return nil, errors.New("choosing K needs a target (-target)")
		}
		for _, a := range s.Axes {
			if slices.Contains(a.keys(), s.KSearch.Key) {
				return nil, fmt.Errorf("%s is both a grid axis and the K being chosen", s.KSearch.Key)
			}
		}
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, err
	}
	s.progressMu = new(sync.Mutex)
	// per point: its rows, whether it ran to the end, its error
	rows := make([][]Result, len(points))
	done := make([]bool, len(points))
	errs := make([]error, len(points))
	point := func(i int) {
		p := points[i]
		if s.KSearch == nil {
			r := s.runOne(ctx, run, p, 0, s.pointFile(p, 0))
			r.Role = "point"
			s.report(r)
			rows[i], done[i] = []Result{r}, true
			return
		}
		rows[i], errs[i] = s.search(ctx, run, p)
		done[i] = true
	}
	capacity, weight := s.budget()
	sem := newBudget(capacity)
	var wg sync.WaitGroup
	for i, p := range points {
		w := weight(p)
		if !sem.acquire(ctx, w) {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer sem.release(w)
			point(i)
		}()
	}
	wg.Wait()
	var all []Result
	for i := range points {
		if !done[i] {
			break
		}
		all = append(all, rows[i]...)
		if errs[i] != nil {
			return all, errs[i]
		}
	}
	return all, ctx.Err()
}

// budget returns the capacity of the scheduler and each point's weight in
// it: Cores and the clamped Weight, or Jobs (at least 1) and 1 per point.
func (s *Sweep) budget() (int, func(Point) int) {
	if s.Cores <= 0 {
		return max(1, s.Jobs), func(Point) int { return 1 }
	}
	return s.Cores, func(p Point) int {
		w := 1
		if s.Weight != nil {
			w = s.Weight(p)
		}
		return min(max(w, 1), s.Cores)
	}
}

// budget is a counting semaphore with weights, granted in request order.
type budget struct {
	mu   sync.Mutex
	cond *sync.Cond
	free int
}

func newBudget(n int) *budget {
	b := &budget{free: n}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// acquire waits until w units are free and takes them; false (taking
// nothing) once ctx is cancelled.
func (b *budget) acquire(ctx context.Context, w int) bool {
	stop := context.AfterFunc(ctx, func() {
		b.mu.Lock()
		b.cond.Broadcast()
		b.mu.Unlock()
	})
	defer stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.free < w && ctx.Err() == nil {
		b.cond.Wait()
	}
	if ctx.Err() != nil {
		return false
	}
	b.free -= w
	return true
}

func (b *budget) release(w int) {
	b.mu.Lock()
	b.free += w
	b.cond.Broadcast()
	b.mu.Unlock()
}

func (s *Sweep) report(r Result) {
	if s.Progress == nil {
		return
	}
	if s.progressMu != nil {
		s.progressMu.Lock()
		defer s.progressMu.Unlock()
	}
	s.Progress(r)
}

// pointFile names a run's file: point-NNN.h5, or point-NNN-k<K>.h5 during a
// K search.
func (s *Sweep) pointFile(p Point, k int) string {
	name := PointFileName(p.Index)
	if k > 0 {
		name = fmt.Sprintf("point-%03d-k%d.h5", p.Index, k)
	}
	return filepath.Join(s.Dir, name)
}

// runOne runs one configuration and reads its file back.
func (s *Sweep) runOne(ctx context.Context, run Runner, p Point, k int, file string) Result {
	over := p.Overrides()
	if k > 0 {
		over = append(over, fmt.Sprintf("%s=%d", s.KSearch.Key, k))
	}
	r := Result{Point: p, K: k, File: file, ItersToTarget: -1, BitsToTarget: -1,
		FinalF: math.NaN(), FinalGradNorm: math.NaN(), MinGradNormSq: math.NaN(), Gamma: math.NaN(), Gamma0: math.NaN(),
		TimeS: math.NaN()}
	if s.Resume {
		if sum, err := runfile.SummarizeFile(file); err == nil && runfile.Finished(sum.Status) {
			if err := r.fill(file, s.Target, s.criterion()); err == nil {
				r.Reused = true
				return r
			}
		}
		// an interrupted run with a complete checkpoint continues from it
		if done, _ := filepath.Glob(file + ".ckpt/ckpt-*.done"); len(done) > 0 {
			r.Resumed = true
			over = append(over, "run.resume=true")
		}
	}
	if !r.Resumed {
		os.Remove(file)
	}
	if err := run(ctx, over, file); err != nil {
		r.Err = err.Error()
		r.hadRunnerError = true
		if _, statErr := os.Stat(file); statErr != nil {
			r.Status = "error"
			return r
		}
	}
	if err := r.fill(file, s.Target, s.criterion()); err != nil {
		r.Status = "error"
		if r.Err == "" {
			r.Err = err.Error()
		}
	}
	return r
}

// fill reads a run file into the result.
func (r *Result) fill(file string, target float64, crit runfile.Criterion) error {
	sum, err := runfile.SummarizeFile(file)
	if err != nil {
		return err
	}
	r.Summary = sum
	r.Status = sum.Status
	r.Method, r.Rule = sum.Label, runfile.AttrText(sum.Attrs["stepsize_rule"])
	if g, ok := sum.Attrs["gamma0"].(float64); ok {
		r.Gamma0 = g
	}
	if g, ok := sum.Attrs["gamma"].(float64); ok {
		r.Gamma = g
	}
	if sum.Rows == 0 {
		return nil
	}
	r.hasTrajectory = true
	r.Iterations = sum.LastIteration
	r.FinalF = sum.FinalF
	r.FinalGradNorm = sum.FinalGradNormSq
	r.BitsPerWorker = sum.BitsPerWorker
	r.TimeS = sum.TimeS
	r.MinGradNormSq = sum.MinGradNormSq
	var ok bool
	r.ItersToTarget, r.BitsToTarget, ok = sum.ReachBy(target, crit)
	r.reachedTarget = ok
	return nil
}

// Reach returns the first recorded iteration and bits per worker at which
// ‖∇f‖² ≤ target, or -1, -1 if the run never got there (or target is NaN).
func Reach(run *hdf5io.Run, target float64) (int64, int64) {
	it, bits, _ := runfile.Summarize(run).Reach(target)
	return it, bits
}

// search chooses K for one point. Unless Linear, it doubles the index of K
// on the grid until a run reaches the target, then bisects between the last
// failure and the first success; the chosen K's predecessor on the grid
// (K − Step) has always been run and failed, unless K is Start. The chosen
// run's file is renamed to point-NNN.h5.
func (s *Sweep) search(ctx context.Context, run Runner, p Point) ([]Result, error) {
	ks := s.KSearch
	tried := map[int]Result{} // by grid index
	var order []int
	try := func(i int) (bool, error) {
		if r, ok := tried[i]; ok {
			return r.reachedTarget, nil
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		k := ks.value(i)
		r := s.runOne(ctx, run, p, k, s.pointFile(p, k))
		r.Role = "tried"
		tried[i] = r
		order = append(order, i)
		s.report(r)
		return r.reachedTarget, nil
	}
	n := ks.grid()
	lo, hi := -1, -1 // lo: largest index known to fail; hi: smallest known to succeed
	var err error
	if ks.Linear {
		for i := 0; i < n; i++ {
			ok, e := try(i)
			if e != nil {
				err = e
				break
			}
			if ok {
				hi = i
				break
			}
			lo = i
		}
	} else {
		for step, i := 1, 0; ; {
			ok, e := try(i)
			if e != nil {
				err = e
				break
			}
			if ok {
				hi = i
				break
			}
			lo = i
			if i == n-1 {
				break
			}
			i = min(n-1, i+step)
			step *= 2
		}
		for err == nil && hi >= 0 && hi-lo > 1 {
			mid := (lo + hi) / 2
			ok, e := try(mid)
			if e != nil {
				err = e
				break
			}
			if ok {
				hi = mid
			} else {
				lo = mid
			}
		}
	}
	var out []Result
	for _, i := range order {
		if i != hi {
			out = append(out, tried[i])
		}
	}
	switch {
	case hi >= 0:
		r := tried[hi]
		final := s.pointFile(p, 0)
		if e := os.Rename(r.File, final); e == nil {
			r.File = final
		}
		r.Role = "chosen"
		out = append(out, r)
	case len(out) > 0:
		// nothing reached the target: mark the largest K tried
		last := 0
		for i, r := range out {
			if r.K > out[last].K {
				last = i
			}
		}
		out[last].Role = "none"
	}
	return out, err
}

// Columns returns the CSV header for a sweep: "point", the grid axes (a
// set axis by its name), the K key and "role" (with a search), then the
// per-run columns every table of runs shares (runfile.TableHeader, target
// columns included), then "file" and "error".
func (s *Sweep) Columns() []string {
	cols := []string{"point"}
	for _, a := range s.Axes {
		cols = append(cols, a.Key)
	}
	if s.KSearch != nil {
		cols = append(cols, s.KSearch.Key, "role")
	}
	cols = append(cols, runfile.TableHeader(true)...)
	return append(cols, "file", "error")
}

// WriteCSV writes the results as a table with the header Columns(). A
// target never reached is an empty cell; numbers are written in full
// precision (strconv 'g', -1) so the table reads back exactly.
func (s *Sweep) WriteCSV(w io.Writer, results []Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(s.Columns()); err != nil {
		return err
	}
	target, crit := math.NaN(), s.criterion()
	if s.HasTarget() {
		target = s.Target
	}
	for _, r := range results {
		row := []string{strconv.Itoa(r.Point.Index)}
		row = append(row, r.Point.Values...)
		if s.KSearch != nil {
			row = append(row, strconv.Itoa(r.K), r.Role)
		}
		if r.Summary != nil {
			row = append(row, r.Summary.CellsBy(target, crit)...)
		} else {
			row = append(row, runfile.EmptyCells(true, r.Status)...)
		}
		row = append(row, r.File, r.Err)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Chosen returns the rows that stand for their point: every row without a K
// search, else the chosen K (or the "none" row) of each point.
func Chosen(results []Result) []Result {
	var out []Result
	for _, r := range results {
		if r.Role != "tried" {
			out = append(out, r)
		}
	}
	return out
}
