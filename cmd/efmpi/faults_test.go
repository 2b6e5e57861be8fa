package main

// Fault tests of issue 13: each case used to destroy a file, finish silently
// wrong, or leave the user without a clear message.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
)

// interruptRun starts a run of cfg writing out in dir, waits for its first
// complete checkpoint, stops it with SIGTERM and returns its exit code and
// output.
func interruptRun(t *testing.T, dir, cfg, out string, args ...string) (int, string) {
	t.Helper()
	cmd, log := startEfmpi(t, dir, childEnv(), append([]string{"run", "-config", cfg, "-quiet", "-out", out}, args...)...)
	path := filepath.Join(dir, out)
	waitFor(t, 60*time.Second, "a first checkpoint", func() bool { return hasCheckpoint(path) })
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	return cmd.ProcessState.ExitCode(), log.String()
}

// A second job with -overwrite on the file of a job that is still writing
// it is refused (exit 2, naming the file and the writer) and the first job's
// file stays intact and readable.
func TestSecondWriterRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := longCfg(t, dir, 1_000_000)
	first, log := startEfmpi(t, dir, childEnv(), "run", "-config", cfg, "-quiet", "-out", "out.h5")
	path := filepath.Join(dir, "out.h5")
	waitFor(t, 30*time.Second, "the first job's checkpoint", func() bool { return hasCheckpoint(path) })
	for _, second := range [][]string{{"-overwrite", "-transport", "inproc"}, {"-overwrite", "-transport", "tcp"}, {"-resume"}} {
		code, _, stderr := efmpi(t, dir, append([]string{"run", "-config", cfg, "-quiet", "-out", "out.h5"}, second...)...)
		want := fmt.Sprintf("pid %d", first.Process.Pid)
		if code != ExitBadInput || !strings.Contains(stderr, "out.h5 is being written by another efmpi process") || !strings.Contains(stderr, want) {
			t.Errorf("second writer (%v): exit %d, want 2 naming the file and %q:\n%s", second, code, want, stderr)
		}
	}
	first.Process.Signal(syscall.SIGTERM)
	first.Wait()
	if code := first.ProcessState.ExitCode(); code != ExitInterrupted {
		t.Fatalf("first job: exit %d, want 5\n%s", code, log)
	}
	run, err := hdf5io.Open(path)
	if err != nil || run.String("status") != "interrupted" || run.Rows() < 2 {
		t.Fatalf("the first job's file after the refused writer: %v", err)
	}
	for i, it := range run.Ints["iteration"] {
		if it != int64(10*i) {
			t.Fatalf("row %d has iteration %d", i, it)
		}
	}
	if _, err := os.Stat(hdf5io.LockPath(path)); !os.IsNotExist(err) {
		t.Errorf("the lock file outlived the job: %v", err)
	}
}

