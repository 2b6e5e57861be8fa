package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
)

const nnSmall = `[problem]
kind = "nn"
[data]
shuffle = true
[algorithm]
method = "ef21-sgdm"
normalize = true
compressor = "top-k"
k_fraction = 0.02
batch = 16
eta = 0.2
[stepsize]
rule = "constant"
gamma = 0.05
[run]
iterations = 20
ranks = 3
seed = 5
log_every = 10
output = "out.h5"
[nn]
model = "mlp"
widths = [16]
path = "%DATA%"
train_samples = 300
test_samples = 100
chunk = 64
`

// A network run gives the same bits in-process, over self-spawned TCP ranks
// and under Open MPI's mpirun: trajectory, /eval and x_final.
func TestNNDeterminismAcrossTransports(t *testing.T) {
	dir := t.TempDir()
	cfg := write(t, dir, "nn.toml", strings.ReplaceAll(nnSmall, "%DATA%", testenv.MNISTDir(t)))
	env := childEnv()
	runCmd(t, dir, env, efmpiBin, "run", "-config", cfg, "-quiet", "-out", "inproc.h5")
	runCmd(t, dir, env, efmpiBin, "run", "-config", cfg, "-quiet", "-transport", "tcp", "-out", "tcp.h5")
	files := []string{"tcp.h5"}
	if mpirun, err := exec.LookPath("mpirun.openmpi"); err == nil {
		runCmd(t, dir, childEnv("OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"), mpirun,
			"-np", "3", "--oversubscribe", efmpiBin, "run", "-config", cfg, "-quiet", "-out", "openmpi.h5")
		files = append(files, "openmpi.h5")
	}
	ref, err := hdf5io.Open(filepath.Join(dir, "inproc.h5"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ref.EvalIteration) != 3 {
		t.Fatalf("/eval: %d rows, want 3 (eval_every = log_every)", len(ref.EvalIteration))
	}
	// inspect shows the last evaluation (no training accuracy for a network)
	if code, out, _ := efmpi(t, dir, "inspect", "inproc.h5"); code != 0 || !strings.Contains(out, "train –") ||
		!strings.Contains(out, fmt.Sprintf("test %.4f", ref.Eval["test_accuracy"][2])) {
		t.Errorf("inspect: exit %d, output lacks the test accuracy:\n%s", code, out)
	}
	for _, f := range files {
		got, err := hdf5io.Open(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.EvalIteration, ref.EvalIteration) {
			t.Fatalf("%s: /eval iterations %v, want %v", f, got.EvalIteration, ref.EvalIteration)
		}
		for _, name := range []string{"train_loss", "test_loss", "test_accuracy"} {
			if !bitsEqual(got.Eval[name], ref.Eval[name]) {
				t.Errorf("%s: /eval/%s %v differs from the in-process run's %v", f, name, got.Eval[name], ref.Eval[name])
			}
		}
		if !bitsEqual(got.XFinal, ref.XFinal) || !bitsEqual(got.Floats["f"], ref.Floats["f"]) || !bitsEqual(got.Floats["grad_norm_sq"], ref.Floats["grad_norm_sq"]) {
			t.Errorf("%s: x_final or f differs from the in-process run", f)
		}
	}
	if d := 784*16 + 16 + 16*10 + 10; len(ref.XFinal) != d {
		t.Fatalf("d = %d, want %d", len(ref.XFinal), d)
	}
}

// Missing or corrupt image files are bad input: exit 2, naming the file.
func TestNNBadDataExitCode(t *testing.T) {
	dir := t.TempDir()
	cfg := write(t, dir, "nn.toml", strings.ReplaceAll(nnSmall, "%DATA%", filepath.Join(dir, "none")))
	code, _, stderr := efmpi(t, dir, "run", "-config", cfg, "-quiet")
	if code != ExitBadInput || !strings.Contains(stderr, "train-images-idx3-ubyte") {
		t.Fatalf("missing MNIST: exit %d, stderr %q", code, stderr)
	}
	if err := os.MkdirAll(filepath.Join(dir, "bad"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "bad/train-images-idx3-ubyte", "not an idx file")
	write(t, dir, "bad/train-labels-idx1-ubyte", "x")
	write(t, dir, "bad/t10k-images-idx3-ubyte", "x")
	write(t, dir, "bad/t10k-labels-idx1-ubyte", "x")
	cfg = write(t, dir, "nn2.toml", strings.ReplaceAll(nnSmall, "%DATA%", filepath.Join(dir, "bad")))
	code, _, stderr = efmpi(t, dir, "run", "-config", cfg, "-quiet")
	if code != ExitBadInput || !strings.Contains(stderr, filepath.Join(dir, "bad", "train-images-idx3-ubyte")) {
		t.Fatalf("corrupt MNIST: exit %d, stderr %q", code, stderr)
	}
}
