package driver

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
)

// A LeNet run with normalize = "layer" end to end: the blocks are LeNet's
// ten parameter tensors, the file says normalize = "layer", and in the first
// step (x^1 = x^0 − γ g_b/‖g_b‖ per block, g^0 the uncompressed average
// gradient, which no tensor of LeNet has zero) every block moves by exactly
// γ in norm, so the whole vector moves by γ√10 (the global step: γ).
func TestNNLayerwiseLeNet(t *testing.T) {
	spec := nnSpec(t, testenv.MNISTDir(t))
	spec.NN.Model, spec.NN.Widths, spec.KFraction, spec.Batch, spec.InitBatch = "lenet", nil, 0.01, 8, 8
	spec.NN.TrainSamples, spec.NN.TestSamples, spec.NN.Chunk = 64, 32, 32
	spec.NormalizeLayer, spec.Iterations, spec.LogEvery, spec.EvalEvery = true, 1, 1, 1
	sh, err := Prepare(spec, 2)
	if err != nil {
		t.Fatal(err)
	}
	b := sh.Blocks
	if len(b) != 11 || b[0] != 0 || b[10] != sh.Dim || b[1] != 150 || b[2] != 156 {
		t.Fatalf("blocks %v (d = %d): want LeNet's 10 tensors, conv1 150 weights and 6 biases first", b, sh.Dim)
	}
	res, err := RunInproc(context.Background(), sh, Options{})
	if err != nil || res.Status != StatusCompleted {
		t.Fatalf("status %s (%s): %v", res.Status, res.Reason, err)
	}
	run, err := hdf5io.Open(spec.Output)
	if err != nil {
		t.Fatal(err)
	}
	if a := run.Attrs["normalize"]; a != "layer" {
		t.Fatalf("normalize attribute %v, want \"layer\"", a)
	}
	gamma := spec.Gamma
	total := 0.0
	for i := 0; i+1 < len(b); i++ {
		s := 0.0
		for j := b[i]; j < b[i+1]; j++ {
			dx := run.XFinal[j] - run.X0[j]
			s += dx * dx
		}
		total += s
		if n := math.Sqrt(s); math.Abs(n-gamma) > 1e-9*gamma {
			t.Errorf("block %d [%d, %d) moved by %.17g, want γ = %v", i, b[i], b[i+1], n, gamma)
		}
	}
	if n := math.Sqrt(total); math.Abs(n-gamma*math.Sqrt(10)) > 1e-9 {
		t.Errorf("x moved by %v, want γ√10 = %v", n, gamma*math.Sqrt(10))
	}
}

// normalize = "layer" on a problem without blocks is bad input.
func TestLayerwiseNeedsBlocks(t *testing.T) {
	spec := baseSpec(t)
	spec.Method, spec.Normalize, spec.NormalizeLayer, spec.Rule = algorithms.EF21, true, true, algorithms.RuleNormTheory
	_, err := Prepare(spec, 2)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("err %v, want ErrInvalid", err)
	}
}
