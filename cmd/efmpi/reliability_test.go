package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
)

// longConfig runs for a few seconds so that faults can hit it mid-run: EF21
// with rand-k on a1a (a random stream to restore), 5 ranks.
const longConfig = `[problem]
kind = "logreg"
lambda = 0.1
[data]
source = "libsvm"
path = "%DATA%"
[algorithm]
method = "ef21"
normalize = true
compressor = "rand-k"
k = 2
[stepsize]
rule = "norm-theory"
[run]
iterations = %ITERS%
ranks = 5
log_every = 10
flush_every = 5
checkpoint_every = 400
timeout = "3s"
output = "out.h5"
`

func longCfg(t *testing.T, dir string, iters int) string {
	t.Helper()
	text := strings.NewReplacer("%DATA%", testenv.Dataset(t, "a1a"), "%ITERS%", strconv.Itoa(iters)).Replace(longConfig)
	return write(t, dir, "long.toml", text)
}

// startEfmpi starts the binary in dir without waiting.
func startEfmpi(t *testing.T, dir string, env []string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(efmpiBin, args...)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

// waitFor polls cond every 10 ms for at most d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// hasCheckpoint reports whether a complete checkpoint of output exists.
func hasCheckpoint(output string) bool {
	m, _ := filepath.Glob(output + ".ckpt/ckpt-*.done")
	return len(m) > 0
}

// killMidRun starts an in-process run, waits until it has a complete
// checkpoint, lets it go on for a random extra time, and kills it with
// SIGKILL. It returns the rows the killed run left in its file.
func killMidRun(t *testing.T, dir, cfg, out string, r *rand.Rand) int {
	t.Helper()
	cmd, log := startEfmpi(t, dir, childEnv(), "run", "-config", cfg, "-quiet", "-out", out)
	path := filepath.Join(dir, out)
	waitFor(t, 60*time.Second, "a first checkpoint", func() bool { return hasCheckpoint(path) })
	time.Sleep(time.Duration(r.IntN(300)) * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("the run ended before it was killed (%v); make it longer\n%s", err, log)
	}
	run, err := hdf5io.Open(path)
	if err != nil {
		t.Fatalf("after kill -9 the file does not open: %v", err)
	}
	if s := run.String("status"); s != "running" {
		t.Fatalf("killed run has status %q, want running", s)
	}
	t.Logf("killed after %d rows (iteration %d)", run.Rows(), run.Ints["iteration"][run.Rows()-1])
	return run.Rows()
}

// TestKill9Resume kills a run at a random moment with SIGKILL, resumes it
// in-process and, a second time, under Open MPI's mpirun, and requires both
// to equal an uninterrupted run bit for bit.
func TestKill9Resume(t *testing.T) {
	dir := t.TempDir()
	const iters = 12000
	cfg := longCfg(t, dir, iters)
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill-time seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))

	runCmd(t, dir, childEnv(), efmpiBin, "run", "-config", cfg, "-quiet", "-out", "ref.h5")
	if _, err := os.Stat(filepath.Join(dir, "ref.h5.ckpt")); !os.IsNotExist(err) {
		t.Errorf("a completed run left its checkpoints: %v", err)
	}

	killMidRun(t, dir, cfg, "inproc.h5", r)
	runCmd(t, dir, childEnv(), efmpiBin, "run", "-config", cfg, "-quiet", "-out", "inproc.h5", "-resume")
	compareRuns(t, dir, "inproc.h5", "ref.h5")

	mpirun, err := exec.LookPath("mpirun.openmpi")
	if err != nil {
		t.Skip("mpirun.openmpi not installed: resume under another launcher not tested")
	}
	killMidRun(t, dir, cfg, "mpi.h5", r)
	runCmd(t, dir, childEnv("OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"), mpirun,
		"-np", "5", "--oversubscribe", efmpiBin, "run", "-config", cfg, "-quiet", "-out", "mpi.h5", "-resume")
	compareRuns(t, dir, "mpi.h5", "ref.h5")
}

