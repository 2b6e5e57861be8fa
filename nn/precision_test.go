package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// relErr is ‖a − b‖/‖b‖.
func relErr[A, B Float](a []A, b []B) float64 {
	num, den := 0.0, 0.0
	for i := range b {
		d := float64(a[i]) - float64(b[i])
		num += d * d
		den += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(num / den)
}

func to32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func to64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// Every layer's float32 forward and backward pass agrees with its float64
// version on the same (float32-representable) parameters, inputs and output
// gradients, to float32 rounding (relative error ≤ 1e-5 in norm), on 1 and 3
// threads; batch norm in the modes Train and Eval.
func TestLayersFloat32MatchFloat64(t *testing.T) {
	type pair struct {
		name   string
		l32    Layer[float32]
		l64    Layer[float64]
		in     Shape
		n      int
		mode   Mode
		scale  float64 // of the parameter perturbation
		biased bool
	}
	cases := []pair{
		{"dense", NewDense[float32](5), NewDense[float64](5), Shape{7, 1, 1}, 3, Train, 0.3, false},
		{"relu", &ReLU[float32]{}, &ReLU[float64]{}, Shape{3, 4, 4}, 2, Train, 0, false},
		{"conv3x3", NewConv2d[float32](4, 3, 1, 1, true), NewConv2d[float64](4, 3, 1, 1, true), Shape{3, 6, 5}, 5, Train, 0.3, false},
		{"conv5x5", NewConv2d[float32](6, 5, 1, 2, true), NewConv2d[float64](6, 5, 1, 2, true), Shape{1, 12, 12}, 4, Train, 0.3, false},
		{"conv-stride2", NewConv2d[float32](3, 3, 2, 1, false), NewConv2d[float64](3, 3, 2, 1, false), Shape{2, 7, 6}, 3, Train, 0.3, false},
		{"maxpool", NewMaxPool2d[float32](2), NewMaxPool2d[float64](2), Shape{2, 5, 4}, 3, Train, 0, false},
		{"avgpool", &GlobalAvgPool[float32]{}, &GlobalAvgPool[float64]{}, Shape{3, 3, 4}, 2, Train, 0, false},
		{"batchnorm", &BatchNorm2d[float32]{}, &BatchNorm2d[float64]{}, Shape{3, 3, 2}, 4, Train, 0.3, false},
		{"batchnorm-relu", NewBatchNormReLU[float32](), NewBatchNormReLU[float64](), Shape{3, 5, 2}, 4, Train, 0.3, false},
		{"batchnorm-eval", &BatchNorm2d[float32]{}, &BatchNorm2d[float64]{}, Shape{3, 3, 2}, 4, Eval, 0.3, false},
		{"block-identity", NewBasicBlock[float32](4, 1), NewBasicBlock[float64](4, 1), Shape{4, 4, 4}, 3, Train, 0.3, false},
		{"block-optionA", NewBasicBlock[float32](8, 2), NewBasicBlock[float64](8, 2), Shape{4, 6, 6}, 3, Train, 0.3, false},
	}
	for _, threads := range []int{1, 3} {
		for _, c := range cases {
			r := rand.New(rand.NewPCG(11, uint64(len(c.name))))
			e32, e64 := newEnv[float32](threads), newEnv[float64](1)
			e32.mode, e64.mode = c.mode, c.mode
			out, err := c.l32.Build(c.in, c.n, e32)
			if err != nil {
				t.Fatal(err)
			}
			c.l64.Build(c.in, c.n, e64)
			p := make([]float64, c.l64.NumParams())
			c.l64.Init(p, r)
			for i := range p {
				p[i] = float64(float32(p[i] + c.scale*r.NormFloat64()))
			}
			for _, bn := range e64.bns { // running statistics away from 0 and 1
				for i := range bn.run {
					bn.run[i] = 0.5 + r.Float64()
				}
			}
			for i, bn := range e32.bns {
				copy(bn.run, e64.bns[i].run)
			}
			x := to64(to32(randVec(c.n*c.in.Size(), r)))
			dy := to64(to32(randVec(c.n*out.Size(), r)))
			y64, dp64, dx64 := make([]float64, len(dy)), make([]float64, len(p)), make([]float64, len(x))
			c.l64.Forward(p, x, y64, c.n)
			c.l64.Backward(p, x, y64, dy, dp64, dx64, c.n)
			p32, x32, dy32 := to32(p), to32(x), to32(dy)
			y32, dp32, dx32 := make([]float32, len(dy)), make([]float32, len(p)), make([]float32, len(x))
			c.l32.Forward(p32, x32, y32, c.n)
			c.l32.Backward(p32, x32, y32, dy32, dp32, dx32, c.n)
			for _, v := range []struct {
				what string
				e    float64
			}{{"y", relErr(y32, y64)}, {"dp", relErr(dp32, dp64)}, {"dx", relErr(dx32, dx64)}} {
				if v.e > 1e-5 || math.IsNaN(v.e) && len(p) > 0 {
					t.Errorf("%s, %d threads: %s relative error %.3g between float32 and float64", c.name, threads, v.what, v.e)
				}
			}
			for i, bn := range e32.bns { // running statistics: the same update
				if e := relErr(bn.run, e64.bns[i].run); e > 1e-6 {
					t.Errorf("%s: running statistics differ by %.3g", c.name, e)
				}
			}
			e32.pool.Close()
		}
	}
}

// gradBits returns the float32 gradient of model on a fixed batch, with the
// given threads and im2col budget.
func gradBits(t *testing.T, model string, in Shape, nb, threads, budget int) []float32 {
	t.Helper()
	layers, err := modelLayers[float32](model, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv[float32](threads)
	e.colBudget = budget
	net, err := newNet(e, in, 10, nb, layers...)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	r := rand.New(rand.NewPCG(5, 6))
	p64 := make([]float64, net.Dim())
	net.Init(p64, r)
	copy(net.Input(), randVec(nb*in.Size(), r))
	labels := make([]int32, nb)
	for i := range labels {
		labels[i] = int32(r.IntN(10))
	}
	p, g := to32(p64), make([]float32, len(p64))
	net.LossGrad(p, g, labels, nb)
	net.LossGrad(p, g, labels, nb) // twice: the running statistics moved, the gradient must not
	return g
}

// The float32 gradient has the same bits on 1, 2 and 3 threads and whatever
// the convolutions' chunk of images (budget 1: one image per GEMM; huge: the
// whole batch).
func TestGradientBitsIndependentOfThreadsAndChunks(t *testing.T) {
	for _, tc := range []struct {
		model string
		in    Shape
		nb    int
	}{{ModelLeNet, Shape{1, 28, 28}, 7}, {ModelResNet20, Shape{3, 8, 8}, 5}} {
		want := gradBits(t, tc.model, tc.in, tc.nb, 1, colBudget)
		for _, v := range [][2]int{{2, colBudget}, {3, colBudget}, {1, 1}, {2, 1}, {3, 1 << 30}, {1, 1 << 30}} {
			got := gradBits(t, tc.model, tc.in, tc.nb, v[0], v[1])
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s, %d threads, budget %d: gradient[%d] = %v, %v on 1 thread", tc.model, v[0], v[1], i, got[i], want[i])
				}
			}
		}
	}
}

