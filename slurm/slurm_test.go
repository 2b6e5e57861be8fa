// Package slurm_test submits the batch scripts of this directory to a real
// Slurm controller and checks what they write.
//
// The tests run when EFMPI_SLURM_TESTS=1 (make test sets it), or when sbatch is
// installed and a controller answers. With EFMPI_SLURM_TESTS=1 and no
// controller, TestMain brings up a single-node Slurm with
// scripts/slurm-up.sh (root needed) and tears it down afterwards; a Slurm that
// was already up is used as it is and left running. Jobs run in temporary
// directories ($TMPDIR): on a multi-node cluster point TMPDIR at a shared file
// system.
package slurm_test

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
)

var (
	efmpiBin   string // built by TestMain
	skipReason string // set when Slurm is not available and not asked for
	repo       = testenv.RepoRoot()
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	asked := os.Getenv("EFMPI_SLURM_TESTS") == "1"
	_, noSbatch := exec.LookPath("sbatch")
	if !asked && (noSbatch != nil || !controllerUp()) {
		skipReason = "no Slurm controller answers (set EFMPI_SLURM_TESTS=1 to start a single-node Slurm with scripts/slurm-up.sh)"
		return m.Run()
	}

	// One test binary at a time drives the cluster (make test in two
	// checkouts on one machine): the second waits for the first.
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "efmpi-slurm-tests.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		fmt.Fprintln(os.Stderr, "slurm tests:", err)
		return 1
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		fmt.Fprintln(os.Stderr, "slurm tests: lock:", err)
		return 1
	}

	startedHere := false
	if !controllerUp() || ourConfig() {
		// Down: bring it up. Up with our configuration: run the script
		// again anyway (idempotent; it waits until the node is idle).
		startedHere = !controllerUp()
		start := time.Now()
		out, err := exec.Command(filepath.Join(repo, "scripts", "slurm-up.sh")).CombinedOutput()
		fmt.Fprintf(os.Stderr, "slurm tests: scripts/slurm-up.sh took %.1f s\n%s", time.Since(start).Seconds(), out)
		if err != nil {
			fmt.Fprintf(os.Stderr, "slurm tests: scripts/slurm-up.sh failed: %v\n", err)
			return 1
		}
	}
	if startedHere {
		defer func() {
			out, err := exec.Command(filepath.Join(repo, "scripts", "slurm-up.sh"), "down").CombinedOutput()
			fmt.Fprintf(os.Stderr, "slurm tests: scripts/slurm-up.sh down: %s", out)
			if err != nil {
				fmt.Fprintln(os.Stderr, "slurm tests: teardown failed:", err)
			}
		}()
	}

	dir, err := os.MkdirTemp("", "efmpi-slurm-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	efmpiBin = filepath.Join(dir, "efmpi")
	build := exec.Command("go", "build", "-o", efmpiBin, "./cmd/efmpi")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "slurm tests: go build: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// controllerUp reports whether slurmctld answers.
func controllerUp() bool {
	out, err := exec.Command("scontrol", "ping").CombinedOutput()
	return err == nil && strings.Contains(string(out), "is UP")
}

// ourConfig reports whether the running Slurm is the one slurm-up.sh configured.
func ourConfig() bool {
	b, err := os.ReadFile("/etc/slurm/slurm.conf")
	return err == nil && strings.HasPrefix(string(b), "# Written by efmpi scripts/slurm-up.sh")
}

func needSlurm(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// submit runs sbatch in dir (the job's working directory) with EFMPI naming
// the test binary and EFMPI_REQUEUE=requeue, and returns the job id.
func submit(t *testing.T, dir, requeue string, args ...string) string {
	t.Helper()
	// the scripts' #SBATCH --output=logs/...: Slurm does not create the folder
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sbatch", append([]string{"--parsable"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "EFMPI="+efmpiBin, "EFMPI_REQUEUE="+requeue)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sbatch %v: %v\n%s", args, err, out)
	}
	id, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
	if _, err := strconv.Atoi(id); err != nil {
		t.Fatalf("sbatch printed %q, not a job id", out)
	}
	t.Cleanup(func() { exec.Command("scancel", id).Run() }) // no-op once it ended
	return id
}

// job is one record of `scontrol show job -o`.
type job struct {
	ID, ArrayTask, State, ExitCode, Restarts string
}

