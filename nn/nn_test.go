package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// fdCheck compares an analytic gradient g of f at v with central finite
// differences on the coordinates idx (step h), to a mixed tolerance.
func fdCheck(t *testing.T, what string, f func() float64, v, g []float64, idx []int, h, tol float64) {
	t.Helper()
	bad := 0
	for _, j := range idx {
		old := v[j]
		v[j] = old + h
		fp := f()
		v[j] = old - h
		fm := f()
		v[j] = old
		fd := (fp - fm) / (2 * h)
		if math.Abs(fd-g[j]) > tol*(1+math.Abs(fd)) {
			if bad < 5 {
				t.Errorf("%s[%d]: analytic %.10g, central difference %.10g", what, j, g[j], fd)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d coordinates disagree", what, bad, len(idx))
	}
}

// coords returns all of 0..n-1 when n ≤ max, else max distinct ones drawn by r.
func coords(n, max int, r *rand.Rand) []int {
	if n <= max {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	return r.Perm(n)[:max]
}

func randVec(n int, r *rand.Rand) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = r.NormFloat64()
	}
	return v
}

// checkLayer checks Backward of l against central differences of the scalar
// L = Σ w ⊙ Forward(p, x) for random p, x and weights w.
func checkLayer(t *testing.T, name string, l Layer[float64], in Shape, n int) {
	t.Helper()
	r := rand.New(rand.NewPCG(7, uint64(len(name))))
	out, err := l.Build(in, n, newEnv[float64](1))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	p := make([]float64, l.NumParams())
	l.Init(p, r)
	for i := range p {
		p[i] += 0.3 * r.NormFloat64()
	}
	x := randVec(n*in.Size(), r)
	w := randVec(n*out.Size(), r)
	y := make([]float64, n*out.Size())
	loss := func() float64 {
		l.Forward(p, x, y, n)
		s := 0.0
		for i, v := range y {
			s += w[i] * v
		}
		return s
	}
	loss()
	dp := make([]float64, len(p))
	dx := make([]float64, len(x))
	l.Backward(p, x, y, w, dp, dx, n)
	fdCheck(t, name+" dL/dp", loss, p, dp, coords(len(p), 60, r), 1e-5, 1e-6)
	fdCheck(t, name+" dL/dx", loss, x, dx, coords(len(x), 60, r), 1e-5, 1e-6)
	// dx = nil must give the same parameter gradient.
	dp2 := make([]float64, len(p))
	loss()
	l.Backward(p, x, y, w, dp2, nil, n)
	for i := range dp {
		if dp[i] != dp2[i] {
			t.Fatalf("%s: parameter gradient differs with dx = nil at %d", name, i)
		}
	}
}

func TestLayersAgainstFiniteDifferences(t *testing.T) {
	checkLayer(t, "dense", NewDense[float64](5), Shape{7, 1, 1}, 3)
	checkLayer(t, "dense-on-image", NewDense[float64](4), Shape{2, 3, 3}, 2)
	checkLayer(t, "relu", &ReLU[float64]{}, Shape{3, 4, 4}, 2)
	checkLayer(t, "flatten", &Flatten[float64]{}, Shape{3, 2, 2}, 2)
	checkLayer(t, "conv3x3", NewConv2d[float64](4, 3, 1, 1, true), Shape{3, 6, 5}, 2)
	checkLayer(t, "conv5x5", NewConv2d[float64](2, 5, 1, 0, true), Shape{2, 7, 7}, 2)
	checkLayer(t, "conv-stride2", NewConv2d[float64](3, 3, 2, 1, false), Shape{2, 7, 6}, 2)
	checkLayer(t, "maxpool", NewMaxPool2d[float64](2), Shape{2, 5, 4}, 3)
	checkLayer(t, "avgpool", &GlobalAvgPool[float64]{}, Shape{3, 3, 4}, 2)
	checkLayer(t, "batchnorm", &BatchNorm2d[float64]{}, Shape{3, 3, 2}, 4)
	checkLayer(t, "batchnorm-relu", NewBatchNormReLU[float64](), Shape{3, 3, 2}, 4)
	checkLayer(t, "block-identity", NewBasicBlock[float64](4, 1), Shape{4, 4, 4}, 3)
	checkLayer(t, "block-optionA", NewBasicBlock[float64](8, 2), Shape{4, 6, 6}, 3)
}

// naiveConv is the textbook seven-loop convolution, written independently of
// im2col.
func naiveConv(p, x []float64, in Shape, cout, k, stride, pad int, bias bool, n int) ([]float64, Shape) {
	ho, wo := (in.H+2*pad-k)/stride+1, (in.W+2*pad-k)/stride+1
	y := make([]float64, n*cout*ho*wo)
	nw := cout * in.C * k * k
	for s := 0; s < n; s++ {
		for o := 0; o < cout; o++ {
			for i := 0; i < ho; i++ {
				for j := 0; j < wo; j++ {
					sum := 0.0
					if bias {
						sum = p[nw+o]
					}
					for c := 0; c < in.C; c++ {
						for a := 0; a < k; a++ {
							for b := 0; b < k; b++ {
								h, w := i*stride-pad+a, j*stride-pad+b
								if h >= 0 && h < in.H && w >= 0 && w < in.W {
									sum += p[((o*in.C+c)*k+a)*k+b] * x[((s*in.C+c)*in.H+h)*in.W+w]
								}
							}
						}
					}
					y[((s*cout+o)*ho+i)*wo+j] = sum
				}
			}
		}
	}
	return y, Shape{cout, ho, wo}
}

func TestConvMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		in                   Shape
		cout, k, stride, pad int
		bias                 bool
	}{{Shape{3, 8, 7}, 5, 3, 1, 1, true}, {Shape{1, 28, 28}, 6, 5, 1, 2, true}, {Shape{4, 9, 9}, 2, 3, 2, 1, false}} {
		l := NewConv2d[float64](tc.cout, tc.k, tc.stride, tc.pad, tc.bias)
		out, err := l.Build(tc.in, 2, newEnv[float64](1))
		if err != nil {
			t.Fatal(err)
		}
		p := randVec(l.NumParams(), r)
		x := randVec(2*tc.in.Size(), r)
		y := make([]float64, 2*out.Size())
		l.Forward(p, x, y, 2)
		want, ws := naiveConv(p, x, tc.in, tc.cout, tc.k, tc.stride, tc.pad, tc.bias, 2)
		if ws != out {
			t.Fatalf("shape %v, naive %v", out, ws)
		}
		for i := range y {
			if math.Abs(y[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
				t.Fatalf("%+v: y[%d] = %v, naive %v", tc, i, y[i], want[i])
			}
		}
	}
}

