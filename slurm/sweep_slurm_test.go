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
func TestSweepSlurmSubmit(t *testing.T) {
	needSlurm(t)
	config, sets := a1a(t)
	dir := t.TempDir()
	grid := append([]string{"-config", config, "-set", "run.iterations=100",
		"-grid", "variant=algorithm.method=ef21 algorithm.normalize=true|algorithm.method=ef14 algorithm.normalize=false stepsize.rule=ef21-theory stepsize.gamma0=",
		"-grid", "algorithm.k=1,3"}, sets...)
	cmd := exec.Command(efmpiBin, append(append([]string{"sweep", "-out", "sw", "-slurm",
		"-slurm-script", filepath.Join(repo, "slurm", "sweep.sbatch")}, grid...), "--", "--parsable", "-n", "2")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "EFMPI="+efmpiBin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sweep -slurm: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^(\d+)(;\S*)?$`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no job id in\n%s", out)
	}
	id := m[1]
	t.Cleanup(func() { exec.Command("scancel", id).Run() })
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