var fieldRE = regexp.MustCompile(`\b(JobId|ArrayTaskId|JobState|ExitCode|Restarts)=(\S+)`)

// jobs returns the records of id (one per array task once they start).
func jobs(id string) ([]job, error) {
	out, err := exec.Command("scontrol", "show", "job", "-o", id).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("scontrol show job %s: %v: %s", id, err, out)
	}
	var js []job
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		j := job{}
		for _, m := range fieldRE.FindAllStringSubmatch(sc.Text(), -1) {
			switch m[1] {
			case "JobId":
				j.ID = m[2]
			case "ArrayTaskId":
				j.ArrayTask = m[2]
			case "JobState":
				j.State = m[2]
			case "ExitCode":
				j.ExitCode = m[2]
			case "Restarts":
				j.Restarts = m[2]
			}
		}
		if j.ID != "" {
			js = append(js, j)
		}
	}
	return js, nil
}

func terminal(state string) bool {
	switch state {
	case "PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED",
		"RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD", "":
		return false
	}
	return true
}

// wait polls until the job (all n of its records) has ended, and returns its
// records; on timeout it cancels the job and fails with the logs of dir.
func wait(t *testing.T, id string, n int, dir string, timeout time.Duration) []job {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		js, err := jobs(id)
		if err != nil {
			t.Fatal(err)
		}
		done := len(js) == n
		for _, j := range js {
			done = done && terminal(j.State)
		}
		if done {
			return js
		}
		if time.Now().After(deadline) {
			exec.Command("scancel", id).Run()
			t.Fatalf("job %s not done after %v: %+v\n%s", id, timeout, js, logs(dir))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// logs returns the contents of the job logs (logs/*.out) in dir.
func logs(dir string) string {
	files, _ := filepath.Glob(filepath.Join(dir, "logs", "*.out"))
	var b strings.Builder
	for _, f := range files {
		text, _ := os.ReadFile(f)
		fmt.Fprintf(&b, "----- %s -----\n%s", filepath.Base(f), text)
	}
	return b.String()
}

// inproc runs the binary without a launcher: every SLURM_*, PMI*, OMPI_* and
// EFMPI_* variable is removed, so the ranks are goroutines of one process.
func inproc(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(efmpiBin, append([]string{"run", "-quiet"}, args...)...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "SLURM") || strings.HasPrefix(k, "PMI") || strings.HasPrefix(k, "OMPI_") || strings.HasPrefix(k, "EFMPI_") {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("in-process run %v: %v\n%s", args, err, out)
	}
}

func open(t *testing.T, path string) *hdf5io.Run {
	t.Helper()
	r, err := hdf5io.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sameBits compares the deterministic trajectory columns of a and b over
// their first rows rows, and returns the first difference.
func sameBits(a, b *hdf5io.Run, rows int) error {
	for _, c := range []string{"iteration", "bits_per_worker"} {
		for i := 0; i < rows; i++ {
			if a.Ints[c][i] != b.Ints[c][i] {
				return fmt.Errorf("row %d: %s %d vs %d", i, c, a.Ints[c][i], b.Ints[c][i])
			}
		}
	}
	for _, c := range []string{"f", "grad_norm_sq", "est_err_sq", "step_size"} {
		for i := 0; i < rows; i++ {
			if math.Float64bits(a.Floats[c][i]) != math.Float64bits(b.Floats[c][i]) {
				return fmt.Errorf("row %d: %s %v vs %v", i, c, a.Floats[c][i], b.Floats[c][i])
			}
		}
	}
	return nil
}

// The logistic-regression config and the dataset path given explicitly (the
// config's own relative path assumes ../shared/datasets beside the repository).
func a1a(t *testing.T) (config string, sets []string) {
	data := testenv.Dataset(t, "a1a")
	return filepath.Join(repo, "configs", "logreg_a1a.toml"), []string{"-set", fmt.Sprintf("data.path=%q", data)}
}

// sbatch slurm/logreg.sbatch with 4 tasks: the file says completed, srun
// launched 4 ranks, and the trajectory and x_final are bitwise those of the
// same config run in one process.
func TestLogregBatchMatchesInproc(t *testing.T) {
	needSlurm(t)
	config, sets := a1a(t)
	dir := t.TempDir()
	sets = append(sets, "-set", "run.iterations=200")
	start := time.Now()
	id := submit(t, dir, "0", append([]string{"-n", "4", filepath.Join(repo, "slurm", "logreg.sbatch"), config}, sets...)...)
	js := wait(t, id, 1, dir, 3*time.Minute)
	t.Logf("job %s: %s, exit %s, %.1f s from submission", id, js[0].State, js[0].ExitCode, time.Since(start).Seconds())
	if js[0].State != "COMPLETED" || js[0].ExitCode != "0:0" {
		t.Fatalf("job %s: %+v\n%s", id, js[0], logs(dir))
	}
	got := open(t, filepath.Join(dir, "results", "slurm-"+id, "logreg_a1a.h5"))
	host, _ := os.Hostname()
	for k, want := range map[string]any{"status": "completed", "launcher": "srun", "transport": "tcp",
		"n_ranks": int64(4), "iterations_done": int64(200)} {
		if got.Attrs[k] != want {
			t.Errorf("attribute %s = %v, want %v", k, got.Attrs[k], want)
		}
	}
	if h := got.String("hosts"); h == "" || (host != "" && !strings.Contains(h, strings.Split(host, ".")[0])) {
		t.Errorf("hosts %q, this host %q", h, host)
	}

	inproc(t, dir, append([]string{"-config", config, "-ranks", "4", "-out", "inproc.h5"}, sets...)...)
	want := open(t, filepath.Join(dir, "inproc.h5"))
	if want.Attrs["launcher"] != "inproc" {
		t.Fatalf("the reference run was not in-process: launcher %v", want.Attrs["launcher"])
	}
	if got.Rows() != want.Rows() || got.Rows() != 21 {
		t.Fatalf("%d rows under Slurm, %d in process", got.Rows(), want.Rows())
	}
	if err := sameBits(got, want, got.Rows()); err != nil {
		t.Fatal(err)
	}
	if len(got.XFinal) != len(want.XFinal) || len(got.XFinal) == 0 {
		t.Fatalf("x_final lengths %d, %d", len(got.XFinal), len(want.XFinal))
	}
	for i := range got.XFinal {
		if math.Float64bits(got.XFinal[i]) != math.Float64bits(want.XFinal[i]) {
			t.Fatalf("x_final[%d]: %v under Slurm, %v in process", i, got.XFinal[i], want.XFinal[i])
		}
	}
}

// gridPoints reads a grid file the way sweep.sbatch documents it.
func gridPoints(t *testing.T, path string) []map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var points []map[string]string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := map[string]string{}
		for _, w := range strings.Fields(line) {
			k, v, ok := strings.Cut(w, "=")
			if !ok {
				t.Fatalf("%s: %q", path, line)
			}
			p[k] = v
		}
		points = append(points, p)
	}
	return points
}

// sbatch --array=0-2 slurm/sweep.sbatch: three tasks, one file per grid
// point, and `efmpi summarize` lists each with the grid's parameters and the
// file's final values.
func TestSweepArraySummary(t *testing.T) {
	needSlurm(t)
	config, sets := a1a(t)
	dir := t.TempDir()
	grid := filepath.Join(repo, "slurm", "grid_example.txt")
	points := gridPoints(t, grid)
	if len(points) != 3 {
		t.Fatalf("%s has %d points, want 3", grid, len(points))
	}
	start := time.Now()
	id := submit(t, dir, "0", append([]string{"--array=0-2", filepath.Join(repo, "slurm", "sweep.sbatch"), grid, config,
		"-set", "run.iterations=200", "-quiet"}, sets...)...)
	js := wait(t, id, 3, dir, 3*time.Minute)
	t.Logf("array job %s: %+v, %.1f s from submission", id, js, time.Since(start).Seconds())
	for _, j := range js {
		if j.State != "COMPLETED" || j.ExitCode != "0:0" {
			t.Fatalf("array task %+v\n%s", j, logs(dir))
		}
	}

	results := filepath.Join(dir, "results", "sweep-"+id)
	cmd := exec.Command(efmpiBin, "summarize", "-o", filepath.Join(dir, "sweep.csv"), results)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("summarize: %v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "sweep.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	table, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(table) != 4 {
		t.Fatalf("%d rows, want a header and 3", len(table))
	}
	col := map[string]int{}
	for i, h := range table[0] {
		col[h] = i
	}
	for i, p := range points {
		row := table[i+1]
		get := func(c string) string {
			j, ok := col[c]
			if !ok {
				t.Fatalf("no column %q in %v", c, table[0])
			}
			return row[j]
		}
		file := filepath.Join(results, fmt.Sprintf("point-%03d.h5", i))
		if get("file") != file {
			t.Fatalf("row %d is %s, want %s", i, get("file"), file)
		}
		r := open(t, file)
		// The grid's values, as TOML numbers, against the table.
		for key, c := range map[string]string{"stepsize.gamma0": "gamma0", "algorithm.k": "k"} {
			want, err := strconv.ParseFloat(p[key], 64)
			if err != nil {
				t.Fatalf("grid point %d: %s=%q", i, key, p[key])
			}
			if got, err := strconv.ParseFloat(get(c), 64); err != nil || got != want {
				t.Errorf("point %d: %s = %q, grid says %s", i, c, get(c), p[key])
			}
		}
		n := r.Rows()
		for c, want := range map[string]string{"status": "completed", "ranks": "4", "iterations": "200",
			"last_iteration": "200", "rows": strconv.Itoa(n),
			"bits_per_worker": strconv.FormatInt(r.Ints["bits_per_worker"][n-1], 10)} {
			if get(c) != want {
				t.Errorf("point %d: %s = %q, want %q", i, c, get(c), want)
			}
		}
		for c, want := range map[string]float64{"final_f": r.Floats["f"][n-1], "final_grad_norm_sq": r.Floats["grad_norm_sq"][n-1]} {
			if got, err := strconv.ParseFloat(get(c), 64); err != nil || math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("point %d: %s = %q, the file's last row has %v", i, c, get(c), want)
			}
		}
		if r.Attrs["launcher"] != "srun" {
			t.Errorf("point %d: launcher %v", i, r.Attrs["launcher"])
		}
	}
}

// peek reads a file that rank 0 still has open for writing (HDF5 locks it
// otherwise), in a child process; it returns the number of rows, or -1.
func peek(path string) int {
	cmd := exec.Command(efmpiBin, "inspect", "-json", path)
	cmd.Env = append(os.Environ(), "HDF5_USE_FILE_LOCKING=FALSE")
	out, err := cmd.Output()
	if err != nil {
		return -1
	}
	var s []struct{ Rows int }
	if json.Unmarshal(out, &s) != nil || len(s) != 1 {
		return -1
	}
	return s[0].Rows
}

// Preemption: USR1 to the batch shell (what --signal=B:USR1@60 does before the
// time limit) reaches the ranks through the script; rank 0 flushes, marks the
// file interrupted, and the job exits 5. The rows kept are bitwise those of an
// uninterrupted run up to the same iteration (the decreasing rule's steps do
// not depend on K).
func TestPreemptionUSR1(t *testing.T) {
	needSlurm(t)
	config, sets := a1a(t)
	dir := t.TempDir()
	sets = append(sets, "-set", "stepsize.rule=decreasing", "-set", "run.log_every=100", "-set", "run.flush_every=10")
	id := submit(t, dir, "0", append([]string{"-n", "4", filepath.Join(repo, "slurm", "logreg.sbatch"), config,
		"-set", "run.iterations=100000000"}, sets...)...)
	file := filepath.Join(dir, "results", "slurm-"+id, "logreg_a1a.h5")
	waitRows(t, file, 10, dir)
	signalled := time.Now()
	if out, err := exec.Command("scancel", "--signal=USR1", "--batch", id).CombinedOutput(); err != nil {
		t.Fatalf("scancel: %v\n%s", err, out)
	}
	js := wait(t, id, 1, dir, 2*time.Minute)
	t.Logf("job %s: %s, exit %s, %.1f s after the signal", id, js[0].State, js[0].ExitCode, time.Since(signalled).Seconds())
	if js[0].ExitCode != "5:0" || js[0].State != "FAILED" {
		t.Fatalf("job %s: %+v, want exit 5\n%s", id, js[0], logs(dir))
	}
	log := logs(dir)
	if !strings.Contains(log, "got SIGUSR1") || !strings.Contains(log, "efmpi exited with 5") {
		t.Errorf("log:\n%s", log)
	}

	got := open(t, file)
	n := got.Rows()
	last := got.Ints["iteration"][n-1]
	if got.Attrs["status"] != "interrupted" || n < 10 {
		t.Fatalf("status %v, %d rows", got.Attrs["status"], n)
	}
	if done, _ := got.Attrs["iterations_done"].(int64); done < last || done >= 100000000 {
		t.Errorf("iterations_done %v, last row at %d", got.Attrs["iterations_done"], last)
	}
	for i, it := range got.Ints["iteration"] {
		if it != int64(100*i) {
			t.Fatalf("row %d is iteration %d", i, it)
		}
	}
	for _, x := range got.XFinal {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			t.Fatalf("x_final has %v", x)
		}
	}
	inproc(t, dir, append([]string{"-config", config, "-ranks", "4", "-out", "inproc.h5",
		"-set", fmt.Sprintf("run.iterations=%d", last)}, sets...)...)
	want := open(t, filepath.Join(dir, "inproc.h5"))
	if want.Rows() != n {
		t.Fatalf("reference run has %d rows, the interrupted one %d", want.Rows(), n)
	}
	if err := sameBits(got, want, n); err != nil {
		t.Fatal(err)
	}
	t.Logf("interrupted at iteration %v; %d rows bitwise equal to the reference", got.Attrs["iterations_done"], n)
}

