package mpi

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestConformanceUnderLaunchers builds internal/mpiconf with -tags mpi for
// Open MPI and for MPICH (CC=mpicc.openmpi, mpicc.mpich) and runs it under
// the matching launcher with 1–4 ranks: every collective of the MPI
// transport against a naive computation, on every rank. It skips a flavour
// whose wrapper compiler or launcher is not installed (.ci/run installs
// both).
func TestConformanceUnderLaunchers(t *testing.T) {
	flavours := []struct{ name, cc, launcher string }{
		{FlavourOpenMPI, "mpicc.openmpi", "mpirun.openmpi"},
		{FlavourMPICH, "mpicc.mpich", "mpiexec.mpich"},
	}
	for _, fl := range flavours {
		t.Run(fl.name, func(t *testing.T) {
			cc, err := exec.LookPath(fl.cc)
			if err != nil {
				t.Skipf("%s not installed", fl.cc)
			}
			launcher, err := exec.LookPath(fl.launcher)
			if err != nil {
				t.Skipf("%s not installed", fl.launcher)
			}
			bin := filepath.Join(t.TempDir(), "mpiconf")
			build := exec.Command("go", "build", "-tags", "mpi", "-o", bin, "./internal/mpiconf")
			build.Env = append(os.Environ(), "CC="+cc)
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("go build -tags mpi (CC=%s): %v\n%s", cc, err, out)
			}
			for n := 1; n <= 4; n++ {
				args := []string{"-n", strconv.Itoa(n)}
				if fl.name == FlavourOpenMPI {
					args = append(args, "--oversubscribe")
				}
				cmd := exec.Command(launcher, append(args, bin)...)
				cmd.Env = append(os.Environ(), "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("n=%d: %v\n%s", n, err, out)
				}
				for r := range n {
					if want := "rank " + strconv.Itoa(r) + "/" + strconv.Itoa(n) + " ok"; !strings.Contains(string(out), want) {
						t.Errorf("n=%d: no %q in\n%s", n, want, out)
					}
				}
			}
		})
	}
}

// CheckLauncher tells each library's launchers apart by their environment.
func TestCheckLauncher(t *testing.T) {
	ompi := []string{"OMPI_COMM_WORLD_RANK=0", "OMPI_COMM_WORLD_SIZE=2", "PMIX_RANK=0", "PMIX_NAMESPACE=x"}
	hydra := []string{"PMI_RANK=0", "PMI_SIZE=2", "PMI_FD=6", "HYDI_CONTROL_FD=7", "MPI_LOCALNRANKS=2"}
	srunPMIx := []string{"SLURM_PROCID=0", "SLURM_STEP_ID=0", "PMIX_RANK=0"}
	srunPMI2 := []string{"SLURM_PROCID=0", "SLURM_STEP_ID=0", "PMI_FD=5", "PMI_RANK=0", "PMI_SIZE=2"}
	srunPlain := []string{"SLURM_PROCID=0", "SLURM_STEP_ID=0"}
	cases := []struct {
		flavour string
		env     []string
		want    string // "" for no error, else a part of the message
	}{
		{FlavourOpenMPI, ompi, ""},
		{FlavourOpenMPI, srunPMIx, ""},
		{FlavourOpenMPI, hydra, "started by MPICH's mpiexec"},
		{FlavourOpenMPI, srunPMI2, "srun --mpi=pmix"},
		{FlavourOpenMPI, srunPlain, "without PMIx"},
		{FlavourOpenMPI, []string{"HOME=/"}, "not started by an MPI launcher"},
		{FlavourMPICH, hydra, ""},
		{FlavourMPICH, srunPMI2, ""},
		{FlavourMPICH, ompi, "started by Open MPI's mpirun"},
		{FlavourMPICH, srunPMIx, "srun --mpi=pmi2"},
		{FlavourMPICH, srunPlain, "without PMI-2"},
		{"", ompi, "built without MPI"},
	}
	for _, c := range cases {
		err := CheckLauncher(c.flavour, c.env)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s %v: %v", c.flavour, c.env, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s %v: %v, want an error saying %q", c.flavour, c.env, err, c.want)
		}
	}
}