// A training step of the float32 network (Load, LossGrad, Grad) allocates
// nothing, on 1 and 2 threads.
func TestFloat32StepDoesNotAllocate(t *testing.T) {
	for _, threads := range []int{1, 2} {
		for _, tc := range []struct {
			model string
			in    Shape
			w     []int
		}{{ModelMLP, Shape{1, 28, 28}, []int{30}}, {ModelLeNet, Shape{1, 28, 28}, nil}, {ModelResNet20, Shape{3, 8, 8}, nil}} {
			net, err := New(tc.model, Float32, tc.in, 10, 8, tc.w, threads)
			if err != nil {
				t.Fatal(err)
			}
			x := make([]float64, net.Dim())
			net.Init(x, rand.New(rand.NewPCG(1, 1)))
			g := make([]float64, len(x))
			labels := make([]int32, 8)
			if a := testing.AllocsPerRun(2, func() { net.Load(x); net.LossGrad(labels, 8); net.Grad(g) }); a != 0 {
				t.Errorf("%s, %d threads: a step allocates %v times", tc.model, threads, a)
			}
			net.Close()
		}
	}
}

// The float32 gradient's relative error ‖g32 − g64‖/‖g64‖ against float64 on
// the same weights and batch, for LeNet-5 (batch 32, 1×28×28) and ResNet-20
// (batch 16, 3×32×32), at Kaiming initialisation and after 60 steps of
// gradient descent (γ = 0.05, in float32) on a fixed batch of 64 images with
// random labels, which the nets begin to memorise. The README quotes the
// logged numbers.
func TestFloat32GradientError(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two networks")
	}
	for _, tc := range []struct {
		model string
		in    Shape
		nb    int
	}{{ModelLeNet, Shape{1, 28, 28}, 32}, {ModelResNet20, Shape{3, 32, 32}, 16}} {
		const train = 64
		n32, err := NewOf[float32](tc.model, tc.in, 10, train, nil, 2)
		if err != nil {
			t.Fatal(err)
		}
		n64, _ := NewOf[float64](tc.model, tc.in, 10, tc.nb, nil, 1)
		r := rand.New(rand.NewPCG(21, 22))
		x := make([]float64, n32.Dim())
		n32.Init(x, r)
		data := randVec(train*tc.in.Size(), r)
		labels := make([]int32, train)
		for i := range labels {
			labels[i] = int32(r.IntN(10))
		}
		measure := func(when string) float64 {
			p32, g32 := to32(x), make([]float32, len(x))
			p64, g64 := to64(p32), make([]float64, len(x))
			copy(n32.Input(), data[:tc.nb*tc.in.Size()])
			copy(n64.Input(), data[:tc.nb*tc.in.Size()])
			l32, _ := n32.LossGrad(p32, g32, labels, tc.nb)
			l64, _ := n64.LossGrad(p64, g64, labels, tc.nb)
			e := relErr(g32, g64)
			t.Logf("%s %s: loss %.6f (float64 %.6f), gradient relative error %.2e, ‖g‖ = %.3g", tc.model, when, l32, l64, e, math.Sqrt(dot(g64, g64)))
			if !(e < 3e-3) {
				t.Errorf("%s %s: float32 gradient relative error %.3g", tc.model, when, e)
			}
			return l64
		}
		l0 := measure("at initialisation")
		copy(n32.Input(), data)
		p, g := make([]float32, len(x)), make([]float32, len(x))
		for range 60 {
			for i, v := range x {
				p[i] = float32(v)
			}
			n32.LossGrad(p, g, labels, train)
			for i := range x {
				x[i] -= 0.05 * float64(g[i])
			}
		}
		if l1 := measure("after 60 steps"); !(l1 < l0) {
			t.Errorf("%s: the loss did not decrease (%v → %v)", tc.model, l0, l1)
		}
		n32.Close()
	}
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