// compareRuns requires two run files in dir to agree bit for bit in every
// trajectory column but time_s, and in x_final.
func compareRuns(t *testing.T, dir, got, want string) {
	t.Helper()
	g, err := hdf5io.Open(filepath.Join(dir, got))
	if err != nil {
		t.Fatal(err)
	}
	w, err := hdf5io.Open(filepath.Join(dir, want))
	if err != nil {
		t.Fatal(err)
	}
	if g.String("status") != "completed" || g.Rows() != w.Rows() {
		t.Fatalf("%s: status %q, %d rows; %s has %d", got, g.String("status"), g.Rows(), want, w.Rows())
	}
	for col, v := range w.Floats {
		if col != "time_s" && !bitsEqual(g.Floats[col], v) {
			t.Errorf("%s: /trajectory/%s differs from %s", got, col, want)
		}
	}
	for col, v := range w.Ints {
		if !bytes.Equal([]byte(fmt.Sprint(g.Ints[col])), []byte(fmt.Sprint(v))) {
			t.Errorf("%s: /trajectory/%s differs from %s", got, col, want)
		}
	}
	if !bitsEqual(g.XFinal, w.XFinal) {
		t.Errorf("%s: /x_final differs from %s", got, want)
	}
}

// rankPID finds the process of one rank among the spawner's children.
func rankPID(t *testing.T, parent, rank int) int {
	t.Helper()
	var pid int
	waitFor(t, 20*time.Second, fmt.Sprintf("rank %d's process", rank), func() bool {
		for _, f := range childPIDs(parent) {
			env, _ := os.ReadFile("/proc/" + f + "/environ")
			if bytes.Contains(env, []byte(fmt.Sprintf("\x00EFMPI_RANK=%d\x00", rank))) ||
				bytes.HasPrefix(env, []byte(fmt.Sprintf("EFMPI_RANK=%d\x00", rank))) {
				pid, _ = strconv.Atoi(f)
				return true
			}
		}
		return false
	})
	return pid
}

// childPIDs lists the processes whose parent is pid (from /proc/*/stat).
func childPIDs(pid int) []string {
	var kids []string
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may contain spaces: split after ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			kids = append(kids, filepath.Base(filepath.Dir(st)))
		}
	}
	return kids
}

// TestRankKilled kills one rank of a spawned TCP job with SIGKILL. A worker
// lost: rank 0 marks the file failed with the lost rank, keeps its rows,
// and the job exits 4 within the timeout. Rank 0 lost: every worker exits
// non-zero naming rank 0, and the file still opens in h5py with every row
// rank 0 flushed.
func TestRankKilled(t *testing.T) {
	for _, victim := range []int{3, 0} {
		t.Run(fmt.Sprintf("rank %d", victim), func(t *testing.T) {
			dir := t.TempDir()
			cfg := longCfg(t, dir, 1_000_000)
			cmd, log := startEfmpi(t, dir, childEnv(), "run", "-config", cfg, "-quiet", "-transport", "tcp", "-out", "out.h5")
			path := filepath.Join(dir, "out.h5")
			waitFor(t, 30*time.Second, "rows in the file", func() bool { return hasCheckpoint(path) })
			syscall.Kill(rankPID(t, cmd.Process.Pid, victim), syscall.SIGKILL)
			killed := time.Now()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("job still running 20 s after rank %d was killed (timeout 3 s)\n%s", victim, log)
			}
			took := time.Since(killed)
			code := cmd.ProcessState.ExitCode()
			t.Logf("exit %d %v after the kill", code, took.Round(time.Millisecond))
			if code != ExitRankFailed {
				t.Errorf("exit code %d, want %d\n%s", code, ExitRankFailed, log)
			}
			if victim != 0 {
				run, err := hdf5io.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				if run.String("status") != "failed" || run.Attrs["failed_rank"] != int64(victim) {
					t.Errorf("status %q, failed_rank %v", run.String("status"), run.Attrs["failed_rank"])
				}
				if !strings.Contains(log.String(), fmt.Sprintf("rank %d", victim)) || !strings.Contains(log.String(), "lost") {
					t.Errorf("the log does not name the lost rank %d:\n%s", victim, log)
				}
				return
			}
			// Rank 0 died: the workers name it; h5py reads what it flushed.
			if n := strings.Count(log.String(), "rank 0 (host"); n < 4 {
				t.Errorf("%d of 4 workers named the lost rank 0:\n%s", n, log)
			}
			py := testenv.PythonWithH5py(t)
			out, err := exec.Command(py, "-c", `
import h5py, sys
f = h5py.File(sys.argv[1], "r", swmr=True)  # the writer died in SWMR mode (h5clear -s clears that)
it = f["trajectory/iteration"][:]
assert len(it) > 0 and all(it[i] == 10 * i for i in range(len(it))), it[:5]
assert all(len(f["trajectory/" + c]) == len(it) for c in f["trajectory"])
print(len(it), f.attrs["status"])
`, path).CombinedOutput()
			if err != nil {
				t.Fatalf("h5py on the file rank 0 left: %v\n%s", err, out)
			}
			t.Logf("h5py: %s", bytes.TrimSpace(out))
			// h5clear -s (hdf5-tools) clears the dead writer's marks; then
			// every tool opens it as an ordinary file.
			if out, err := exec.Command("h5clear", "-s", path).CombinedOutput(); err != nil {
				t.Fatalf("h5clear -s: %v\n%s", err, out)
			}
			if out, err := exec.Command("h5dump", "-H", path).CombinedOutput(); err != nil {
				t.Fatalf("h5dump after h5clear: %v\n%s", err, out)
			}
		})
	}
}

