package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
)

// commandLine quotes so that a POSIX shell reads the same arguments back.
func TestCommandLineShellRoundTrip(t *testing.T) {
	args := []string{"efmpi", "run", "-set", `data.path="a b/c"`, "-out", "x.h5", "it's", "", "$HOME", "a;b", "-set=run.seed=3"}
	line := commandLine(args)
	out, err := exec.Command("sh", "-c", "set -- "+line+`; for a in "$@"; do printf '<%s>\n' "$a"; done`).CombinedOutput()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, out)
	}
	var want strings.Builder
	for _, a := range args {
		fmt.Fprintf(&want, "<%s>\n", a)
	}
	if string(out) != want.String() {
		t.Fatalf("%s\nreads back as\n%s\nwant\n%s", line, out, want.String())
	}
}

// Slurm's variables become attributes; the step's node list wins over the job's.
func TestSlurmAttrs(t *testing.T) {
	env := map[string]string{"SLURM_JOB_ID": "812", "SLURM_ARRAY_JOB_ID": "810", "SLURM_ARRAY_TASK_ID": "2",
		"SLURM_STEP_ID": "0", "SLURM_JOB_NODELIST": "n[1-4]", "SLURM_STEP_NODELIST": "n[1-2]", "SLURM_RESTART_COUNT": "1"}
	got := map[string]any{}
	for _, a := range slurmAttrs(func(k string) string { return env[k] }) {
		got[a.Name] = a.Value
	}
	want := map[string]any{"slurm_job_id": "812", "slurm_array_job_id": "810", "slurm_array_task_id": "2",
		"slurm_step_id": "0", "slurm_job_nodelist": "n[1-2]", "slurm_restart_count": "1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	if a := slurmAttrs(func(string) string { return "" }); len(a) != 0 {
		t.Fatalf("outside Slurm: %v", a)
	}
}

// The VCS settings of the build info become vcs_revision, vcs_time and
// vcs_modified; without build info the revision is "unknown".
func TestBuildAttrs(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.99", Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-12-08T00:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	got := map[string]any{}
	for _, a := range buildAttrs(bi, true) {
		got[a.Name] = a.Value
	}
	if got["vcs_revision"] != "0123abcd" || got["vcs_time"] != "2026-12-08T00:00:00Z" || got["vcs_modified"] != true || got["go_version"] != "go1.99" {
		t.Fatalf("%v", got)
	}
	if a := buildAttrs(nil, false); a[0].Value != "unknown" {
		t.Fatalf("%v", a)
	}
}

// A run records its provenance at the root and in /segments/0; a resume on
// another transport (tcp, spawned local processes) adds /segments/1 and
// updates the root's launcher and transport together. h5py reads them back.
func TestProvenanceAndSegments(t *testing.T) {
	dir := t.TempDir()
	cfg := longCfg(t, dir, 100_000_000)
	code, log := interruptRun(t, dir, cfg, "out.h5")
	if code != ExitInterrupted {
		t.Fatalf("exit %d\n%s", code, log)
	}
	first, err := hdf5io.Open(filepath.Join(dir, "out.h5"))
	if err != nil {
		t.Fatal(err)
	}
	stop := first.Ints["iteration"][first.Rows()-1]
	// finish quickly: the same config (its fingerprint must match) with a
	// target the resumed run reaches at once is not possible, so resume and
	// stop it again with SIGTERM after its first new checkpoint.
	path := filepath.Join(dir, "out.h5")
	// the newest checkpoint so far: the interrupted run's own, which may lie
	// past its last recorded row
	newest := func() int64 {
		m, _ := filepath.Glob(path + ".ckpt/ckpt-*.done")
		last := int64(-1)
		for _, f := range m {
			var k int64
			if _, err := fmt.Sscanf(filepath.Base(f), "ckpt-%d.done", &k); err == nil {
				last = max(last, k)
			}
		}
		return last
	}
	stop = max(stop, newest())
	cmd, out := startEfmpi(t, dir, childEnv(), "run", "-config", cfg, "-quiet", "-out", "out.h5", "-resume", "-transport", "tcp")
	waitFor(t, 60*time.Second, "a checkpoint after the resume", func() bool { return newest() > stop })
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if c := cmd.ProcessState.ExitCode(); c != ExitInterrupted {
		t.Fatalf("resumed run: exit %d\n%s", c, out)
	}
	run, err := hdf5io.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Segments) != 2 {
		t.Fatalf("%d segments: %v", len(run.Segments), run.Segments)
	}
	s0, s1 := run.Segments[0], run.Segments[1]
	host, _ := os.Hostname()
	for _, c := range []struct {
		seg        map[string]any
		key        string
		want       any
		orNonEmpty bool
	}{
		{s0, "launcher", "inproc", false}, {s0, "transport", "inproc", false}, {s0, "start_iteration", int64(0), false},
		{s0, "status", "interrupted", false}, {s0, "hosts", host, false},
		{s1, "launcher", "spawned", false}, {s1, "transport", "tcp", false}, {s1, "status", "interrupted", false},
		{s1, "mpi_library", mpiVersion(), false}, {s1, "vcs_revision", nil, true}, {s1, "started_at", nil, true},
	} {
		if c.orNonEmpty {
			if v, _ := c.seg[c.key].(string); v == "" {
				t.Errorf("segment attribute %s missing: %v", c.key, c.seg)
			}
		} else if c.seg[c.key] != c.want {
			t.Errorf("segment attribute %s = %v (%T), want %v", c.key, c.seg[c.key], c.seg[c.key], c.want)
		}
	}
	if s0["end_iteration"] != s1["start_iteration"] {
		t.Errorf("segment 0 ends at %v, segment 1 starts at %v", s0["end_iteration"], s1["start_iteration"])
	}
	// The checkpoint the resume started from is the last one before the
	// first interruption: at most the first run's last row.
	if st, _ := s1["start_iteration"].(int64); st <= 0 || st > stop {
		t.Errorf("segment 1 starts at %v; the first run's last row is %d", s1["start_iteration"], stop)
	}
	if run.Attrs["launcher"] != "spawned" || run.Attrs["transport"] != "tcp" {
		t.Errorf("root: launcher %v, transport %v", run.Attrs["launcher"], run.Attrs["transport"])
	}
	if cl, _ := run.Attrs["command_line"].(string); !strings.Contains(cl, " -resume") || !strings.Contains(cl, "-transport tcp") {
		t.Errorf("command_line %q", cl)
	}
	for _, seg := range run.Segments {
		for _, k := range []string{"slurm_job_id", "slurm_step_id"} {
			if _, ok := seg[k]; ok {
				t.Errorf("outside Slurm, a segment has %s", k)
			}
		}
	}

	py := testenv.PythonWithH5py(t)
	pyOut, err := exec.Command(py, "-c", `import h5py, sys
f = h5py.File(sys.argv[1], "r")
for n in sorted(f["segments"], key=int):
    a = f["segments"][n].attrs
    print(n, a["launcher"], a["transport"], int(a["start_iteration"]), int(a["end_iteration"]), a["status"])
print(f.attrs["mpi_library"])`, path).CombinedOutput()
	if err != nil {
		t.Fatalf("h5py: %v\n%s", err, pyOut)
	}
	want := fmt.Sprintf("0 inproc inproc 0 %d interrupted\n1 spawned tcp %d %d interrupted\n%s\n",
		s0["end_iteration"], s1["start_iteration"], s1["end_iteration"], mpiVersion())
	if string(pyOut) != want {
		t.Errorf("h5py reads\n%s\nwant\n%s", pyOut, want)
	}

	code, stdout, stderr := efmpi(t, dir, "inspect", "out.h5")
	if code != 0 || !strings.Contains(stdout, "segment 1") || !strings.Contains(stdout, "spawned / tcp") ||
		!strings.Contains(stdout, "mpi  ") {
		t.Errorf("inspect: exit %d\n%s%s", code, stdout, stderr)
	}
}

