package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/hdf5io"
)

// medianStays is the reach of the median curve worked out here from the
// files: at every row, the middle of the three seeds' ‖∇f‖² (the runs are
// recorded at the same iterations), then the first row from which that
// stays ≤ T; the bits are the middle of the seeds' bits there.
func medianStays(t *testing.T, files []string, T float64) (int64, int64) {
	var runs []*hdf5io.Run
	for _, f := range files {
		r, err := hdf5io.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
	}
	n := runs[0].Rows()
	mid := func(col func(r *hdf5io.Run) float64) float64 {
		v := []float64{col(runs[0]), col(runs[1]), col(runs[2])}
		sort.Float64s(v)
		return v[1]
	}
	from := int64(-1)
	row := -1
	for i := n - 1; i >= 0; i-- {
		if mid(func(r *hdf5io.Run) float64 { return r.Floats["grad_norm_sq"][i] }) > T {
			break
		}
		row = i
	}
	if row < 0 {
		return -1, -1
	}
	from = runs[0].Ints["iteration"][row]
	bits := mid(func(r *hdf5io.Run) float64 { return float64(r.Ints["bits_per_worker"][row]) })
	return from, int64(bits)
}

// summarize and the sweep print the same readable table, with the target
// criterion in the headers, and one line per group of runs that differ
// only by seed: median [min–max]. The median's iteration and bits are
// those of the median curve, checked against medianStays.
func TestSummarizeSeedMedians(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cfg.toml", strings.Replace(small, "iterations = 30", "iterations = 60\nlog_every = 2", 1))
	// a target the seeds' median reaches and stays under: the median's
	// final value times 1.5
	code, so, se := efmpi(t, dir, "sweep", "-config", "cfg.toml", "-grid", "algorithm.k=1,3", "-grid", "run.seed=1,2,3", "-out", "sw", "-quiet")
	if code != 0 {
		t.Fatalf("sweep: %d\n%s%s", code, so, se)
	}
	files := func(k int) []string {
		var out []string
		for i := 0; i < 3; i++ {
			out = append(out, filepath.Join(dir, "sw", fmt.Sprintf("point-%03d.h5", 3*k+i)))
		}
		return out
	}
	var finals []float64
	for _, f := range files(0) {
		r, _ := hdf5io.Open(f)
		finals = append(finals, r.Floats["grad_norm_sq"][r.Rows()-1])
	}
	sort.Float64s(finals)
	T := finals[1] * 1.5
	target := fmt.Sprintf("%g", T)
	code, sweepOut, se := efmpi(t, dir, "sweep", "-config", "cfg.toml", "-grid", "algorithm.k=1,3", "-grid", "run.seed=1,2,3",
		"-out", "sw", "-resume", "-quiet", "-target", target, "-criterion", "stays")
	if code != 0 {
		t.Fatalf("sweep -target: %d\n%s", code, se)
	}
	code, sumOut, se := efmpi(t, dir, "summarize", "-target", target, "-criterion", "stays", "sw")
	if code != 0 {
		t.Fatalf("summarize: %d\n%s", code, se)
	}
	head := fmt.Sprintf("iters to %.2g (stays)", T)
	for name, out := range map[string]string{"sweep": sweepOut, "summarize": sumOut} {
		if strings.Count(out, head) != 2 { // the per-run table and the seed table
			t.Errorf("%s: header %q appears %d times\n%s", name, head, strings.Count(out, head), out)
		}
	}
	it, bits := medianStays(t, files(0), T)
	if it < 0 {
		t.Fatalf("the median curve never stays under %g", T)
	}
	line := regexp.MustCompile(`(?m)^\s*\|\|EF21\|\| top-1[^\n]*$`)
	want := fmt.Sprintf("%d [", it)
	wantBits := fmt.Sprintf("%d [", bits)
	for name, out := range map[string]string{"sweep": sweepOut, "summarize": sumOut} {
		seedTable := out[strings.Index(out, "differ only by seed"):]
		l := line.FindString(seedTable)
		if !strings.Contains(l, " 3 ") || !strings.Contains(l, want) || !strings.Contains(l, wantBits) {
			t.Errorf("%s: median line %q, want iteration %d and bits %d\n%s", name, l, it, bits, out)
		}
	}
	// -csv: the CSV names the criterion on every row
	_, csvOut, _ := efmpi(t, dir, "summarize", "-csv", "-target", target, "-criterion", "stays", "sw")
	if strings.Count(csvOut, ",stays,") != 6 {
		t.Errorf("criterion column:\n%s", csvOut)
	}
	if code, _, se := efmpi(t, dir, "summarize", "-target", target, "-criterion", "last", "sw"); code != ExitBadInput {
		t.Errorf("-criterion last: exit %d %s", code, se)
	}
}

// summarize lists the points of a sweep folder that are missing or did not
// finish and exits 1, or 0 with -allow-missing; a point file with the
// older name point-<i>.h5 counts as the point's file.
func TestSummarizeMissingPoints(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cfg.toml", small)
	if code, so, se := efmpi(t, dir, "sweep", "-config", "cfg.toml", "-grid", "algorithm.k=1,2,3,4", "-out", "sw", "-quiet"); code != 0 {
		t.Fatalf("sweep: %d\n%s%s", code, so, se)
	}
	sw := filepath.Join(dir, "sw")
	os.Remove(filepath.Join(sw, "point-001.h5"))
	os.Rename(filepath.Join(sw, "point-002.h5"), filepath.Join(sw, "point-2.h5"))
	// point 3 did not finish: its status says so
	rec, err := hdf5io.Create(filepath.Join(sw, "point-003.h5"), true, 1, []hdf5io.Attr{{Name: "method", Value: "ef21"}})
	if err != nil {
		t.Fatal(err)
	}
	rec.Append(hdf5io.Row{Iteration: 0, GradNormSq: 1})
	rec.Close("diverged")
	code, so, se := efmpi(t, dir, "summarize", "sw")
	if code != 1 || !strings.Contains(se, "point 1 not finished (missing)") || !strings.Contains(se, "point 3 not finished") ||
		!strings.Contains(se, "diverged") || strings.Contains(se, "point 2 ") || strings.Contains(se, "point 0 ") {
		t.Fatalf("exit %d\n%s%s", code, so, se)
	}
	if !strings.Contains(so, "point-2.h5") {
		t.Errorf("the old-named file is not in the table:\n%s", so)
	}
	if code, _, se := efmpi(t, dir, "summarize", "-allow-missing", "sw"); code != 0 || !strings.Contains(se, "point 1 not finished") {
		t.Errorf("-allow-missing: exit %d\n%s", code, se)
	}
}
