package slurm_test

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// mpiBuilds are the MPI builds of efmpi the tests make (once per process):
// flavour → its wrapper compiler and the srun --mpi plugin the sbatch
// scripts must choose for it.
var mpiBuilds = map[string]*struct {
	cc, plugin string
	once       sync.Once
	bin, why   string
}{
	"openmpi": {cc: "mpicc.openmpi", plugin: "pmix"},
	"mpich":   {cc: "mpicc.mpich", plugin: "pmi2"},
}

// mpiEfmpi builds efmpi -tags mpi for the flavour, or skips the test when
// its wrapper compiler is missing.
func mpiEfmpi(t *testing.T, flavour string) string {
	t.Helper()
	b := mpiBuilds[flavour]
	b.once.Do(func() {
		cc, err := exec.LookPath(b.cc)
		if err != nil {
			b.why = b.cc + " not installed"
			return
		}
		b.bin = filepath.Join(filepath.Dir(efmpiBin), "efmpi-"+flavour)
		build := exec.Command("go", "build", "-tags", "mpi", "-o", b.bin, "./cmd/efmpi")
		build.Dir, build.Env = repo, append(os.Environ(), "CC="+cc)
		if out, err := build.CombinedOutput(); err != nil {
			b.why = fmt.Sprintf("go build -tags mpi (CC=%s): %v\n%s", cc, err, out)
			b.bin = ""
		}
	})
	if b.bin == "" {
		if strings.HasPrefix(b.why, "go build") {
			t.Fatal(b.why)
		}
		t.Skip(b.why)
	}
	return b.bin
}

// submitBin is submit with another efmpi binary.
func submitBin(t *testing.T, bin, dir string, args ...string) string {
	// Slurm does not create the folder of #SBATCH --output (logs/)
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Helper()
	cmd := exec.Command("sbatch", append([]string{"--parsable"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "EFMPI="+bin, "EFMPI_REQUEUE=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sbatch %v: %v\n%s", args, err, out)
	}
	id, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
	if _, err := strconv.Atoi(id); err != nil {
		t.Fatalf("sbatch printed %q, not a job id", out)
	}
	t.Cleanup(func() { exec.Command("scancel", id).Run() })
	return id
}

// slurm/logreg.sbatch with an MPI build: the script starts it with srun
// --mpi=pmix (Open MPI) or --mpi=pmi2 (MPICH), the ranks talk over the mpi
// transport, and the trajectory and x_final are bitwise the in-process run's.
func TestLogregBatchMPI(t *testing.T) {
	needSlurm(t)
	for _, flavour := range []string{"openmpi", "mpich"} {
		t.Run(flavour, func(t *testing.T) {
			bin := mpiEfmpi(t, flavour)
			config, sets := a1a(t)
			dir := t.TempDir()
			sets = append(sets, "-set", "run.iterations=200")
			id := submitBin(t, bin, dir, append([]string{"-n", "2", filepath.Join(repo, "slurm", "logreg.sbatch"), config}, sets...)...)
			js := wait(t, id, 1, dir, 3*time.Minute)
			if js[0].State != "COMPLETED" || js[0].ExitCode != "0:0" {
				t.Fatalf("job %s: %+v\n%s", id, js[0], logs(dir))
			}
			got := open(t, filepath.Join(dir, "results", "slurm-"+id, "logreg_a1a.h5"))
			for k, want := range map[string]any{"status": "completed", "launcher": "srun", "transport": "mpi", "n_ranks": int64(2)} {
				if got.Attrs[k] != want {
					t.Errorf("attribute %s = %v, want %v", k, got.Attrs[k], want)
				}
			}
			inproc(t, dir, append([]string{"-config", config, "-ranks", "2", "-out", "inproc.h5"}, sets...)...)
			want := open(t, filepath.Join(dir, "inproc.h5"))
			if got.Rows() != want.Rows() || got.Rows() != 21 {
				t.Fatalf("%d rows under srun --mpi=%s, %d in process", got.Rows(), mpiBuilds[flavour].plugin, want.Rows())
			}
			if err := sameBits(got, want, got.Rows()); err != nil {
				t.Fatal(err)
			}
			for _, c := range []string{"wire_bytes_up", "wire_bytes_down"} {
				for i := range got.Ints[c] {
					if got.Ints[c][i] != want.Ints[c][i] {
						t.Fatalf("%s row %d: %d under srun, %d in process", c, i, got.Ints[c][i], want.Ints[c][i])
					}
				}
			}
			for i := range got.XFinal {
				if math.Float64bits(got.XFinal[i]) != math.Float64bits(want.XFinal[i]) {
					t.Fatalf("x_final[%d] differs", i)
				}
			}
		})
	}
}

// USR1 to a logreg.sbatch job of the Open MPI build (srun --mpi=pmix, mpi
// transport): every rank checkpoints, rank 0 marks the file interrupted, the
// job exits 5, and the checkpoint is complete (its .done marker exists).
func TestPreemptionUSR1MPI(t *testing.T) {
	needSlurm(t)
	bin := mpiEfmpi(t, "openmpi")
	config, sets := a1a(t)
	dir := t.TempDir()
	sets = append(sets, "-set", "stepsize.rule=decreasing", "-set", "run.log_every=100", "-set", "run.flush_every=10")
	id := submitBin(t, bin, dir, append([]string{"-n", "2", filepath.Join(repo, "slurm", "logreg.sbatch"), config,
		"-set", "run.iterations=100000000"}, sets...)...)
	file := filepath.Join(dir, "results", "slurm-"+id, "logreg_a1a.h5")
	waitRows(t, file, 10, dir)
	if out, err := exec.Command("scancel", "--signal=USR1", "--batch", id).CombinedOutput(); err != nil {
		t.Fatalf("scancel: %v\n%s", err, out)
	}
	js := wait(t, id, 1, dir, 2*time.Minute)
	if js[0].ExitCode != "5:0" {
		t.Fatalf("job %s: %+v, want exit 5\n%s", id, js[0], logs(dir))
	}
	got := open(t, file)
	if got.Attrs["status"] != "interrupted" || got.Attrs["transport"] != "mpi" {
		t.Fatalf("status %v, transport %v", got.Attrs["status"], got.Attrs["transport"])
	}
	done, _ := filepath.Glob(file + ".ckpt/ckpt-*.done")
	if len(done) == 0 {
		t.Fatalf("no complete checkpoint beside %s\n%s", file, logs(dir))
	}
	t.Logf("interrupted at iteration %v; checkpoint %s", got.Attrs["iterations_done"], filepath.Base(done[len(done)-1]))
}