// kill -9 of the writer leaves the file `running`: inspect (and -json) says
// the writer is gone, names the dead pid, the last row's iteration (read
// back independently) and the file's last write; -resume says the same
// before it continues.
func TestKilledWriterReported(t *testing.T) {
	dir := t.TempDir()
	cfg := longCfg(t, dir, 100_000_000)
	cmd, log := startEfmpi(t, dir, childEnv(), "run", "-config", cfg, "-quiet", "-out", "out.h5")
	path := filepath.Join(dir, "out.h5")
	waitFor(t, 60*time.Second, "a first checkpoint", func() bool { return hasCheckpoint(path) })
	code, stdout, _ := efmpi(t, dir, "inspect", "out.h5")
	if code != 0 || !strings.Contains(stdout, "(still running)") || !strings.Contains(stdout, fmt.Sprintf("being written: pid %d on", cmd.Process.Pid)) {
		t.Errorf("inspect of the live run:\n%s", stdout)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	killed := time.Now()
	run, err := hdf5io.Open(path)
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	last := run.Ints["iteration"][run.Rows()-1]
	if run.Attrs["status"] != "running" {
		t.Fatalf("status %v after kill -9", run.Attrs["status"])
	}

	code, stdout, stderr := efmpi(t, dir, "inspect", "out.h5")
	for _, w := range []string{"the writer is gone", fmt.Sprintf("pid %d", cmd.Process.Pid), fmt.Sprintf("last row at iteration %d", last),
		"stale .lock and .reserve"} {
		if code != 0 || !strings.Contains(stdout, w) {
			t.Errorf("inspect lacks %q: exit %d\n%s%s", w, code, stdout, stderr)
		}
	}
	if strings.Contains(stdout, "<nil>") {
		t.Errorf("inspect prints <nil>:\n%s", stdout)
	}
	_, js, _ := efmpi(t, dir, "inspect", "-json", "out.h5")
	var s []struct {
		LastIteration int64 `json:"last_iteration"`
		Writer        *struct {
			Alive     bool      `json:"alive"`
			LastWrite time.Time `json:"last_write"`
			StaleLock bool      `json:"stale_lock"`
		} `json:"writer"`
	}
	if err := json.Unmarshal([]byte(js), &s); err != nil || len(s) != 1 || s[0].Writer == nil {
		t.Fatalf("inspect -json: %v\n%s", err, js)
	}
	w := s[0].Writer
	st, _ := os.Stat(path)
	if w.Alive || !w.StaleLock || s[0].LastIteration != last || !w.LastWrite.Equal(st.ModTime().UTC()) || w.LastWrite.After(killed) {
		t.Errorf("writer %+v, last iteration %d (file: %d, modified %v)", w, s[0].LastIteration, last, st.ModTime())
	}

	// -resume tells the same story, then takes over the stale files.
	cmd2, out2 := startEfmpi(t, dir, childEnv(), "run", "-config", cfg, "-quiet", "-out", "out.h5", "-resume")
	waitFor(t, 30*time.Second, "the resume's note", func() bool { return strings.Contains(out2.String(), "the writer is gone") })
	cmd2.Process.Signal(syscall.SIGTERM)
	cmd2.Wait()
	if c := cmd2.ProcessState.ExitCode(); c != ExitInterrupted || !strings.Contains(out2.String(), fmt.Sprintf("last row at iteration %d", last)) {
		t.Errorf("resume: exit %d\n%s", c, out2)
	}
	for _, f := range []string{path + ".lock", path + ".reserve"} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s is still there after the resumed run ended", f)
		}
	}
}
