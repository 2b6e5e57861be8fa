package nn

import (
	"math"
	"math/rand/v2"

	"github.com/efmpi/efmpi/nn/engine"
)

// BNEpsilon is the ε of batch normalisation (PyTorch's default).
const BNEpsilon = 1e-5

// BNMomentum is the weight of a batch's statistics in the running ones
// (PyTorch's default momentum).
const BNMomentum = 0.1

// BatchNorm2d normalises each channel, over samples and positions, then
// scales and shifts: y = γ·(x − μ_c)/√(σ²_c + ε) + β, with γ (C values) then
// β (C values) in p.
//
// In the modes Train and Batch, μ_c and σ²_c are the mean and biased
// variance of the batch; Train also updates the running statistics as
// PyTorch: μ̄ ← (1 − 0.1)·μ̄ + 0.1·μ_c, σ̄² ← (1 − 0.1)·σ̄² + 0.1·σ²_c·m/(m − 1)
// (the unbiased variance, m = n·H·W values). In the mode Eval they are the
// running statistics, and the layer is an affine map. The running statistics
// (mean then variance, C each, float64) are not parameters: they live in the
// net (Net.Stats), start at 0 and 1, and are never part of x.
//
// Channels are split among the net's threads; each channel's sums run over
// the samples and positions in order, in float64.
type BatchNorm2d[T Float] struct {
	// ReLU fuses a ReLU after the normalisation: y = max(γ·x̂ + β, 0), and
	// Backward takes the gradient with respect to that y.
	ReLU bool

	in   Shape
	e    *env[T]
	xhat []T       // normalised input of the last Forward
	dyr  []T       // with ReLU: the gradient at the normalised output
	inv  []float64 // per channel: 1/√(σ² + ε)
	// run is the running mean then variance (a slice of Net.Stats)
	run []float64
	// arguments of the parallel loops
	p, x, y, dy, dp, dx []T
	n                   int
	fwd, bwd            func(item, thread int)
}

// NewBatchNormReLU returns batch normalisation followed by a ReLU, fused.
func NewBatchNormReLU[T Float]() *BatchNorm2d[T] { return &BatchNorm2d[T]{ReLU: true} }

// Build implements Layer.
func (l *BatchNorm2d[T]) Build(in Shape, maxBatch int, e *env[T]) (Shape, error) {
	l.in, l.e = in, e
	l.xhat = make([]T, maxBatch*in.Size())
	l.dyr = nil
	if l.ReLU {
		l.dyr = make([]T, maxBatch*in.Size())
	}
	l.inv = make([]float64, in.C)
	l.run = make([]float64, 2*in.C)
	for c := range in.C {
		l.run[in.C+c] = 1
	}
	e.bns = append(e.bns, l)
	l.fwd, l.bwd = l.forwardChannel, l.backwardChannel
	return in, nil
}

// NumParams implements Layer.
func (l *BatchNorm2d[T]) NumParams() int { return 2 * l.in.C }

// Init implements Layer.
func (l *BatchNorm2d[T]) Init(p []float64, _ *rand.Rand) {
	C := l.in.C
	for c := 0; c < C; c++ {
		p[c], p[C+c] = 1, 0
	}
}

func (l *BatchNorm2d[T]) forwardChannel(c, _ int) {
	C, hw, n, x := l.in.C, l.in.H*l.in.W, l.n, l.x
	var mean, inv float64
	if l.e.mode == Eval {
		mean, inv = l.run[c], 1/math.Sqrt(l.run[C+c]+BNEpsilon)
	} else {
		m := float64(n * hw)
		for s := 0; s < n; s++ {
			mean += sum4(x[(s*C+c)*hw : (s*C+c+1)*hw])
		}
		mean /= m
		vr := 0.0
		for s := 0; s < n; s++ {
			vr += sqdev4(x[(s*C+c)*hw:(s*C+c+1)*hw], mean)
		}
		vr /= m
		inv = 1 / math.Sqrt(vr+BNEpsilon)
		if l.e.mode == Train {
			unbiased := vr
			if m > 1 {
				unbiased = vr * m / (m - 1)
			}
			l.run[c] = (1-BNMomentum)*l.run[c] + BNMomentum*mean
			l.run[C+c] = (1-BNMomentum)*l.run[C+c] + BNMomentum*unbiased
		}
	}
	l.inv[c] = inv
	// the normalisation in T
	g, b, mt, it := l.p[c], l.p[C+c], T(mean), T(inv)
	for s := 0; s < n; s++ {
		o := (s*C + c) * hw
		normalize(x[o:o+hw], l.xhat[o:o+hw], l.y[o:o+hw], mt, it, g, b, l.ReLU)
	}
}