// waitRows waits until the file a running job writes has at least rows rows.
func waitRows(t *testing.T, file string, rows int, dir string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for peek(file) < rows {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d rows in %s after 2 min\n%s", rows, file, logs(dir))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Requeue: with EFMPI_REQUEUE=1, USR1 makes the job checkpoint, requeue
// itself, and resume from the checkpoint when Slurm restarts it; the finished
// file is bitwise the uninterrupted in-process run.
func TestRequeueResumes(t *testing.T) {
	needSlurm(t)
	config, sets := a1a(t)
	dir := t.TempDir()
	sets = append(sets, "-set", "stepsize.rule=decreasing", "-set", "run.log_every=100",
		"-set", "run.flush_every=10", "-set", "run.iterations=20000")
	start := time.Now()
	id := submit(t, dir, "1", append([]string{"-n", "4", filepath.Join(repo, "slurm", "logreg.sbatch"), config}, sets...)...)
	file := filepath.Join(dir, "results", "slurm-"+id, "logreg_a1a.h5")
	waitRows(t, file, 10, dir)
	if out, err := exec.Command("scancel", "--signal=USR1", "--batch", id).CombinedOutput(); err != nil {
		t.Fatalf("scancel: %v\n%s", err, out)
	}
	// A requeued job waits for its credentials to expire (120 s by default)
	// before it may start again; as its owner, allow it to start now.
	requeueWhenPending(t, id, dir)
	js := wait(t, id, 1, dir, 4*time.Minute)
	t.Logf("job %s: %s, exit %s, restarts %s, %.1f s from submission", id, js[0].State, js[0].ExitCode, js[0].Restarts,
		time.Since(start).Seconds())
	if js[0].State != "COMPLETED" || js[0].ExitCode != "0:0" || js[0].Restarts != "1" {
		t.Fatalf("job %s: %+v\n%s", id, js[0], logs(dir))
	}
	log := logs(dir)
	for _, w := range []string{"got SIGUSR1", "requeueing job", "restart 1: resuming", "status completed"} {
		if !strings.Contains(log, w) {
			t.Errorf("log lacks %q:\n%s", w, log)
		}
	}

	got := open(t, file)
	if got.Attrs["status"] != "completed" || got.Attrs["iterations_done"] != int64(20000) || got.Rows() != 201 {
		t.Fatalf("status %v, iterations_done %v, %d rows", got.Attrs["status"], got.Attrs["iterations_done"], got.Rows())
	}
	inproc(t, dir, append([]string{"-config", config, "-ranks", "4", "-out", "inproc.h5"}, sets...)...)
	want := open(t, filepath.Join(dir, "inproc.h5"))
	if err := sameBits(got, want, want.Rows()); err != nil || got.Rows() != want.Rows() {
		t.Fatalf("%d vs %d rows: %v", got.Rows(), want.Rows(), err)
	}
	for i := range want.XFinal {
		if math.Float64bits(got.XFinal[i]) != math.Float64bits(want.XFinal[i]) {
			t.Fatalf("x_final[%d]: %v after the requeue, %v in process", i, got.XFinal[i], want.XFinal[i])
		}
	}
}
