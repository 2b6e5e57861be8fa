package slurm_test

import (
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// efmpi sweep -slurm against a live Slurm (EFMPI_SLURM_TESTS=1): the same
// grid submitted as a job array and run locally give the same table (all
// but file and time_s), point files named alike, read by efmpi summarize.
// The array runs at most 2 tasks at once (-throttle 2: Slurm's
// ArrayTaskThrottle), and the job that depends on it writes sw/sweep.csv,
// the table `summarize -csv` prints. A grid with a point that cannot run
// (2000 ranks for 1 605 samples) is refused with exit 2 before sbatch.
func TestSweepSlurmSubmit(t *testing.T) {
	needSlurm(t)
	config, sets := a1a(t)
	dir := t.TempDir()
	grid := append([]string{"-config", config, "-set", "run.iterations=100",
		"-grid", "variant=algorithm.method=ef21 algorithm.normalize=true|algorithm.method=ef14 algorithm.normalize=false stepsize.rule=ef21-theory stepsize.gamma0=",
		"-grid", "algorithm.k=1,3"}, sets...)
	bad := exec.Command(efmpiBin, append(append([]string{"sweep", "-out", "bad", "-slurm",
		"-slurm-script", filepath.Join(repo, "slurm", "sweep.sbatch")}, append(grid, "-grid", "run.seed=1,2")...), "-set", "run.ranks=2000")...)
	bad.Dir = dir
	if out, err := bad.CombinedOutput(); bad.ProcessState.ExitCode() != 2 || !strings.Contains(string(out), "point 0") ||
		strings.Contains(string(out), "Submitted") {
		t.Fatalf("a bad point: %v\n%s", err, out)
	}
	cmd := exec.Command(efmpiBin, append(append([]string{"sweep", "-out", "sw", "-slurm", "-throttle", "2",
		"-slurm-script", filepath.Join(repo, "slurm", "sweep.sbatch")}, grid...), "--", "--parsable", "-n", "2")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "EFMPI="+efmpiBin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sweep -slurm: %v\n%s", err, out)
	}
	ms := regexp.MustCompile(`(?m)^(\d+)(;\S*)?$`).FindAllStringSubmatch(string(out), -1)
	if len(ms) != 2 {
		t.Fatalf("want the array's and the summary job's ids in\n%s", out)
	}
	id, summaryID := ms[0][1], ms[1][1]
	t.Cleanup(func() { exec.Command("scancel", id, summaryID).Run() })
	if show, _ := exec.Command("scontrol", "show", "job", id).Output(); !strings.Contains(string(show), "ArrayTaskThrottle=2") {
		t.Errorf("-throttle 2: scontrol show job %s:\n%s", id, show)
	}
	for _, j := range wait(t, id, 4, dir, 3*time.Minute) {
		if j.State != "COMPLETED" || j.ExitCode != "0:0" {
			t.Fatalf("array task %+v\n%s", j, logs(dir))
		}
	}
	local := exec.Command(efmpiBin, append([]string{"sweep", "-out", "local", "-quiet", "-set", "run.ranks=2"}, grid...)...)
	local.Dir = dir
	if out, err := local.CombinedOutput(); err != nil {
		t.Fatalf("local sweep: %v\n%s", err, out)
	}
	table := func(d string) [][]string {
		c := exec.Command(efmpiBin, "summarize", "-csv", d)
		c.Dir = dir
		out, err := c.Output()
		if err != nil {
			t.Fatalf("summarize %s: %v", d, err)
		}
		recs, err := csv.NewReader(strings.NewReader(string(out))).ReadAll()
		if err != nil || len(recs) != 5 {
			t.Fatalf("summarize %s: %v, %d lines", d, err, len(recs))
		}
		return recs
	}
	a, b := table("sw"), table("local")
	// the summary job ran after the array and wrote sw/sweep.csv
	if js := wait(t, summaryID, 1, dir, time.Minute); js[0].State != "COMPLETED" {
		t.Fatalf("summary job %+v\n%s", js[0], logs(filepath.Join(dir, "sw")))
	}
	written, err := os.ReadFile(filepath.Join(dir, "sw", "sweep.csv"))
	if err != nil {
		t.Fatalf("no sw/sweep.csv: %v\n%s", err, logs(filepath.Join(dir, "sw")))
	}
	recs, err := csv.NewReader(strings.NewReader(string(written))).ReadAll()
	if err != nil || len(recs) != 5 || strings.Join(recs[0], ",") != strings.Join(a[0], ",") {
		t.Fatalf("sw/sweep.csv: %v\n%s", err, written)
	}
	for i := 1; i < 5; i++ {
		for j := range recs[i] {
			if filepath.Base(recs[i][j]) != filepath.Base(a[i][j]) {
				t.Errorf("sweep.csv row %d column %s: %q, summarize %q", i, a[0][j], recs[i][j], a[i][j])
			}
		}
	}
	for i := 1; i < 5; i++ {
		for j, h := range a[0] {
			switch h {
			case "file":
				if filepath.Base(a[i][j]) != filepath.Base(b[i][j]) {
					t.Errorf("row %d: files %s and %s", i, a[i][j], b[i][j])
				}
			case "time_s":
			default:
				if a[i][j] != b[i][j] {
					t.Errorf("row %d %s: slurm %q, local %q", i, h, a[i][j], b[i][j])
				}
			}
		}
	}
}
