package driver

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/hdf5io"
)

// writeTinyMNIST writes MNIST-format files of 8×8 images (60 training, 20
// test) with random pixels and labels into a new folder.
func writeTinyMNIST(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	write := func(name string, dims []int) {
		n := 1
		for _, d := range dims {
			n *= d
		}
		b := make([]uint8, n)
		for i := range b {
			if len(dims) == 1 {
				b[i] = uint8(r.IntN(10))
			} else {
				b[i] = uint8(r.IntN(256))
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), datasets.EncodeIDX(dims, b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("train-images-idx3-ubyte", []int{60, 8, 8})
	write("train-labels-idx1-ubyte", []int{60})
	write("t10k-images-idx3-ubyte", []int{20, 8, 8})
	write("t10k-labels-idx1-ubyte", []int{20})
	return dir
}

func tinyNNSpec(t *testing.T, dir string) Spec {
	spec := nnSpec(t, dir)
	spec.NN = NNSpec{Model: "mlp", Widths: []int{8}, Data: "mnist", Path: dir, Chunk: 16}
	spec.Batch, spec.InitBatch, spec.Iterations, spec.LogEvery, spec.EvalEvery = 8, 8, 40, 5, 10
	return spec
}

// flipPixel changes one byte of a test image in dir's MNIST files.
func flipPixel(t *testing.T, dir string) {
	t.Helper()
	p := filepath.Join(dir, "t10k-images-idx3-ubyte")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A network's data has a print (what ranks agree on and checkpoints
// record) that covers the training and the test images, and PrepareRank —
// one rank per process under a launcher — prepares the same job as Prepare.
func TestNNDataPrintAndPrepareRank(t *testing.T) {
	dir := writeTinyMNIST(t)
	spec := tinyNNSpec(t, dir)
	all, err := Prepare(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	if p := all.Data; p.Rows != 60 || p.Cols != 64 || p.NNZ != 80*64 || p == (DataPrint{Rows: 60, Cols: 64, NNZ: 80 * 64}) {
		t.Fatalf("data print %+v: want 60 images × 64 values, 80·64 pixels and a hash", p)
	}
	var counts int64
	for _, c := range all.LabelCounts {
		for _, v := range c {
			counts += v
		}
	}
	if len(all.Classes) != 10 || len(all.LabelCounts) != 3 || counts != 60 {
		t.Fatalf("classes %v, label counts %v: want 10 classes and 60 images over 3 ranks", all.Classes, all.LabelCounts)
	}
	for _, eval := range []int{0, 10} {
		spec.EvalEvery = eval
		for r := range 3 {
			one, err := PrepareRank(spec, 3, r)
			if err != nil {
				t.Fatal(err)
			}
			if one.Data != all.Data || one.Dim != all.Dim || !slices.Equal(one.X0, all.X0) ||
				!slices.Equal(one.ShardSizes, all.ShardSizes) || one.Spec.K != all.Spec.K || one.Schedule != all.Schedule {
				t.Fatalf("eval_every %d, rank %d: PrepareRank differs from Prepare", eval, r)
			}
			obj, err := one.Objective(r)
			if err != nil {
				t.Fatal(err)
			}
			if obj.Samples() != int(all.ShardSizes[r]) {
				t.Fatalf("rank %d: %d samples, want %d", r, obj.Samples(), all.ShardSizes[r])
			}
		}
	}
	// the test images are part of the print
	flipPixel(t, dir)
	changed, err := Prepare(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	if changed.Data == all.Data || changed.Data.Rows != all.Data.Rows {
		t.Fatalf("one changed test pixel: print %v, before %v", changed.Data, all.Data)
	}
}

// A network run writes /eval every eval_every iterations, and -resume
// refuses image files that changed since the checkpoint.
func TestNNEvalEveryAndResumeRefusesChangedImages(t *testing.T) {
	dir := writeTinyMNIST(t)
	spec := tinyNNSpec(t, dir)
	spec.CheckpointEvery = 10
	sh, err := Prepare(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := RunInproc(ctx, sh, Options{ProgressEvery: 1, Progress: func(p Progress) {
		if p.Iteration >= 25 {
			cancel()
		}
	}})
	if err != nil || res.Status != StatusInterrupted {
		t.Fatalf("status %s (%s), %v: want interrupted", res.Status, res.Reason, err)
	}
	run, err := hdf5io.Open(spec.Output)
	if err != nil {
		t.Fatal(err)
	}
	last := run.EvalIteration[len(run.EvalIteration)-1]
	if !slices.Equal(run.EvalIteration[:3], []int64{0, 10, 20}) || last < 20 {
		t.Fatalf("/eval iterations %v: want 0, 10, 20 (eval_every 10) and the stopping row", run.EvalIteration)
	}
	flipPixel(t, dir)
	spec.Resume = true
	sh, err = Prepare(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	_, err = RunInproc(context.Background(), sh, Options{})
	if err == nil || !strings.Contains(err.Error(), "different configuration, number of ranks, x0 or data") {
		t.Fatalf("resume with a changed test image: %v, want a refusal naming the data", err)
	}
}

// A ResNet-20 run (batch norm: every rank's running statistics move with its
// minibatches, the metric rows score with rank 0's) interrupted between
// checkpoints and resumed ends bit for bit like the uninterrupted run: the
// running statistics travel in the checkpoint (f and ‖∇f‖² of the rows after
// the resume depend on them). With bn_eval = "batch" the rows differ from
// those in eval mode (the running statistics are really used).
func TestNNResumeBitwiseWithRunningStats(t *testing.T) {
	spec := tinyNNSpec(t, writeTinyMNIST(t))
	spec.NN.Model, spec.NN.Widths = "resnet20", nil
	spec.Iterations, spec.LogEvery, spec.EvalEvery, spec.CheckpointEvery = 12, 3, 3, 4
	spec.Batch, spec.InitBatch = 4, 4
	spec.NN.TrainSamples, spec.NN.TestSamples = 30, 8
	ref := spec
	ref.Output = filepath.Join(t.TempDir(), "ref.h5")
	ref.CheckpointEvery = 0
	runSpec(t, context.Background(), ref, StatusCompleted)

	ctx, cancel := context.WithCancel(context.Background())
	sh, err := Prepare(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunInproc(ctx, sh, Options{ProgressEvery: 1, Progress: func(p Progress) {
		if p.Iteration >= 5 {
			cancel()
		}
	}})
	cancel()
	if err != nil || res.Status != StatusInterrupted || res.Iterations%4 == 0 {
		t.Fatalf("first leg: %s (%s) at %d, %v: want interrupted between checkpoints", res.Status, res.Reason, res.Iterations, err)
	}
	spec.Resume = true
	runSpec(t, context.Background(), spec, StatusCompleted)
	sameRun(t, spec.Output, ref.Output)

	batch := ref
	batch.Output = filepath.Join(t.TempDir(), "batch.h5")
	batch.NN.BNEval = "batch"
	runSpec(t, context.Background(), batch, StatusCompleted)
	a, b := runFile0(t, ref.Output), runFile0(t, batch.Output)
	if !slices.Equal(a.XFinal, b.XFinal) {
		t.Fatal("bn_eval changed the trajectory of x (it must only change the metrics)")
	}
	for i := 1; i < len(a.Floats["f"]); i++ { // row 0: running statistics still 0 and 1
		if a.Floats["f"][i] == b.Floats["f"][i] {
			t.Fatalf("row %d: f = %v with running and with batch statistics", i, a.Floats["f"][i])
		}
	}
}

func runFile0(t *testing.T, path string) *hdf5io.Run {
	t.Helper()
	run, err := hdf5io.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return run
}
