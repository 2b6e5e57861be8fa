package slurm_test

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// requeueWhenPending lets a requeued job start now (Slurm holds it about two
// minutes otherwise), and fails if the job ends without being requeued.
func requeueWhenPending(t *testing.T, id, dir string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		js, err := jobs(id)
		if err != nil {
			t.Fatal(err)
		}
		if len(js) == 1 && js[0].Restarts != "0" && js[0].State == "PENDING" {
			// Slurm revokes the job's credential when it requeues it, to the
			// second: a start within that second is refused ("Job credential
			// revoked") and ends the job.
			time.Sleep(2 * time.Second)
			exec.Command("scontrol", "update", "JobId="+id, "StartTime=now").Run()
			return
		}
		if len(js) == 1 && js[0].Restarts == "0" && terminal(js[0].State) {
			t.Fatalf("job %s ended without a requeue: %+v\n%s", id, js[0], logs(dir))
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s not requeued after 1 min: %+v\n%s", id, js, logs(dir))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Issue 25: requeue with -out results/jobE.h5 and USR1 sent to the ranks
// (scancel --signal=USR1 without --batch: the script itself sees no
// signal). The ranks checkpoint and exit 5, the job requeues itself, the
// restart resumes the file -out names, and the finished file is bitwise the
// uninterrupted in-process run, with one segment per start carrying the job
// id and restart count. The log names the real output, shows the srun
// command, prints the ranks' common message once, and no empty
// results/slurm-<id>/ is made.
func TestRequeueCustomOutput(t *testing.T) {
	needSlurm(t)
	config, sets := a1a(t)
	dir := t.TempDir()
	sets = append(sets, "-set", "stepsize.rule=decreasing", "-set", "run.log_every=100",
		"-set", "run.flush_every=10", "-set", "run.iterations=20000")
	id := submit(t, dir, "1", append([]string{"-n", "4", filepath.Join(repo, "slurm", "logreg.sbatch"), config,
		"-out", "results/jobE.h5"}, sets...)...)
	file := filepath.Join(dir, "results", "jobE.h5")
	waitRows(t, file, 10, dir)
	if out, err := exec.Command("scancel", "--signal=USR1", id).CombinedOutput(); err != nil {
		t.Fatalf("scancel: %v\n%s", err, out)
	}
	requeueWhenPending(t, id, dir)
	js := wait(t, id, 1, dir, 4*time.Minute)
	log := logs(dir)
	if js[0].State != "COMPLETED" || js[0].ExitCode != "0:0" || js[0].Restarts != "1" {
		t.Fatalf("job %s: %+v\n%s", id, js[0], log)
	}
	for _, w := range []string{"output results/jobE.h5", "requeueing job", "restart 1: resuming results/jobE.h5",
		"launch (efmpi is built without MPI: TCP transport, no --mpi): srun ", "status completed",
		"ranks 0-3: efmpi run: run interrupted: interrupted by a signal"} {
		if !strings.Contains(log, w) {
			t.Errorf("log lacks %q:\n%s", w, log)
		}
	}
	if n := strings.Count(log, "run interrupted: interrupted by a signal"); n != 1 {
		t.Errorf("the ranks' message appears %d times, want once:\n%s", n, log)
	}
	if _, err := os.Stat(filepath.Join(dir, "results", "slurm-"+id)); err == nil {
		t.Errorf("results/slurm-%s was created", id)
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
	if len(got.Segments) != 2 {
		t.Fatalf("segments %v", got.Segments)
	}
	for i, seg := range got.Segments {
		status := []string{"interrupted", "completed"}[i]
		if seg["slurm_job_id"] != id || seg["launcher"] != "srun" || seg["transport"] != "tcp" || seg["status"] != status ||
			seg["slurm_step_id"] != "0" {
			t.Errorf("segment %d: %v", i, seg)
		}
	}
	if r := got.Segments[1]["slurm_restart_count"]; r != "1" {
		t.Errorf("segment 1: slurm_restart_count %v", r)
	}
	if got.Segments[0]["end_iteration"] != got.Segments[1]["start_iteration"] {
		t.Errorf("segment 0 ends at %v, segment 1 starts at %v", got.Segments[0]["end_iteration"], got.Segments[1]["start_iteration"])
	}
}

// Rank 0's own failure is the job's exit code: -out names a file that
// exists, rank 0 refuses it (exit 2) and the other ranks give up waiting for
// it (exit 4); Slurm shows 2, and the log says why.
func TestRank0FailureIsTheJobsExit(t *testing.T) {
	needSlurm(t)
	config, sets := a1a(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "results"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results", "mine.h5"), []byte("the user's"), 0o644); err != nil {
		t.Fatal(err)
	}
	id := submit(t, dir, "1", append([]string{"-n", "3", filepath.Join(repo, "slurm", "logreg.sbatch"), config,
		"-out", "results/mine.h5", "-set", `run.timeout="3s"`}, sets...)...)
	js := wait(t, id, 1, dir, 3*time.Minute)
	log := logs(dir)
	if js[0].State != "FAILED" || js[0].ExitCode != "2:0" {
		t.Fatalf("job %s: %+v, want FAILED 2:0\n%s", id, js[0], log)
	}
	for _, w := range []string{"rank 0: efmpi run: results/mine.h5: output file exists", "rank 0 exited with 2 (the highest of all ranks was 4)",
		"ranks 1-2: efmpi run: launch: no rendezvous file"} {
		if !strings.Contains(log, w) {
			t.Errorf("log lacks %q:\n%s", w, log)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "results", "mine.h5")); string(b) != "the user's" {
		t.Errorf("the user's file was changed: %q", b)
	}
}

// kill -9 of rank 0 under srun (TCP): the file stays `running`; inspect says
// the writer is gone and where the rows end; the job fails (the other ranks
// lose rank 0).
func TestKilledRank0UnderSrun(t *testing.T) {
	needSlurm(t)
	config, sets := a1a(t)
	dir := t.TempDir()
	id := submit(t, dir, "0", append([]string{"-n", "3", filepath.Join(repo, "slurm", "logreg.sbatch"), config,
		"-out", "results/k.h5", "-set", "run.iterations=100000000", "-set", "run.log_every=100", "-set", "run.flush_every=5",
		"-set", `run.timeout="5s"`}, sets...)...)
	file := filepath.Join(dir, "results", "k.h5")
	waitRows(t, file, 10, dir)
	holder, err := os.ReadFile(file + ".lock")
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	var host string
	if _, err := fmt.Sscanf(string(holder), "pid %d on %s", &pid, &host); err != nil {
		t.Fatalf("lock file %q: %v", holder, err)
	}
	if err := exec.Command("kill", "-9", strconv.Itoa(pid)).Run(); err != nil {
		t.Fatal(err)
	}
	js := wait(t, id, 1, dir, 2*time.Minute)
	log := logs(dir)
	t.Logf("job %s after kill -9 of rank 0: %s %s\n%s", id, js[0].State, js[0].ExitCode, log)
	if js[0].State != "FAILED" {
		t.Errorf("job %s: %+v", id, js[0])
	}
	got := open(t, file)
	last := got.Ints["iteration"][got.Rows()-1]
	out, err := exec.Command(efmpiBin, "inspect", file).CombinedOutput()
	if err != nil {
		t.Fatalf("inspect: %v\n%s", err, out)
	}
	for _, w := range []string{"running", "the writer is gone", fmt.Sprintf("pid %d on %s", pid, host),
		fmt.Sprintf("last row at iteration %d", last)} {
		if !strings.Contains(string(out), w) {
			t.Errorf("inspect lacks %q:\n%s", w, out)
		}
	}
}

// sbatchValue returns the value of `#SBATCH --name=value` in script.
func sbatchValue(t *testing.T, script, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "slurm", script))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "#SBATCH --"+name+"="); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("%s has no #SBATCH --%s", script, name)
	return ""
}

