package datasets

import (
	"math"
	"slices"
	"testing"
)

// HoldOut partitions the samples: round(fraction·m) test samples, the rest
// for training in file order, the same for the same seed.
func TestHoldOut(t *testing.T) {
	ds := tagged(101)
	train, test, err := HoldOut(ds, 0.2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if test.Rows() != int(math.Round(0.2*101)) || train.Rows()+test.Rows() != 101 {
		t.Fatalf("%d train, %d test", train.Rows(), test.Rows())
	}
	tr, te := origins(t, train), origins(t, test)
	all := append(slices.Clone(tr), te...)
	slices.Sort(all)
	for i, o := range all {
		if o != i {
			t.Fatalf("not a partition: %v", all)
		}
	}
	if !slices.IsSorted(tr) || !slices.IsSorted(te) {
		t.Error("rows not in file order")
	}
	for k, o := range te {
		if test.Labels[k] != ds.Labels[o] {
			t.Errorf("test row %d has label %v, sample %d has %v", k, test.Labels[k], o, ds.Labels[o])
		}
	}
	_, again, _ := HoldOut(ds, 0.2, 3)
	_, other, _ := HoldOut(ds, 0.2, 4)
	if !slices.Equal(origins(t, again), te) || slices.Equal(origins(t, other), te) {
		t.Error("hold-out not determined by the seed")
	}
	for _, f := range []float64{0, 1, -0.1, 0.001} {
		if _, _, err := HoldOut(ds, f, 1); err == nil {
			t.Errorf("fraction %v accepted", f)
		}
	}
}
