package main

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/hdf5io"
)

// TestSweepEndToEnd sweeps γ0 over two values with K chosen from a grid on
// the small polynomial problem, then checks the table against the files
// and that K − step really missed the target.
func TestSweepEndToEnd(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "norm.toml", polyNorm)
	code, stdout, stderr := efmpi(t, dir, "sweep", "-config", "norm.toml", "-grid", "stepsize.gamma0=0.5,1",
		"-target", "1e-2", "-choose-k", "run.iterations=50:50:2000", "-out", "sw", "-set", "run.log_every=1")
	if code != 0 {
		t.Fatalf("sweep: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "chosen run.iterations") || !strings.Contains(stdout, "sw/sweep.csv") {
		t.Errorf("summary:\n%s", stdout)
	}
	f, err := os.Open(filepath.Join(dir, "sw", "sweep.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	h := map[string]int{}
	for i, name := range recs[0] {
		h[name] = i
	}
	chosen := map[string]int{}           // γ0 → K
	reached := map[string]map[int]bool{} // γ0 → K → reached
	for _, row := range recs[1:] {
		g0 := row[h["stepsize.gamma0"]]
		K, _ := strconv.Atoi(row[h["run.iterations"]])
		if reached[g0] == nil {
			reached[g0] = map[int]bool{}
		}
		reached[g0][K] = row[h["iters_to_target"]] != ""
		run, err := hdf5io.Open(filepath.Join(dir, row[h["file"]]))
		if err != nil {
			t.Fatal(err)
		}
		if got := run.Attrs["iterations"]; got != int64(K) {
			t.Errorf("row K = %d, file iterations = %v", K, got)
		}
		g := run.Floats["grad_norm_sq"]
		first := ""
		for i, v := range g {
			if v <= 1e-2 {
				first = strconv.FormatInt(run.Ints["iteration"][i], 10)
				break
			}
		}
		if row[h["iters_to_target"]] != first {
			t.Errorf("γ0 %s K %d: iters_to_target %q, file says %q", g0, K, row[h["iters_to_target"]], first)
		}
		if got := row[h["final_grad_norm_sq"]]; got != strconv.FormatFloat(g[len(g)-1], 'g', -1, 64) {
			t.Errorf("final ‖∇f‖² %s vs %g", got, g[len(g)-1])
		}
		wantGamma := run.Attrs["gamma0"].(float64) / math.Sqrt(float64(K+1))
		if got, _ := strconv.ParseFloat(row[h["gamma"]], 64); math.Abs(got-wantGamma) > 1e-12*wantGamma {
			t.Errorf("γ %g, want γ0/√(K+1) = %g", got, wantGamma)
		}
		if row[h["role"]] == "chosen" {
			chosen[g0] = K
			if filepath.Base(row[h["file"]]) != "point-00"+row[h["point"]]+".h5" {
				t.Errorf("chosen file %s", row[h["file"]])
			}
		}
	}
	if len(chosen) != 2 {
		t.Fatalf("chosen K per γ0: %v\n%s", chosen, stdout)
	}
	for g0, K := range chosen {
		if K > 50 && reached[g0][K-50] {
			t.Errorf("γ0 %s: chose K = %d but K − 50 reached the target too", g0, K)
		}
		if K > 50 {
			if _, ran := reached[g0][K-50]; !ran {
				t.Errorf("γ0 %s: K − step = %d was never run", g0, K-50)
			}
		}
	}

	// the table plots
	if code, _, stderr := efmpi(t, dir, "plot", "-o", "k.png", "-table", "sw/sweep.csv", "-x", "stepsize.gamma0", "-y", "run.iterations"); code != 0 {
		t.Errorf("plot -table: exit %d: %s", code, stderr)
	}
	if code, _, _ := efmpi(t, dir, "sweep", "-config", "norm.toml", "-grid", "stepsize.gamma0", "-out", "x"); code != ExitBadInput {
		t.Errorf("bad grid: exit %d", code)
	}
	if code, _, _ := efmpi(t, dir, "sweep", "-config", "norm.toml", "-grid", "stepsize.nope=1", "-out", "x"); code != ExitBadInput {
		t.Errorf("unknown key: exit %d", code)
	}
}
