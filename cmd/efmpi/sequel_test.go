package main

import (
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
)

// Issue 24's methods under the determinism contract: in-process ranks,
// self-spawned TCP ranks and Open MPI's mpirun (where installed) give
// bitwise-identical trajectories, grad_evals included — the second gradient
// on the same minibatch, the HVPs, RHM's q and the poly schedules cross
// process boundaries unchanged.
func TestDeterminismSequelMethods(t *testing.T) {
	data := testenv.Dataset(t, "a1a")
	mpirun, mpiErr := exec.LookPath("mpirun.openmpi")
	if mpiErr != nil {
		t.Log("mpirun.openmpi not installed: Open MPI leg skipped")
	}
	poly := "[stepsize]\nrule = \"poly\"\ngamma0 = 1.0\np = 0.6666666666666666\nper = \"epoch\"\n"
	for name, alg := range map[string]string{
		"ef21-igt":   "method = \"ef21-igt\"\nnormalize = true\neta = 1.0\neta_rule = \"poly\"\n" + poly,
		"ef21-storm": "method = \"ef21-storm\"\nnormalize = true\neta = 0.5\n" + poly,
		"ef21-hm":    "method = \"ef21-hm\"\nnormalize = true\neta = 1.0\neta_rule = \"poly\"\neta_per = \"epoch\"\n" + poly,
		"ef21-rhm":   "method = \"ef21-rhm\"\nnormalize = true\neta = 0.5\nhvp = \"central\"\n" + poly,
		"econtrol":   "method = \"econtrol\"\neta = 0.2\n[stepsize]\nrule = \"constant\"\ngamma = 0.1\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := write(t, dir, "det.toml", "[problem]\nkind = \"logreg\"\n[data]\nsource = \"libsvm\"\npath = \""+data+
				"\"\nshuffle = true\n[algorithm]\ncompressor = \"top-k\"\nk = 2\nbatch = 16\n"+alg+
				"[run]\niterations = 60\nranks = 4\nseed = 3\noutput = \"out.h5\"\n")
			env := childEnv()
			runs := []string{"inproc.h5", "tcp.h5"}
			runCmd(t, dir, env, efmpiBin, "run", "-config", cfg, "-quiet", "-out", "inproc.h5")
			runCmd(t, dir, env, efmpiBin, "run", "-config", cfg, "-quiet", "-transport", "tcp", "-out", "tcp.h5")
			if mpiErr == nil {
				runCmd(t, dir, childEnv("OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"), mpirun,
					"-np", "4", "--oversubscribe", efmpiBin, "run", "-config", cfg, "-quiet", "-out", "openmpi.h5")
				runs = append(runs, "openmpi.h5")
			}
			ref, err := hdf5io.Open(filepath.Join(dir, runs[0]))
			if err != nil {
				t.Fatal(err)
			}
			if ref.Rows() != 61 || ref.String("status") != "completed" || len(ref.Ints["grad_evals"]) != 61 {
				t.Fatalf("%d rows, status %q", ref.Rows(), ref.String("status"))
			}
			for _, file := range runs[1:] {
				got, err := hdf5io.Open(filepath.Join(dir, file))
				if err != nil {
					t.Fatal(err)
				}
				if got.String("status") != "completed" {
					t.Fatalf("%s: status %q", file, got.String("status"))
				}
				for col, want := range ref.Floats {
					if col != "time_s" && !bitsEqual(got.Floats[col], want) {
						t.Errorf("%s: /trajectory/%s differs from in-process", file, col)
					}
				}
				for col, want := range ref.Ints {
					if !slices.Equal(got.Ints[col], want) {
						t.Errorf("%s: /trajectory/%s differs from in-process", file, col)
					}
				}
				if !bitsEqual(got.XFinal, ref.XFinal) {
					t.Errorf("%s: /x_final differs", file)
				}
			}
		})
	}
}
