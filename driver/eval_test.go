package driver

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
)

// A held-out test fraction: /eval has a row at every multiple of
// eval_every and at the last iteration; the last row's numbers equal the
// logistic loss and accuracy of /x_final computed here, sample by sample,
// on the held-out rows and on the training rows; the training shards hold
// exactly the samples that are not held out.
func TestEvalTestFraction(t *testing.T) {
	spec := baseSpec(t)
	spec.Source, spec.DataPath, spec.Features = "libsvm", testenv.Dataset(t, "breast-cancer_scale"), 0
	spec.Method, spec.Normalize, spec.Rule, spec.Gamma0, spec.K = "ef21", true, "norm-theory", 1, 2
	spec.TestFraction, spec.EvalEvery, spec.LogEvery, spec.Iterations = 0.25, 20, 10, 95
	sh, err := Prepare(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := RunInproc(context.Background(), sh, Options{}); err != nil {
		t.Fatal(err)
	}
	run, err := hdf5io.Open(spec.Output)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{0, 20, 40, 60, 80, 95}; !slices.Equal(run.EvalIteration, want) {
		t.Fatalf("eval iterations %v, want %v", run.EvalIteration, want)
	}
	full, err := datasets.ReadLIBSVM(spec.DataPath, datasets.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := full.Rows()
	nTest := int(math.Round(0.25 * float64(m)))
	var shardTotal int64
	for _, s := range run.ShardSizes {
		shardTotal += s
	}
	if run.Attrs["test_samples"] != int64(nTest) || shardTotal != int64(m-nTest) {
		t.Fatalf("test_samples %v, shards %d, of %d", run.Attrs["test_samples"], shardTotal, m)
	}
	// score x_final naively on both sides of the split
	score := func(ds *datasets.Dataset) (float64, float64) {
		dm := ds.Sparse.ToDense()
		var loss float64
		correct := 0
		for j := range ds.Rows() {
			z := 0.0
			for c, v := range dm.Row(j) {
				z += v * run.XFinal[c]
			}
			loss += math.Log1p(math.Exp(-ds.Labels[j] * z))
			if ds.Labels[j]*z > 0 {
				correct++
			}
		}
		return loss / float64(ds.Rows()), float64(correct) / float64(ds.Rows())
	}
	train, test, _ := datasets.HoldOut(full, 0.25, spec.Seed)
	last := len(run.EvalIteration) - 1
	for _, c := range []struct {
		name string
		ds   *datasets.Dataset
	}{{"train", train}, {"test", test}} {
		loss, acc := score(c.ds)
		gotL, gotA := run.Eval[c.name+"_loss"][last], run.Eval[c.name+"_accuracy"][last]
		if math.Abs(gotL-loss) > 1e-12*loss || gotA != acc {
			t.Errorf("%s: file %v %v, x_final scores %v %v", c.name, gotL, gotA, loss, acc)
		}
	}
	if acc := run.Eval["test_accuracy"]; acc[last] < 0.9 || acc[last] <= acc[0] {
		t.Errorf("test accuracy %v: breast-cancer should be learnt", acc)
	}
}

// A crash after a checkpoint leaves /eval rows past it (they are flushed at
// once); resuming cuts them like the trajectory's, and the resumed file's
// /eval equals the uninterrupted run's bit for bit.
func TestEvalResumeAfterCrash(t *testing.T) {
	spec := baseSpec(t)
	spec.Iterations, spec.CheckpointEvery, spec.FlushEvery = 200, 40, 7
	spec.TestFraction, spec.EvalEvery, spec.LogEvery = 0.2, 10, 5
	orig := spec.Output
	crash := filepath.Join(t.TempDir(), "crash.h5")
	copied := -1
	sh, err := Prepare(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunInproc(context.Background(), sh, Options{ProgressEvery: 1, Progress: func(p Progress) {
		if p.Iteration >= 100 && copied < 0 {
			copied = p.Iteration
			copyFile(t, spec.Output, crash)
			os.MkdirAll(CheckpointDir(crash), 0o755)
			entries, _ := os.ReadDir(CheckpointDir(spec.Output))
			for _, e := range entries {
				copyFile(t, filepath.Join(CheckpointDir(spec.Output), e.Name()), filepath.Join(CheckpointDir(crash), e.Name()))
			}
		}
	}})
	if err != nil || res.Status != StatusCompleted {
		t.Fatal(res.Status, err)
	}
	before, _ := hdf5io.Open(crash)
	if last := before.EvalIteration[len(before.EvalIteration)-1]; last <= 80 {
		t.Fatalf("crash copy's last evaluation at %d: the test needs some past checkpoint 80", last)
	}
	spec.Output, spec.Resume = crash, true
	runSpec(t, context.Background(), spec, StatusCompleted)
	got, _ := hdf5io.Open(crash)
	want, _ := hdf5io.Open(orig)
	if !slices.Equal(got.EvalIteration, want.EvalIteration) {
		t.Fatalf("eval iterations %v, want %v", got.EvalIteration, want.EvalIteration)
	}
	for name, w := range want.Eval {
		for i := range w {
			if !sameBits(got.Eval[name][i], w[i]) {
				t.Errorf("%s[%d] = %v, want %v", name, i, got.Eval[name][i], w[i])
			}
		}
	}
}
