package sweep

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/efmpi/efmpi/runfile"
)

// gate wraps fakeRunner for concurrent use: it counts the runs (weighted by
// run.ranks) in flight, records the most seen, and holds each run until
// `hold` units are in flight (or a second has passed), so that a sweep
// allowed that much concurrency is seen to reach it.
type gate struct {
	mu          sync.Mutex
	fr          fakeRunner
	now, most   int
	hold        int
	releaseOnce sync.Once
	release     chan struct{}
}

func newGate(kNeeded, hold int) *gate {
	return &gate{fr: fakeRunner{kNeeded: kNeeded}, hold: hold, release: make(chan struct{})}
}

func ranksOf(overrides []string) int {
	for _, o := range overrides {
		if v, ok := strings.CutPrefix(o, "run.ranks="); ok {
			return int(v[0] - '0')
		}
	}
	return 1
}

func (g *gate) run(ctx context.Context, overrides []string, out string) error {
	w := ranksOf(overrides)
	g.mu.Lock()
	g.now += w
	g.most = max(g.most, g.now)
	if g.now >= g.hold {
		g.releaseOnce.Do(func() { close(g.release) })
	}
	g.mu.Unlock()
	select {
	case <-g.release:
	case <-time.After(time.Second):
	}
	g.mu.Lock()
	err := g.fr.run(ctx, overrides, out)
	g.now -= w
	g.mu.Unlock()
	return err
}

// sameRows compares two sweeps' rows field by field (NaN equal to NaN),
// except what legitimately differs between sweeps in different folders: the
// folder of the files.
func sameRows(t *testing.T, what string, got, want []Result) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		g.File, w.File = filepath.Base(g.File), filepath.Base(w.File)
		// The summaries are compared by value, with their paths cut to the base name.
		var gs, ws runfile.Summary
		if g.Summary != nil {
			gs = *g.Summary
			gs.File = filepath.Base(gs.File)
		}
		if w.Summary != nil {
			ws = *w.Summary
			ws.File = filepath.Base(ws.File)
		}
		if a, b := fmt.Sprintf("%+v", gs), fmt.Sprintf("%+v", ws); a != b {
			t.Errorf("%s: row %d summary\n got  %s\n want %s", what, i, a, b)
		}
		g.Summary, w.Summary = nil, nil
		if a, b := fmt.Sprintf("%+v", g), fmt.Sprintf("%+v", w); a != b {
			t.Errorf("%s: row %d\n got  %s\n want %s", what, i, a, b)
		}
	}
}

// TestSweepJobs runs the same grid one point at a time and three at a time:
// the same rows in the same order, at most three runs in flight and three
// reached.
func TestSweepJobs(t *testing.T) {
	axes := []Axis{{Key: "stepsize.gamma0", Values: []string{"0.5", "1", "2"}}, {Key: "algorithm.k", Values: []string{"1", "2"}}}
	seq := &Sweep{Dir: t.TempDir(), Target: 0.05, Axes: axes}
	g1 := newGate(0, 1)
	want, err := seq.Run(context.Background(), g1.run)
	if err != nil {
		t.Fatal(err)
	}
	par := &Sweep{Dir: t.TempDir(), Target: 0.05, Axes: axes, Jobs: 3}
	var order []int
	par.Progress = func(r Result) { order = append(order, r.Point.Index) } // serialised by Run
	g3 := newGate(0, 3)
	got, err := par.Run(context.Background(), g3.run)
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, "Jobs 3 vs 1", got, want)
	if g1.most != 1 || g3.most != 3 {
		t.Errorf("most runs in flight: %d with Jobs 1 (want 1), %d with Jobs 3 (want 3)", g1.most, g3.most)
	}
	if len(order) != 6 {
		t.Errorf("progress called %d times, want 6", len(order))
	}
}

// TestSweepCoresBudget gives points of 1, 2 and 3 ranks a budget of 3
// cores: the ranks in flight never exceed 3 (a 3-rank point runs alone),
// 3 is reached, and the rows equal the sequential sweep's.
func TestSweepCoresBudget(t *testing.T) {
	axes := []Axis{{Key: "run.ranks", Values: []string{"1", "2", "3", "1", "1", "2"}}}
	weight := func(p Point) int { return ranksOf(p.Overrides()) }
	seq := &Sweep{Dir: t.TempDir(), Target: 0.05, Axes: axes}
	want, err := seq.Run(context.Background(), newGate(0, 1).run)
	if err != nil {
		t.Fatal(err)
	}
	g := newGate(0, 3)
	par := &Sweep{Dir: t.TempDir(), Target: 0.05, Axes: axes, Cores: 3, Weight: weight}
	got, err := par.Run(context.Background(), g.run)
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, "Cores 3 vs sequential", got, want)
	if g.most != 3 {
		t.Errorf("most ranks in flight %d, want 3", g.most)
	}
}

// TestKSearchJobs: with two points searched at once, each point's search
// still picks the smallest K on the grid and has run K − step, and the rows
// equal the sequential search's.
func TestKSearchJobs(t *testing.T) {
	ks := &KSearch{Key: "run.iterations", Start: 500, Step: 500, Max: 20000}
	axes := []Axis{{Key: "stepsize.gamma0", Values: []string{"1", "2", "3"}}}
	seq := &Sweep{Dir: t.TempDir(), Target: 1e-3, KSearch: ks, Axes: axes}
	want, err := seq.Run(context.Background(), newGate(1700, 1).run)
	if err != nil {
		t.Fatal(err)
	}
	g := newGate(1700, 2)
	par := &Sweep{Dir: t.TempDir(), Target: 1e-3, KSearch: ks, Axes: axes, Jobs: 2}
	got, err := par.Run(context.Background(), g.run)
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, "K search, Jobs 2 vs 1", got, want)
	if g.most != 2 {
		t.Errorf("most runs in flight %d, want 2", g.most)
	}
	for _, r := range Chosen(got) {
		if r.K != 2000 || r.Role != "chosen" {
			t.Errorf("point %d: chosen K %d (%s), want 2000", r.Point.Index, r.K, r.Role)
		}
	}
	for p := range 3 {
		ran := map[int]bool{}
		for _, r := range got {
			if r.Point.Index == p {
				ran[r.K] = true
			}
		}
		if !ran[1500] || !ran[2000] {
			t.Errorf("point %d ran K %v: want 1500 and 2000 among them", p, ran)
		}
	}
}

// TestSweepJobsCancel: a cancelled sweep starts no new point and returns the
// rows of the points that finished, in order, with the context's error.
func TestSweepJobsCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	var mu sync.Mutex
	fr := &fakeRunner{kNeeded: 0}
	run := func(c context.Context, over []string, out string) error {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n == 3 {
			cancel()
		}
		return fr.run(c, over, out)
	}
	sw := &Sweep{Dir: t.TempDir(), Target: 0.05, Jobs: 2,
		Axes: []Axis{{Key: "stepsize.gamma0", Values: []string{"1", "2", "3", "4", "5", "6", "7", "8"}}}}
	rows, err := sw.Run(ctx, run)
	if err == nil {
		t.Fatal("no error after cancel")
	}
	if n > 4 || len(rows) > n {
		t.Errorf("%d runs started, %d rows after cancelling at the third", n, len(rows))
	}
	for i, r := range rows {
		if r.Point.Index != i {
			t.Errorf("row %d is point %d", i, r.Point.Index)
		}
	}
}