// flipLabels rewrites a LIBSVM file with the labels of the first n lines
// negated: same name, same size class, same d, different data.
func flipLabels(t *testing.T, path string, n int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for i := 0; i < n && i < len(lines); i++ {
		switch {
		case strings.HasPrefix(lines[i], "-1"):
			lines[i] = "+1" + lines[i][2:]
		case strings.HasPrefix(lines[i], "+1"):
			lines[i] = "-1" + lines[i][2:]
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The data file changed between an interrupted run and -resume: the
// checkpoint's data fingerprint refuses the resume (exit 2, naming the
// data) and the file keeps its rows.
func TestResumeRefusesChangedData(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(testenv.Dataset(t, "a1a"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "a1a", string(src)) // a private copy to change; the temp dir is removed after the test
	cfg := longConfig
	cfg = strings.NewReplacer("%DATA%", "a1a", "%ITERS%", "1000000").Replace(cfg)
	write(t, dir, "long.toml", cfg)
	if code, log := interruptRun(t, dir, "long.toml", "out.h5"); code != ExitInterrupted {
		t.Fatalf("interrupted run: exit %d\n%s", code, log)
	}
	flipLabels(t, filepath.Join(dir, "a1a"), 800)
	before, _ := hdf5io.Open(filepath.Join(dir, "out.h5"))
	code, _, stderr := efmpi(t, dir, "run", "-config", "long.toml", "-quiet", "-out", "out.h5", "-resume")
	if code != ExitBadInput || !strings.Contains(stderr, "data") || !strings.Contains(stderr, "fingerprint") {
		t.Fatalf("resume on changed data: exit %d, want 2 naming the data\n%s", code, stderr)
	}
	after, err := hdf5io.Open(filepath.Join(dir, "out.h5"))
	if err != nil || after.Rows() != before.Rows() {
		t.Fatalf("the refused resume changed the file: %v", err)
	}
	// The same file, restored, resumes.
	flipLabels(t, filepath.Join(dir, "a1a"), 800)
	cmd, log := startEfmpi(t, dir, childEnv(), "run", "-config", "long.toml", "-quiet", "-out", "out.h5", "-resume")
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != ExitInterrupted {
		t.Fatalf("resume on the original data: exit %d\n%s", code, log)
	}
}

// corruptColumn flips a byte of one value of /trajectory/f in the file (a
// value that occurs once).
func corruptColumn(t *testing.T, path string) {
	t.Helper()
	run, err := hdf5io.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	for _, v := range run.Floats["f"][1:] {
		var pat [8]byte
		binary.LittleEndian.PutUint64(pat[:], math.Float64bits(v))
		if bytes.Count(data, pat[:]) == 1 {
			i := bytes.Index(data, pat[:])
			data[i+2] ^= 0x40
			os.WriteFile(path, data, 0o644)
			return
		}
	}
	t.Fatal("no value of /trajectory/f occurs exactly once in the file")
}

// Damaged bytes in a chunk of /trajectory/f are detected by the chunk
// checksum: -resume refuses (exit 2) and inspect reports the damage, in one
// line each.
func TestDamagedTrajectoryDetected(t *testing.T) {
	dir := t.TempDir()
	cfg := longCfg(t, dir, 1_000_000)
	if code, log := interruptRun(t, dir, cfg, "out.h5"); code != ExitInterrupted {
		t.Fatalf("interrupted run: exit %d\n%s", code, log)
	}
	path := filepath.Join(dir, "out.h5")
	corruptColumn(t, path)
	code, _, stderr := efmpi(t, dir, "run", "-config", cfg, "-quiet", "-out", "out.h5", "-resume")
	if code != ExitBadInput || !strings.Contains(stderr, "/trajectory/f") || !strings.Contains(stderr, "Fletcher32") {
		t.Errorf("resume of a damaged file: exit %d\n%s", code, stderr)
	}
	code, _, stderr = efmpi(t, dir, "inspect", "out.h5")
	if code == 0 || !strings.Contains(stderr, "/trajectory/f") || !strings.Contains(stderr, "Fletcher32") || strings.Contains(stderr, "HDF5-DIAG") {
		t.Errorf("inspect of a damaged file: exit %d\n%s", code, stderr)
	}
	// A truncated file: -resume says so in one line, without the library's
	// error stack.
	if err := os.Truncate(path, 4000); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = efmpi(t, dir, "run", "-config", cfg, "-quiet", "-out", "out.h5", "-resume")
	if code != ExitBadInput || !strings.Contains(stderr, "out.h5") || !strings.Contains(stderr, "truncated") ||
		strings.Contains(stderr, "HDF5-DIAG") || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Errorf("resume of a truncated file: exit %d\n%s", code, stderr)
	}
}

// A damaged or missing checkpoint file of rank 1: the resume names rank 1
// and its file (it used to say "1 other rank(s) failed (see their
// messages)" with no such message).
func TestDamagedCheckpointOfRank1Named(t *testing.T) {
	dir := t.TempDir()
	cfg := longCfg(t, dir, 1_000_000)
	if code, log := interruptRun(t, dir, cfg, "out.h5"); code != ExitInterrupted {
		t.Fatalf("interrupted run: exit %d\n%s", code, log)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "out.h5.ckpt", "ckpt-*-rank-1.bin"))
	if len(files) != 1 {
		t.Fatalf("checkpoint files of rank 1: %v", files)
	}
	data, _ := os.ReadFile(files[0])
	data[len(data)/2] ^= 1
	os.WriteFile(files[0], data, 0o644)
	for _, damage := range []string{"damaged", "missing"} {
		if damage == "missing" {
			os.Remove(files[0])
		}
		for _, transport := range []string{"inproc", "tcp"} {
			code, _, stderr := efmpi(t, dir, "run", "-config", cfg, "-quiet", "-out", "out.h5", "-resume", "-transport", transport)
			if code != ExitBadInput || !strings.Contains(stderr, "rank 1: ") || !strings.Contains(stderr, filepath.Base(files[0])) {
				t.Errorf("%s checkpoint of rank 1 (%s): exit %d, want 2 naming rank 1 and its file\n%s", damage, transport, code, stderr)
			}
		}
	}
}

// SIGTERM when the checkpoint cannot be written: exit 6 (not 5, which
// promises a checkpoint), and the message says why.
func TestSigtermCheckpointFails(t *testing.T) {
	dir := t.TempDir()
	cfg := longCfg(t, dir, 1_000_000)
	write(t, dir, "out.h5.ckpt", "a file where the checkpoint directory should be")
	cmd, log := startEfmpi(t, dir, childEnv(), "run", "-config", cfg, "-quiet", "-out", "out.h5", "-set", "run.checkpoint_every=0")
	path := filepath.Join(dir, "out.h5")
	waitFor(t, 30*time.Second, "the run to start", func() bool {
		_, err := os.Stat(hdf5io.LockPath(path))
		return err == nil
	})
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != ExitNoCheckpoint || !strings.Contains(log.String(), "checkpoint failed") {
		t.Fatalf("exit %d, want %d with the reason\n%s", code, ExitNoCheckpoint, log)
	}
	run, err := hdf5io.Open(path)
	if err != nil || run.String("status") != "interrupted" || !strings.Contains(run.String("stop_reason"), "checkpoint failed") {
		t.Fatalf("file: %v", err)
	}
}

// Under mpirun, a rank started with a different config (-set on rank 1
// only) is refused before the first iteration: exit 2 naming rank 1 and the
// key, and nothing is recorded as completed.
func TestRanksDisagreeUnderMpirun(t *testing.T) {
	mpirun, err := exec.LookPath("mpirun.openmpi")
	if err != nil {
		t.Skip("mpirun.openmpi not installed")
	}
	dir := t.TempDir()
	write(t, dir, "cfg.toml", small)
	wrapper := write(t, dir, "rank1-differs.sh", "#!/bin/sh\nif [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then exec "+efmpiBin+" \"$@\" -set stepsize.gamma0=5; fi\nexec "+efmpiBin+" \"$@\"\n")
	os.Chmod(wrapper, 0o755)
	cmd := exec.Command(mpirun, "-np", "2", "--oversubscribe", wrapper, "run", "-config", "cfg.toml", "-quiet", "-transport", "tcp")
	cmd.Dir, cmd.Env = dir, childEnv("OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != ExitBadInput {
		t.Fatalf("exit %d, want 2\n%s", code, out)
	}
	for _, want := range []string{"rank 1 differs from rank 0", "stepsize.gamma0 = 5.0 (rank 0: 1.0)"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("message lacks %q:\n%s", want, out)
		}
	}
	if run, err := hdf5io.Open(filepath.Join(dir, "out.h5")); err == nil && run.String("status") == "completed" {
		t.Error("the disagreeing job recorded a completed run")
	}
	// An unusable secret under mpirun is bad input (2), not a failed rank (4).
	write(t, dir, "secret.hex", strings.Repeat("ab", 32))
	os.Chmod(filepath.Join(dir, "secret.hex"), 0o644)
	for _, env := range []string{"EFMPI_SECRET=abcd", "EFMPI_SECRET_FILE=secret.hex"} {
		cmd := exec.Command(mpirun, "-np", "2", "--oversubscribe", efmpiBin, "run", "-config", "cfg.toml", "-quiet", "-overwrite")
		cmd.Dir, cmd.Env = dir, childEnv("OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1", env)
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != ExitBadInput || !bytes.Contains(out, []byte("unusable job secret")) {
			t.Errorf("%s under mpirun: exit %d, want 2\n%s", env, code, out)
		}
	}
}

// kill -9 of the local spawner: its ranks notice (parent-death signal) and
// stop within seconds instead of computing unsupervised to the end.
func TestSpawnerKilledStopsRanks(t *testing.T) {
	dir := t.TempDir()
	cfg := longCfg(t, dir, 1_000_000)
	cmd, _ := startEfmpi(t, dir, childEnv(), "run", "-config", cfg, "-quiet", "-transport", "tcp", "-out", "out.h5")
	path := filepath.Join(dir, "out.h5")
	waitFor(t, 30*time.Second, "a checkpoint", func() bool { return hasCheckpoint(path) })
	ranks := childPIDs(cmd.Process.Pid)
	if len(ranks) != 5 {
		t.Fatalf("%d rank processes, want 5", len(ranks))
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	waitFor(t, 20*time.Second, "the orphaned ranks to stop", func() bool {
		for _, p := range ranks {
			if b, err := os.ReadFile("/proc/" + p + "/stat"); err == nil && !bytes.Contains(b, []byte(") Z ")) {
				return false
			}
		}
		return true
	})
	run, err := hdf5io.Open(path)
	if err != nil || run.String("status") != "interrupted" {
		t.Fatalf("after the spawner died: %v, status %q", err, run.String("status"))
	}
}

// A running job's file can be followed without HDF5_USE_FILE_LOCKING=FALSE:
// efmpi inspect and h5py (swmr=True) read the rows flushed so far.
func TestFollowRunningJob(t *testing.T) {
	dir := t.TempDir()
	cfg := longCfg(t, dir, 1_000_000)
	cmd, log := startEfmpi(t, dir, childEnv(), "run", "-config", cfg, "-quiet", "-out", "out.h5")
	defer cmd.Process.Kill()
	path := filepath.Join(dir, "out.h5")
	waitFor(t, 30*time.Second, "a checkpoint", func() bool { return hasCheckpoint(path) })
	code, stdout, stderr := efmpi(t, dir, "inspect", "-json", "out.h5")
	if code != 0 || !strings.Contains(stdout, `"status": "running"`) {
		t.Errorf("inspect of the running job: exit %d\n%s%s", code, stdout, stderr)
	}
	py := testenv.PythonWithH5py(t)
	out, err := exec.Command(py, "-c", `import h5py, sys
f = h5py.File(sys.argv[1], "r", swmr=True)
it = f["trajectory/iteration"][:]
assert len(it) >= 40 and all(it[i] == 10 * i for i in range(len(it))), it[:5]
print(len(it), f.attrs["status"])`, path).CombinedOutput()
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), "running") {
		t.Errorf("h5py swmr=True on the running job: %v\n%s", err, out)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != ExitInterrupted {
		t.Fatalf("exit %d\n%s", code, log)
	}
}