// Without Slurm: logreg.sbatch's --ntasks is the default config's ranks (a
// default submission does not warn that they differ), and both scripts
// write their logs into logs/, a folder of the repository whose contents
// git ignores.
func TestScriptsAgreeWithRepository(t *testing.T) {
	cfg, err := os.ReadFile(filepath.Join(repo, "configs", "logreg_a1a.toml"))
	if err != nil {
		t.Fatal(err)
	}
	ranks := ""
	for _, line := range strings.Split(string(cfg), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "ranks" {
			ranks = strings.TrimSpace(v)
		}
	}
	if n := sbatchValue(t, "logreg.sbatch", "ntasks"); n != ranks || ranks == "" {
		t.Errorf("logreg.sbatch --ntasks=%s, configs/logreg_a1a.toml ranks = %s", n, ranks)
	}
	for _, script := range []string{"logreg.sbatch", "sweep.sbatch"} {
		out := sbatchValue(t, script, "output")
		if !strings.HasPrefix(out, "logs/") {
			t.Errorf("%s: --output=%s, not in logs/", script, out)
		}
	}
	if st, err := os.Stat(filepath.Join(repo, "logs")); err != nil || !st.IsDir() {
		t.Fatalf("logs/ is not a folder of the repository: %v", err)
	}
	for _, log := range []string{"logs/efmpi-logreg-12.out", "efmpi-logreg-12.out"} {
		cmd := exec.Command("git", "check-ignore", "-q", log)
		cmd.Dir = repo
		if err := cmd.Run(); err != nil {
			t.Errorf("git does not ignore %s: %v", log, err)
		}
	}
	cmd := exec.Command("git", "check-ignore", "-q", "logs/.gitignore")
	cmd.Dir = repo
	if cmd.Run() == nil {
		t.Errorf("logs/.gitignore is ignored: the folder would not be in a checkout")
	}
}
