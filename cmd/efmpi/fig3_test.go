package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
)

// writeCIFAR writes a CIFAR-10 folder of n training images per batch and nt
// test images (label (i+b) mod 10, pixel j of image i of batch b
// (11i + 3j + 7b) mod 256) in the binary or the python format.
func writeCIFAR(t *testing.T, dir string, python bool, n, nt int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for b := range 6 {
		name, count := fmt.Sprintf("data_batch_%d", b+1), n
		if b == 5 {
			name, count = "test_batch", nt
		}
		labels, pixels := make([]uint8, count), make([]uint8, count*3072)
		for i := range count {
			labels[i] = uint8((i + b) % 10)
			for j := range 3072 {
				pixels[i*3072+j] = uint8((11*i + 3*j + 7*b) % 256)
			}
		}
		var buf bytes.Buffer
		if python {
			datasets.EncodeCIFAR10Python(&buf, labels, pixels)
		} else {
			datasets.EncodeCIFAR10(&buf, labels, pixels)
			name += ".bin"
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The shipped Figure-3 configs run 20 iterations on generated CIFAR-10 data
// (5 × 40 training images, with minibatches of 32 instead of 128 so that the
// test takes about a minute) in the binary and the python format: the two formats give the same bits, the
// file records the protocol (input unit, the initial round over the shard,
// k = 2 700 of d = 269 722), and every rank sent k values per iteration.
func TestFig3Configs(t *testing.T) {
	if testing.Short() {
		t.Skip("ResNet-20, 2 × 2 runs of 20 iterations with 5 ranks")
	}
	dir := t.TempDir()
	writeCIFAR(t, filepath.Join(dir, "bin"), false, 40, 20)
	writeCIFAR(t, filepath.Join(dir, "py"), true, 40, 20)
	for _, method := range []string{"norm", "ef21"} {
		cfg := filepath.Join(testenv.RepoRoot(), "configs", "nn", "fig3_resnet20_cifar10_"+method+".toml")
		var ref *hdf5io.Run
		for _, format := range []string{"bin", "py"} {
			out := filepath.Join(dir, method+"-"+format+".h5")
			runCmd(t, dir, childEnv(), efmpiBin, "run", "-config", cfg, "-quiet", "-out", out,
				"-set", "nn.path="+filepath.Join(dir, format), "-set", "run.iterations=20", "-set", "algorithm.batch=32",
				"-set", "run.log_every=10", "-set", "run.eval_every=10")
			f, err := hdf5io.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.XFinal) != 269722 || f.Attrs["input"] != "unit" || f.Attrs["init"] != "shard" {
				t.Fatalf("%s: d = %d, input %v, init %v", out, len(f.XFinal), f.Attrs["input"], f.Attrs["init"])
			}
			it := f.Ints["iteration"]
			if it[len(it)-1] != 20 || len(f.EvalIteration) != 3 {
				t.Fatalf("%s: last row %d, %d evaluations", out, it[len(it)-1], len(f.EvalIteration))
			}
			for _, v := range f.Eval["test_loss"] {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("%s: test loss %v", out, f.Eval["test_loss"])
				}
			}
			if ref == nil {
				ref = f
			} else if !bitsEqual(f.XFinal, ref.XFinal) || !bitsEqual(f.Floats["f"], ref.Floats["f"]) {
				t.Errorf("%s: the python format's run differs from the binary format's", method)
			}
		}
	}
}

// scripts/x_to_torch.py loads a LeNet run's /x_final into PyTorch (float64)
// and scores the same 200 MNIST test images in the same chunks: its test
// loss and accuracy match efmpi's last /eval row (efmpi's network computes
// in float32: 1e-5 relative). The run uses input = "unit" and init_batch = 0.
// Skipped without PyTorch (apt-get install python3-torch).
func TestXToTorchMatchesEval(t *testing.T) {
	py := testenv.PythonWithH5py(t)
	if exec.Command(py, "-c", "import torch").Run() != nil {
		t.Skip("no PyTorch (python3-torch)")
	}
	dir, mnist := t.TempDir(), testenv.MNISTDir(t)
	cfg := filepath.Join(testenv.RepoRoot(), "configs", "nn", "lenet_mnist.toml")
	out := filepath.Join(dir, "lenet.h5")
	runCmd(t, dir, childEnv(), efmpiBin, "run", "-config", cfg, "-quiet", "-out", out, "-set", "nn.path="+mnist,
		"-set", "nn.train_samples=500", "-set", "nn.test_samples=200", "-set", "run.iterations=4", "-set", "run.log_every=2",
		"-set", "algorithm.batch=32", "-set", "algorithm.init_batch=0", "-set", "nn.input=unit", "-set", "nn.chunk=64")
	f, err := hdf5io.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	n := len(f.EvalIteration)
	loss, acc := f.Eval["test_loss"][n-1], f.Eval["test_accuracy"][n-1]
	got, err := exec.Command(py, filepath.Join(testenv.RepoRoot(), "scripts", "x_to_torch.py"), out,
		"--eval", mnist, "--test-samples", "200").CombinedOutput()
	if err != nil {
		t.Fatalf("x_to_torch.py: %v\n%s", err, got)
	}
	var tl, ta float64
	if _, err := fmt.Sscanf(string(got), "test_loss %g test_accuracy %g", &tl, &ta); err != nil {
		t.Fatalf("x_to_torch.py printed %q", got)
	}
	if math.Abs(tl-loss) > 1e-5*loss || ta != acc {
		t.Errorf("PyTorch: test loss %.9g accuracy %v; efmpi: %.9g, %v", tl, ta, loss, acc)
	}
}
