package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
)

// determinismConfig exercises every random stream that crosses process
// boundaries: a shuffled split, minibatches, rand-k, momentum.
const determinismConfig = `[problem]
kind = "logreg"
lambda = 0.1
[data]
source = "libsvm"
path = "%DATA%"
shuffle = true
[algorithm]
method = "ef21-sgdm"
normalize = true
compressor = "rand-k"
k = 3
batch = 16
momentum = "eta-theory"
[stepsize]
rule = "norm-theory"
[run]
iterations = 150
ranks = 4
seed = 7
log_every = 1
output = "out.h5"
`

// childEnv is the environment without any launcher variables, so that a run
// meant to be in-process or self-spawned is not mistaken for a launcher's rank.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "OMPI_") || strings.HasPrefix(k, "PMI") || strings.HasPrefix(k, "SLURM_") ||
			strings.HasPrefix(k, "EFMPI_") || strings.HasPrefix(k, "HYDRA_") || strings.HasPrefix(k, "MPI_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// runCmd runs a command in dir and fails the test with its output on error.
func runCmd(t *testing.T, dir string, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// TestDeterminismAcrossLaunchers runs one config with in-process ranks,
// self-spawned TCP ranks, Open MPI's mpirun and MPICH's mpiexec (the default
// build over its TCP transport), and the MPI builds for Open MPI and MPICH
// over the mpi transport under their launchers, and requires
// bitwise-identical trajectories and final iterates. Only the wall-clock
// column may differ; the wire-byte columns must agree too, since every
// transport counts the same frames.
func TestDeterminismAcrossLaunchers(t *testing.T) {
	data := testenv.Dataset(t, "a1a")
	dir := t.TempDir()
	cfg := write(t, dir, "det.toml", strings.ReplaceAll(determinismConfig, "%DATA%", data))
	env := childEnv()

	runs := map[string]string{}
	runCmd(t, dir, env, efmpiBin, "run", "-config", cfg, "-quiet", "-out", "inproc.h5")
	runs["inproc"] = "inproc.h5"
	runCmd(t, dir, env, efmpiBin, "run", "-config", cfg, "-quiet", "-transport", "tcp", "-out", "spawned.h5")
	runs["tcp-spawned"] = "spawned.h5"
	if mpirun, err := exec.LookPath("mpirun.openmpi"); err == nil {
		runCmd(t, dir, childEnv("OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"), mpirun,
			"-np", "4", "--oversubscribe", efmpiBin, "run", "-config", cfg, "-quiet", "-out", "openmpi.h5")
		runs["mpirun"] = "openmpi.h5"
	} else {
		t.Log("mpirun.openmpi not installed: Open MPI leg skipped")
	}
	if mpiexec, err := exec.LookPath("mpiexec.mpich"); err == nil {
		runCmd(t, dir, env, mpiexec, "-n", "4", efmpiBin, "run", "-config", cfg, "-quiet", "-out", "mpich.h5")
		runs["mpiexec.mpich"] = "mpich.h5"
	} else {
		t.Log("mpiexec.mpich not installed: MPICH leg skipped")
	}
	for _, flavour := range []string{"openmpi", "mpich"} {
		bin, launcher, why := mpiBinMaybe(t, flavour)
		if why != "" {
			t.Log(why)
			continue
		}
		out := flavour + "-mpi.h5"
		runCmd(t, dir, mpiEnv(), launcher, launchArgs(flavour, 4, bin, "run", "-config", cfg, "-quiet", "-out", out)...)
		runs[flavour+" (mpi transport)"] = out
	}

	ref, err := hdf5io.Open(filepath.Join(dir, runs["inproc"]))
	if err != nil {
		t.Fatal(err)
	}
	if ref.Rows() != 151 || ref.String("status") != "completed" {
		t.Fatalf("in-process run: %d rows, status %q", ref.Rows(), ref.String("status"))
	}
	for _, col := range []string{"f", "grad_norm_sq", "est_err_sq", "step_size"} {
		if len(ref.Floats[col]) != 151 {
			t.Fatalf("in-process run: /trajectory/%s has %d rows", col, len(ref.Floats[col]))
		}
	}
	t.Logf("compared %d launchers against the in-process run", len(runs)-1)
	for name, file := range runs {
		if name == "inproc" {
			continue
		}
		got, err := hdf5io.Open(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if s := got.String("status"); s != "completed" {
			t.Errorf("%s: status %q", name, s)
		}
		if wantTr := map[bool]string{true: "mpi", false: "tcp"}[strings.HasSuffix(name, "(mpi transport)")]; got.String("transport") != wantTr {
			t.Errorf("%s: transport attribute %q, want %q", name, got.String("transport"), wantTr)
		}
		for col, want := range ref.Floats {
			if col == "time_s" {
				continue
			}
			if !bitsEqual(got.Floats[col], want) {
				t.Errorf("%s: /trajectory/%s differs from the in-process run", name, col)
			}
		}
		for col, want := range ref.Ints {
			if !slices.Equal(got.Ints[col], want) {
				t.Errorf("%s: /trajectory/%s = %v…, in-process %v…", name, col, head(got.Ints[col]), head(want))
			}
		}
		if !bitsEqual(got.XFinal, ref.XFinal) || len(ref.XFinal) != 119 {
			t.Errorf("%s: /x_final differs from the in-process run", name)
		}
	}
}

func bitsEqual(a, b []float64) bool {
	return len(a) == len(b) && slices.EqualFunc(a, b, func(x, y float64) bool {
		return math.Float64bits(x) == math.Float64bits(y)
	})
}

func head(v []int64) []int64 { return v[:min(len(v), 5)] }

// The methods of issue 16 under the same contract, in-process against
// self-spawned TCP ranks: EF21-W with partial participation on a label split
// (unequal L_i, a participation draw every iteration), and Signum with
// majority vote under Student-t noise (minibatch and noise streams).
func TestDeterminismNewMethods(t *testing.T) {
	data := testenv.Dataset(t, "a1a")
	for name, alg := range map[string]string{
		"ef21-w-pp":   "method = \"ef21-w\"\ncompressor = \"top-k\"\nk = 2\nparticipation = 0.5\n[stepsize]\nrule = \"ef21-theory-am\"\n",
		"norm-ef21-w": "method = \"ef21-w\"\nnormalize = true\ncompressor = \"top-k\"\nk = 1\n[stepsize]\nrule = \"norm-theory\"\n",
		"signum-t":    "method = \"signsgd\"\nbatch = 16\neta = 0.5\n[noise]\nkind = \"student-t\"\nnu = 1.5\nscale = 0.1\n[stepsize]\nrule = \"decreasing\"\ngamma0 = 0.01\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := write(t, dir, "det.toml", "[problem]\nkind = \"logreg\"\n[data]\nsource = \"libsvm\"\npath = \""+data+
				"\"\nsplit = \"label\"\n[algorithm]\n"+alg+"[run]\niterations = 80\nranks = 4\nseed = 3\noutput = \"out.h5\"\n")
			env := childEnv()
			runCmd(t, dir, env, efmpiBin, "run", "-config", cfg, "-quiet", "-out", "inproc.h5")
			runCmd(t, dir, env, efmpiBin, "run", "-config", cfg, "-quiet", "-transport", "tcp", "-out", "tcp.h5")
			ref, err := hdf5io.Open(filepath.Join(dir, "inproc.h5"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := hdf5io.Open(filepath.Join(dir, "tcp.h5"))
			if err != nil {
				t.Fatal(err)
			}
			if ref.Rows() != 81 || ref.String("status") != "completed" || got.String("status") != "completed" {
				t.Fatalf("%d rows, status %q / %q", ref.Rows(), ref.String("status"), got.String("status"))
			}
			for col, want := range ref.Floats {
				if col != "time_s" && !bitsEqual(got.Floats[col], want) {
					t.Errorf("/trajectory/%s differs between inproc and tcp", col)
				}
			}
			for col, want := range ref.Ints {
				if !slices.Equal(got.Ints[col], want) {
					t.Errorf("/trajectory/%s differs between inproc and tcp", col)
				}
			}
			if !bitsEqual(got.XFinal, ref.XFinal) {
				t.Errorf("/x_final differs")
			}
		})
	}
}

// determinismNNConfig is ResNet-20 (batch norm: running statistics per rank,
// rank 0's broadcast at every row) on 8×8 MNIST-format images, float32.
const determinismNNConfig = `[problem]
kind = "nn"
[data]
shuffle = true
[algorithm]
method = "ef21"
normalize = true
compressor = "top-k"
k_fraction = 0.01
batch = 4
init_batch = 4
[stepsize]
rule = "constant"
gamma = 0.05
[run]
iterations = 6
ranks = 3
seed = 5
log_every = 2
threads = %THREADS%
output = "out.h5"
[nn]
model = "resnet20"
data = "mnist"
path = "%DATA%"
chunk = 8
`

// A network's trajectory has the same bits in-process on 1 thread per rank,
// over TCP with 2 and under Open MPI's mpirun with 3 (float32 ResNet-20:
// gradients split among threads, running statistics broadcast over the
// launcher's transport).
func TestDeterminismNNAcrossLaunchersAndThreads(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(3, 3))
	for _, f := range []struct {
		name string
		dims []int
	}{{"train-images-idx3-ubyte", []int{30, 8, 8}}, {"train-labels-idx1-ubyte", []int{30}},
		{"t10k-images-idx3-ubyte", []int{6, 8, 8}}, {"t10k-labels-idx1-ubyte", []int{6}}} {
		n := 1
		for _, d := range f.dims {
			n *= d
		}
		b := make([]uint8, n)
		for i := range b {
			b[i] = uint8(r.IntN(map[bool]int{true: 10, false: 256}[len(f.dims) == 1]))
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), datasets.EncodeIDX(f.dims, b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := func(threads int) string {
		s := strings.ReplaceAll(determinismNNConfig, "%DATA%", dir)
		return write(t, dir, fmt.Sprintf("nn%d.toml", threads), strings.ReplaceAll(s, "%THREADS%", fmt.Sprint(threads)))
	}
	env := childEnv()
	runs := map[string]string{}
	runCmd(t, dir, env, efmpiBin, "run", "-config", cfg(1), "-quiet", "-out", "inproc.h5")
	runCmd(t, dir, env, efmpiBin, "run", "-config", cfg(2), "-quiet", "-transport", "tcp", "-out", "tcp.h5")
	runs["tcp, 2 threads"] = "tcp.h5"
	if mpirun, err := exec.LookPath("mpirun.openmpi"); err == nil {
		runCmd(t, dir, childEnv("OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"), mpirun,
			"-np", "3", "--oversubscribe", efmpiBin, "run", "-config", cfg(3), "-quiet", "-out", "openmpi.h5")
		runs["mpirun, 3 threads"] = "openmpi.h5"
	} else {
		t.Log("mpirun.openmpi not installed: Open MPI leg skipped")
	}
	ref, err := hdf5io.Open(filepath.Join(dir, "inproc.h5"))
	if err != nil {
		t.Fatal(err)
	}
	if ref.Rows() != 4 || ref.String("status") != "completed" || ref.String("precision") != "float32" {
		t.Fatalf("in-process run: %d rows, status %q, precision %q", ref.Rows(), ref.String("status"), ref.String("precision"))
	}
	for name, file := range runs {
		got, err := hdf5io.Open(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, col := range []string{"f", "grad_norm_sq"} {
			if !bitsEqual(got.Floats[col], ref.Floats[col]) {
				t.Errorf("%s: /trajectory/%s = %v, in-process %v", name, col, got.Floats[col], ref.Floats[col])
			}
		}
		if !bitsEqual(got.XFinal, ref.XFinal) || slices.Equal(ref.X0, ref.XFinal) {
			t.Errorf("%s: /x_final differs from the in-process run (or x did not move)", name)
		}
	}
}