// normalize writes x̂ = (x − mean)·inv and y = γ·x̂ + β (max(y, 0) with relu),
// each operation rounded to T, never fused (float32: engine.Normalize, the
// same bits).
func normalize[T Float](x, xh, y []T, mean, inv, g, b T, relu bool) {
	if x32, ok := any(x).([]float32); ok {
		engine.Normalize(x32, any(xh).([]float32), any(y).([]float32), float32(mean), float32(inv), float32(g), float32(b), relu)
		return
	}
	xh, y = xh[:len(x)], y[:len(x)]
	for i, v := range x {
		h := T(v-mean) * inv
		xh[i] = h
		t := T(g*h) + b
		if relu {
			t = max(t, 0)
		}
		y[i] = t
	}
}

// normalizeBack writes dx = k·((dy − mdy) − x̂·mdyx), each operation rounded
// to T (float32: engine.NormalizeBack, the same bits).
func normalizeBack[T Float](dy, xh, dx []T, k, mdy, mdyx T) {
	if d32, ok := any(dy).([]float32); ok {
		engine.NormalizeBack(d32, any(xh).([]float32), any(dx).([]float32), float32(k), float32(mdy), float32(mdyx))
		return
	}
	xh, dx = xh[:len(dy)], dx[:len(dy)]
	for i, d := range dy {
		dx[i] = k * (T(d-mdy) - T(xh[i]*mdyx))
	}
}

// Forward implements Layer.
func (l *BatchNorm2d[T]) Forward(p, x, y []T, n int) {
	l.p, l.x, l.y, l.n = p, x, y, n
	l.e.each(l.in.C, l.fwd)
	l.p, l.x, l.y = nil, nil, nil
}

func (l *BatchNorm2d[T]) backwardChannel(c, _ int) {
	C, hw, n, dy := l.in.C, l.in.H*l.in.W, l.n, l.dy
	m := float64(n * hw)
	sdy, sdyx := 0.0, 0.0
	if l.ReLU { // the gradient at the normalised output: dy where y > 0
		for s := 0; s < n; s++ {
			o := (s*C + c) * hw
			reluBack(l.y[o:o+hw], dy[o:o+hw], l.dyr[o:o+hw])
		}
		dy = l.dyr
	}
	for s := 0; s < n; s++ {
		o := (s*C + c) * hw
		sdy += sum4(dy[o : o+hw])
		sdyx += dot4(dy[o:o+hw], l.xhat[o:o+hw])
	}
	l.dp[c], l.dp[C+c] = T(sdyx), T(sdy)
	if l.dx == nil {
		return
	}
	k := T(float64(l.p[c]) * l.inv[c])
	if l.e.mode == Eval {
		// the statistics are constants: dx = γ/σ̄ · dy
		for s := 0; s < n; s++ {
			o := (s*C + c) * hw
			dxs := l.dx[o : o+hw]
			for i, d := range dy[o : o+hw] {
				dxs[i] = k * d
			}
		}
		return
	}
	// dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂)), in T
	mdy, mdyx := T(sdy/m), T(sdyx/m)
	for s := 0; s < n; s++ {
		o := (s*C + c) * hw
		normalizeBack(dy[o:o+hw], l.xhat[o:o+hw], l.dx[o:o+hw], k, mdy, mdyx)
	}
}

// Backward implements Layer.
func (l *BatchNorm2d[T]) Backward(p, _, y, dy, dp, dx []T, n int) {
	l.p, l.y, l.dy, l.dp, l.dx, l.n = p, y, dy, dp, dx, n
	l.e.each(l.in.C, l.bwd)
	l.p, l.y, l.dy, l.dp, l.dx = nil, nil, nil, nil, nil
}

// sum4 is Σ v in float64, in four interleaved partial sums (i mod 4, then the
// tail) added in order: a fixed order, four times the throughput of one
// chain.
func sum4[T Float](v []T) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(v); i += 4 {
		s0 += float64(v[i])
		s1 += float64(v[i+1])
		s2 += float64(v[i+2])
		s3 += float64(v[i+3])
	}
	for ; i < len(v); i++ {
		s0 += float64(v[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// sqdev4 is Σ (v − mean)² in float64, in the order of sum4.
func sqdev4[T Float](v []T, mean float64) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(v); i += 4 {
		d0, d1, d2, d3 := float64(v[i])-mean, float64(v[i+1])-mean, float64(v[i+2])-mean, float64(v[i+3])-mean
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(v); i++ {
		d := float64(v[i]) - mean
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// dot4 is Σ a·b in float64, in the order of sum4.
func dot4[T Float](a, b []T) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += float64(a[i]) * float64(b[i])
		s1 += float64(a[i+1]) * float64(b[i+1])
		s2 += float64(a[i+2]) * float64(b[i+2])
		s3 += float64(a[i+3]) * float64(b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += float64(a[i]) * float64(b[i])
	}
	return (s0 + s1) + (s2 + s3)
}
