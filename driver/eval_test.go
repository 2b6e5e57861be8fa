package driver

import (
	"context"
	"math"
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
