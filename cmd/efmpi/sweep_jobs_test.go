package main

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
)

// sameRunFile compares two run files read back with hdf5io: every
// trajectory column but time_s, /x0 and /x_final bit for bit, and the root
// attributes but the times, the config path and the output's name.
func sameRunFile(t *testing.T, a, b string) {
	t.Helper()
	ra, err := hdf5io.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := hdf5io.Open(b)
	if err != nil {
		t.Fatal(err)
	}
	if ra.Rows() == 0 || ra.Rows() != rb.Rows() {
		t.Fatalf("%s: %d rows, %s: %d", a, ra.Rows(), b, rb.Rows())
	}
	for name, va := range ra.Ints {
		if !slices.Equal(va, rb.Ints[name]) {
			t.Errorf("%s vs %s: column %s differs", a, b, name)
		}
	}
	bitsEqual := func(x, y []float64) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				return false
			}
		}
		return true
	}
	for name, va := range ra.Floats {
		if name != "time_s" && !bitsEqual(va, rb.Floats[name]) {
			t.Errorf("%s vs %s: column %s differs", a, b, name)
		}
	}
	if !bitsEqual(ra.X0, rb.X0) || !bitsEqual(ra.XFinal, rb.XFinal) {
		t.Errorf("%s vs %s: x0 or x_final differs", a, b)
	}
	for k, v := range ra.Attrs {
		switch k {
		case "started_at", "finished_at", "config_path", "output_path", "output_path_abs", "command_line":
			// when it ran, where the sweep's folder is, the sweep's command (its -jobs)
			continue
		}
		va, vb := fmt.Sprint(v), fmt.Sprint(rb.Attrs[k])
		if k == "config" { // names its own output file
			va, vb = dropOutput(va), dropOutput(vb)
		}
		if va != vb {
			t.Errorf("%s vs %s: attribute %s: %v vs %v", a, b, k, v, rb.Attrs[k])
		}
	}
}

// dropOutput removes the output line of a config text.
func dropOutput(cfg string) string {
	var keep []string
	for _, l := range strings.Split(cfg, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "output =") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// sweepTable reads DIR/sweep.csv without the columns that legitimately
// differ between two sweeps (time_s, file).
func sweepTable(t *testing.T, dir string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "sweep.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var drop []int
	for i, h := range recs[0] {
		if h == "time_s" || h == "file" {
			drop = append(drop, i)
		}
	}
	for r := range recs {
		for j := len(drop) - 1; j >= 0; j-- {
			recs[r] = slices.Delete(recs[r], drop[j], drop[j]+1)
		}
	}
	return recs
}

// TestSweepJobsFilesBitwise runs the same sweeps one point at a time
// (-jobs 1), three at a time (-jobs 3) and with the default budget: the
// polynomial over ranks × γ0 with K chosen per point, and logistic
// regression on a1a over γ0 (two LogReg runs at once in one process). Every
// point's file must be bitwise what it is alone, every column but time_s,
// and the tables equal but for time_s and the file paths.
func TestSweepJobsFilesBitwise(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "norm.toml", polyNorm)
	a1a := strings.ReplaceAll(`[problem]
kind = "logreg"
[data]
source = "libsvm"
path = "PATH"
[algorithm]
method = "ef21"
normalize = true
k = 1
[run]
iterations = 60
ranks = 2
log_every = 1
`, "PATH", testenv.Dataset(t, "a1a"))
	write(t, dir, "a1a.toml", a1a)
	sweeps := map[string][]string{
		"poly": {"-config", "norm.toml", "-grid", "run.ranks=1,2,3", "-grid", "stepsize.gamma0=0.5,1",
			"-target", "1e-2", "-choose-k", "run.iterations=50:50:1000", "-set", "run.log_every=1"},
		"a1a": {"-config", "a1a.toml", "-grid", "stepsize.gamma0=0.3,1,3", "-target", "1e-2"},
	}
	for name, args := range sweeps {
		outs := map[string]string{}
		for _, jobs := range []string{"1", "3", "0"} {
			out := name + "-jobs" + jobs
			code, so, se := efmpi(t, dir, append(append([]string{"sweep"}, args...), "-jobs", jobs, "-out", out, "-quiet")...)
			if code != 0 {
				t.Fatalf("%s -jobs %s: exit %d\n%s\n%s", name, jobs, code, so, se)
			}
			outs[jobs] = filepath.Join(dir, out)
		}
		files, _ := filepath.Glob(filepath.Join(outs["1"], "point-*.h5"))
		if len(files) < 3 {
			t.Fatalf("%s: only %d files", name, len(files))
		}
		for _, f := range files {
			for _, jobs := range []string{"3", "0"} {
				sameRunFile(t, f, filepath.Join(outs[jobs], filepath.Base(f)))
			}
		}
		want := sweepTable(t, outs["1"])
		for _, jobs := range []string{"3", "0"} {
			if got := sweepTable(t, outs[jobs]); !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("%s: table with -jobs %s differs from -jobs 1:\n%v\n%v", name, jobs, got, want)
			}
		}
	}
	if code, _, se := efmpi(t, dir, "sweep", "-config", "norm.toml", "-jobs", "-1"); code != ExitBadInput || !strings.Contains(se, "-jobs") {
		t.Errorf("-jobs -1: exit %d, %s", code, se)
	}
}