// TestDiskFull fills a small tmpfs mid-run, on file systems smaller than,
// about as large as, and larger than the recorder's 1 MiB reserve: the job
// must fail with an error naming the file, the status must not be
// completed, every column must hold the same rows (written whole or not at
// all: no zero-filled wire_bytes_up), and h5py and efmpi must read the rows
// flushed before the disk filled.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	py := testenv.PythonWithH5py(t)
	for _, size := range []string{"200k", "1400k", "1600k"} {
		t.Run(size, func(t *testing.T) {
			mnt := t.TempDir()
			if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", mnt).CombinedOutput(); err != nil {
				t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
			}
			defer exec.Command("umount", mnt).Run()
			dir := t.TempDir()
			cfg := write(t, dir, "full.toml", strings.Replace(small, "iterations = 30", "iterations = 1000000\nflush_every = 50", 1))
			out := filepath.Join(mnt, "full.h5")
			code, stdout, stderr := efmpi(t, dir, "run", "-config", cfg, "-quiet", "-out", out)
			t.Logf("exit %d: %s%s", code, stdout, stderr)
			if code == ExitOK || !strings.Contains(stderr, out) || strings.Contains(stderr, "HDF5-DIAG") {
				t.Fatalf("disk full: exit %d, stderr must name %s in one line", code, out)
			}
			run, err := hdf5io.Open(out)
			if err != nil {
				t.Fatalf("file after the disk filled: %v", err)
			}
			if s := run.String("status"); s == "completed" {
				t.Errorf("status %q after the disk filled", s)
			}
			it := run.Ints["iteration"]
			if len(it) < 50 {
				t.Fatalf("only %d rows survived", len(it))
			}
			for i, v := range it {
				if v != int64(i) {
					t.Fatalf("row %d has iteration %d: rows damaged", i, v)
				}
				if i > 0 && (run.Ints["wire_bytes_up"][i] <= run.Ints["wire_bytes_up"][i-1] || run.Floats["f"][i] == 0) {
					t.Fatalf("row %d is not whole: wire_bytes_up %d after %d, f %v", i, run.Ints["wire_bytes_up"][i], run.Ints["wire_bytes_up"][i-1], run.Floats["f"][i])
				}
			}
			for name, col := range run.Floats {
				if len(col) != len(it) {
					t.Errorf("/trajectory/%s has %d rows, iteration %d", name, len(col), len(it))
				}
			}
			for name, col := range run.Ints {
				if len(col) != len(it) {
					t.Errorf("/trajectory/%s has %d rows, iteration %d", name, len(col), len(it))
				}
			}
			if _, err := os.Stat(out + ".reserve"); !os.IsNotExist(err) {
				t.Errorf("the reserve file was left behind: %v", err)
			}
			h5, err := exec.Command(py, "-c", `
import h5py, sys
f = h5py.File(sys.argv[1], "r")
n = len(f["trajectory/iteration"])
assert all(len(f["trajectory/" + c]) == n for c in f["trajectory"]), "columns differ in length"
assert (f["trajectory/wire_bytes_up"][1:] > 0).all(), "zero rows in wire_bytes_up"
print(n, f.attrs["status"])
`, out).CombinedOutput()
			if err != nil {
				t.Fatalf("h5py: %v\n%s", err, h5)
			}
			t.Logf("%d rows intact, status %q; h5py: %s", len(it), run.String("status"), bytes.TrimSpace(h5))
		})
	}
}