func TestMaxPoolAndBatchNormByHand(t *testing.T) {
	l := NewMaxPool2d[float64](2)
	if _, err := l.Build(Shape{1, 2, 4}, 1, newEnv[float64](1)); err != nil {
		t.Fatal(err)
	}
	x := []float64{1, 5, 2, 2, 3, -1, 2, 0}
	y := make([]float64, 2)
	l.Forward(nil, x, y, 1)
	if y[0] != 5 || y[1] != 2 {
		t.Fatalf("max pool = %v, want [5 2]", y)
	}
	dx := make([]float64, 8)
	l.Backward(nil, x, y, []float64{10, 20}, nil, dx, 1)
	// ties in the second window: the first in row-major order (index 2) wins
	if want := []float64{0, 10, 20, 0, 0, 0, 0, 0}; !equal(dx, want) {
		t.Fatalf("max pool dx = %v, want %v", dx, want)
	}
	bn := &BatchNorm2d[float64]{}
	bn.Build(Shape{1, 1, 2}, 2, newEnv[float64](1))
	p := []float64{2, 1} // γ = 2, β = 1
	yb := make([]float64, 4)
	bn.Forward(p, []float64{1, 2, 3, 6}, yb, 2) // mean 3, variance 3.5
	s := 1 / math.Sqrt(3.5+BNEpsilon)
	want := []float64{1 - 4*s, 1 - 2*s, 1, 1 + 6*s}
	for i := range yb {
		if math.Abs(yb[i]-want[i]) > 1e-14 {
			t.Fatalf("batch norm y = %v, want %v", yb, want)
		}
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSoftmaxCrossEntropyByHand(t *testing.T) {
	z := []float64{0, math.Log(3), 1000, 1000}
	dz := make([]float64, 4)
	loss, correct := SoftmaxCrossEntropy(z, []int32{0, 1}, 2, 2, dz)
	// sample 0: p = (1/4, 3/4), label 0 → log 4; sample 1: p = (1/2, 1/2) → log 2
	if want := (math.Log(4) + math.Log(2)) / 2; math.Abs(loss-want) > 1e-12 {
		t.Fatalf("loss %v, want %v", loss, want)
	}
	if correct != 0 { // sample 0 predicts class 1; sample 1 ties → class 0
		t.Fatalf("correct = %d, want 0", correct)
	}
	want := []float64{(0.25 - 1) / 2, 0.75 / 2, 0.25, -0.25}
	for i := range dz {
		if math.Abs(dz[i]-want[i]) > 1e-12 {
			t.Fatalf("dz = %v, want %v", dz, want)
		}
	}
}

// checkModel checks LossGrad of a whole model against central differences of
// Loss on random coordinates.
func checkModel(t *testing.T, model string, in Shape, widths []int, nb, ncoords int) {
	t.Helper()
	net, err := NewOf[float64](model, in, 10, nb, widths, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	p := make([]float64, net.Dim())
	net.Init(p, r)
	for i := range p {
		p[i] += 0.01 * r.NormFloat64() // biases away from zero
	}
	copy(net.Input(), randVec(nb*in.Size(), r))
	labels := make([]int32, nb)
	for i := range labels {
		labels[i] = int32(r.IntN(10))
	}
	g := make([]float64, len(p))
	net.LossGrad(p, g, labels, nb)
	f := func() float64 { l, _ := net.Loss(p, labels, nb); return l }
	fdCheck(t, model, f, p, g, coords(len(p), ncoords, r), 1e-5, 1e-5)
}

func TestModelsAgainstFiniteDifferences(t *testing.T) {
	checkModel(t, ModelMLP, Shape{1, 5, 5}, []int{16, 8}, 4, 80)
	checkModel(t, ModelLeNet, Shape{1, 28, 28}, nil, 3, 60)
	checkModel(t, ModelResNet20, Shape{3, 8, 8}, nil, 2, 30)
}

func TestParameterCounts(t *testing.T) {
	for _, tc := range []struct {
		model string
		in    Shape
		w     []int
		want  int
	}{
		// by hand: 784·100+100 + 100·10+10
		{ModelMLP, Shape{1, 28, 28}, []int{100}, 79510},
		// 6·25+6 + 16·150+16 + 400·120+120 + 120·84+84 + 84·10+10
		{ModelLeNet, Shape{1, 28, 28}, nil, 61706},
		// 432+32 (stem) + 3·4672 + (13952 + 2·18560) + (55552 + 2·73984) + 650
		{ModelResNet20, Shape{3, 32, 32}, nil, 269722},
	} {
		net, err := NewOf[float64](tc.model, tc.in, 10, 1, tc.w, 1)
		if err != nil {
			t.Fatal(err)
		}
		if net.Dim() != tc.want {
			t.Errorf("%s: %d parameters, want %d", tc.model, net.Dim(), tc.want)
		}
	}
}

func TestKaimingInitStatistics(t *testing.T) {
	net, err := NewOf[float64](ModelMLP, Shape{1, 28, 28}, 10, 1, []int{200}, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, net.Dim())
	net.Init(p, rand.New(rand.NewPCG(1, 1)))
	w := p[:200*784] // first layer weights: variance 2/784
	m, v := 0.0, 0.0
	for _, x := range w {
		m += x
		v += x * x
	}
	m /= float64(len(w))
	v = v/float64(len(w)) - m*m
	if want := 2.0 / 784; math.Abs(v-want) > 0.02*want || math.Abs(m) > 3*math.Sqrt(want/float64(len(w))) {
		t.Fatalf("first-layer weights: mean %g, variance %g, want 0 and %g", m, v, want)
	}
	for _, b := range p[200*784 : 200*784+200] {
		if b != 0 {
			t.Fatal("biases must start at zero")
		}
	}
}

func TestErrors(t *testing.T) {
	if _, err := NewOf[float64]("vgg", Shape{1, 28, 28}, 10, 1, nil, 1); err == nil {
		t.Error("unknown model accepted")
	}
	if _, err := NewOf[float64](ModelLeNet, Shape{1, 4, 4}, 10, 1, nil, 1); err == nil {
		t.Error("lenet on 4×4 accepted")
	}
	if _, err := NewOf[float64](ModelLeNet, Shape{1, 28, 28}, 10, 1, []int{3}, 1); err == nil {
		t.Error("widths accepted for lenet")
	}
}

// gemm agrees with a naive triple loop for every transpose combination, on
// sizes that take both the tiled serial path and gonum's parallel one.
func TestGemmMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, sz := range [][3]int{{6, 784, 25}, {70, 400, 9}, {130, 200, 70}, {3, 5, 2}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, ta := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tb := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				a, b, c := randVec(m*k, r), randVec(k*n, r), randVec(m*n, r)
				lda, ldb := k, n
				at := func(i, l int) float64 { return a[i*k+l] }
				if ta == blas.Trans {
					lda, at = m, func(i, l int) float64 { return a[l*m+i] }
				}
				bt := func(l, j int) float64 { return b[l*n+j] }
				if tb == blas.Trans {
					ldb, bt = k, func(l, j int) float64 { return b[j*k+l] }
				}
				want := make([]float64, m*n)
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						s := 0.0
						for l := 0; l < k; l++ {
							s += at(i, l) * bt(l, j)
						}
						want[i*n+j] = 1.5*s + 0.5*c[i*n+j]
					}
				}
				gemm64(ta, tb, m, n, k, 1.5, a, lda, b, ldb, 0.5, c, n)
				for i := range c {
					if math.Abs(c[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
						t.Fatalf("%v %v %d×%d×%d: c[%d] = %v, naive %v", ta, tb, m, n, k, i, c[i], want[i])
					}
				}
			}
		}
	}
}

// A forward and backward pass of every model allocates nothing.
func TestLossGradDoesNotAllocate(t *testing.T) {
	for _, tc := range []struct {
		model string
		in    Shape
	}{{ModelMLP, Shape{1, 28, 28}}, {ModelLeNet, Shape{1, 28, 28}}, {ModelResNet20, Shape{3, 8, 8}}} {
		var w []int
		if tc.model == ModelMLP {
			w = []int{300, 100}
		}
		net, err := NewOf[float64](tc.model, tc.in, 10, 8, w, 1)
		if err != nil {
			t.Fatal(err)
		}
		p := make([]float64, net.Dim())
		net.Init(p, rand.New(rand.NewPCG(1, 1)))
		g := make([]float64, len(p))
		labels := make([]int32, 8)
		if a := testing.AllocsPerRun(1, func() { net.LossGrad(p, g, labels, 8) }); a != 0 {
			t.Errorf("%s: LossGrad allocates %v times", tc.model, a)
		}
	}
}
