package driver

import (
	"math"
	"slices"
	"testing"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/problems"
)

// Minibatches are drawn without replacement: every batch holds b distinct
// samples of the shard, and a batch of the shard's size is the full
// gradient (up to the order of the sum), checked against Grad.
func TestMinibatchWithoutReplacement(t *testing.T) {
	const m, d = 37, 6
	ds, err := datasets.Synthetic(m, d, 5)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := problems.NewLogReg(ds, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	o := newOracle(obj, true, 9, 2, algorithms.Noise{})
	x := make([]float64, d)
	for j := range x {
		x[j] = math.Sin(float64(j + 1))
	}
	g := make([]float64, d)
	for range 50 {
		o.grad(g, x, 11)
		batch := slices.Clone(o.perm[:11])
		slices.Sort(batch)
		if len(slices.Compact(batch)) != 11 || batch[0] < 0 || batch[len(batch)-1] >= m {
			t.Fatalf("batch %v: not 11 distinct samples of %d", o.perm[:11], m)
		}
	}
	full := make([]float64, d)
	obj.Grad(full, x)
	for range 3 {
		o.grad(g, x, m)
		for j := range g {
			if math.Abs(g[j]-full[j]) > 1e-14*(1+math.Abs(full[j])) {
				t.Fatalf("batch = shard size: g[%d] = %v, full gradient %v", j, g[j], full[j])
			}
		}
	}
}
