package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/efmpi/efmpi/hdf5io"
)

// A bad grid value is found before anything runs: k = 400 on d = 10 is
// point 2 of algorithm.k=1,5,400; the sweep exits 2 naming the point and
// the key, and writes no point file. The same grid with -slurm submits
// nothing (sbatch is a script that would leave a file if called).
func TestSweepChecksEveryPointFirst(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cfg.toml", small)
	code, so, se := efmpi(t, dir, "sweep", "-config", "cfg.toml", "-grid", "algorithm.k=1,5,400", "-out", "sw", "-quiet")
	if code != ExitBadInput || !strings.Contains(se, "point 2 (algorithm.k=400)") || !strings.Contains(se, "d = 10") {
		t.Fatalf("exit %d\n%s%s", code, so, se)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "sw", "point-*")); len(m) > 0 {
		t.Errorf("point files written before the check: %v", m)
	}
	// a point that needs the data: ranks > samples (200) with a zip of two axes
	code, _, se = efmpi(t, dir, "sweep", "-config", "cfg.toml", "-grid", "run.ranks=2,300", "-grid", "algorithm.k=1,2",
		"-zip", "run.ranks,algorithm.k", "-out", "sw2", "-quiet")
	if code != ExitBadInput || !strings.Contains(se, "point 1 (run.ranks=300 algorithm.k=2)") {
		t.Fatalf("ranks > samples: exit %d\n%s", code, se)
	}

	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	called := filepath.Join(dir, "sbatch-called")
	write(t, bin, "sbatch", "#!/bin/sh\ntouch "+called+"\necho 'Submitted batch job 5'\n")
	os.Chmod(filepath.Join(bin, "sbatch"), 0o755)
	script, _ := filepath.Abs("../../slurm/sweep.sbatch")
	cmd := []string{"sweep", "-config", "cfg.toml", "-grid", "algorithm.k=1,5,400", "-out", "slurm-sw", "-slurm", "-slurm-script", script}
	t.Setenv("EFMPI_SBATCH", filepath.Join(bin, "sbatch"))
	code, _, se = efmpi(t, dir, cmd...)
	if code != ExitBadInput || !strings.Contains(se, "point 2 (algorithm.k=400)") {
		t.Fatalf("-slurm: exit %d\n%s", code, se)
	}
	if _, err := os.Stat(called); err == nil {
		t.Error("-slurm submitted a sweep with a bad point")
	}
	// -throttle: --array=0-1%1 (and only with -slurm)
	code, so, se = efmpi(t, dir, "sweep", "-config", "cfg.toml", "-grid", "algorithm.k=1,5", "-out", "slurm-ok", "-slurm",
		"-slurm-script", script, "-throttle", "1")
	if code != 0 || !strings.Contains(so, "--array=0-1%1 ") {
		t.Fatalf("-throttle: exit %d\n%s%s", code, so, se)
	}
	if code, _, _ := efmpi(t, dir, "sweep", "-config", "cfg.toml", "-grid", "algorithm.k=1,5", "-out", "x", "-throttle", "2"); code != ExitBadInput {
		t.Errorf("-throttle without -slurm: exit %d", code)
	}
}

// sweep -resume continues an interrupted point from its checkpoint: the
// sweep is stopped (SIGINT) once point 0 has a checkpoint, says how to
// resume, and the resumed sweep continues the point (its file records
// resumed_from_iteration > 0) and ends bit for bit equal to an
// uninterrupted run of the same point.
func TestSweepResumeFromCheckpoint(t *testing.T) {
	dir := t.TempDir()
	cfg := longCfg(t, dir, 12000)
	runCmd(t, dir, childEnv(), efmpiBin, "run", "-config", cfg, "-quiet", "-set", "algorithm.k=3", "-out", "ref.h5")

	args := []string{"sweep", "-config", cfg, "-grid", "algorithm.k=3", "-out", "sw"}
	cmd, log := startEfmpi(t, dir, childEnv(), args...)
	point := filepath.Join(dir, "sw", "point-000.h5")
	waitFor(t, 60*time.Second, "a first checkpoint", func() bool { return hasCheckpoint(point) })
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != ExitInterrupted || !strings.Contains(log.String(), "-resume") {
		t.Fatalf("interrupted sweep: exit %d\n%s", code, log)
	}
	if r, err := hdf5io.Open(point); err != nil || r.String("status") != "interrupted" {
		t.Fatalf("interrupted point: %v", err)
	}

	code, so, se := efmpi(t, dir, append(args, "-resume")...)
	if code != 0 || !strings.Contains(so, "continued from its checkpoint") {
		t.Fatalf("resume: exit %d\n%s%s", code, so, se)
	}
	r, err := hdf5io.Open(point)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := r.Attrs["resumed_from_iteration"].(int64); !ok || k <= 0 {
		t.Errorf("resumed_from_iteration = %v: the point restarted from 0", r.Attrs["resumed_from_iteration"])
	}
	compareRuns(t, dir, filepath.Join("sw", "point-000.h5"), "ref.h5")
}

// The closing line of a resumed run gives the run's time as its time_s
// column has it (the seconds before the checkpoint included), beside the
// seconds of this process: before, it gave this process's alone.
func TestResumedClosingTime(t *testing.T) {
	dir := t.TempDir()
	cfg := longCfg(t, dir, 12000)
	killMidRun(t, dir, cfg, "r.h5", rand.New(rand.NewPCG(1, 2)))
	code, so, se := efmpi(t, dir, "run", "-config", cfg, "-quiet", "-out", "r.h5", "-resume")
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s%s", code, so, se)
	}
	r, err := hdf5io.Open(filepath.Join(dir, "r.h5"))
	if err != nil {
		t.Fatal(err)
	}
	ts := r.Floats["time_s"]
	want := fmt.Sprintf("after 12000 iterations, %.2f s (the run's time_s; ", ts[len(ts)-1])
	if !strings.Contains(so, want) {
		t.Errorf("closing line\n%s\nwant %q", so, want)
	}
}
