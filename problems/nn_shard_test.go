package problems

import (
	"math"
	"testing"

	"github.com/efmpi/efmpi/nn"
)

// ShardGrad is the training pass of the authors' initial round: for
// ResNet-20 it equals the chunks' minibatch gradients (training mode, batch
// statistics) weighted n_c/m, computed one by one on a second objective, and
// leaves the same running statistics; for the mlp (no batch norm) it is Grad.
func TestNNShardGradIsTheWeightedChunkGradients(t *testing.T) {
	o, x, _ := tinyNN(t, nn.ModelResNet20, 4)
	ref, _, _ := tinyNN(t, nn.ModelResNet20, 4)
	d := o.Dim()
	got := make([]float64, d)
	o.ShardGrad(got, x)
	want, g := make([]float64, d), make([]float64, d)
	for lo := 0; lo < 10; lo += 4 {
		hi := min(lo+4, 10)
		batch := make([]int32, 0, 4)
		for i := lo; i < hi; i++ {
			batch = append(batch, int32(i))
		}
		ref.MinibatchGrad(g, x, batch)
		for j := range want {
			want[j] += float64(hi-lo) / 10 * g[j]
		}
	}
	worst := 0.0
	for j := range want {
		worst = max(worst, math.Abs(got[j]-want[j])/(1e-12+math.Abs(want[j])))
	}
	if worst > 1e-12 {
		t.Errorf("ShardGrad differs from the weighted chunk gradients: worst relative error %g", worst)
	}
	if len(o.Stats()) == 0 {
		t.Fatal("resnet20 has no running statistics")
	}
	for j, v := range o.Stats() {
		if v != ref.Stats()[j] {
			t.Fatalf("running statistic %d: %v after ShardGrad, %v after the chunks", j, v, ref.Stats()[j])
		}
	}
	m, xm, _ := tinyNN(t, nn.ModelMLP, 4)
	a, b := make([]float64, m.Dim()), make([]float64, m.Dim())
	m.ShardGrad(a, xm)
	m.Grad(b, xm)
	for j := range a {
		if math.Abs(a[j]-b[j]) > 1e-15*(1+math.Abs(b[j])) {
			t.Fatalf("mlp: ShardGrad[%d] = %v, Grad %v", j, a[j], b[j])
		}
	}
}
