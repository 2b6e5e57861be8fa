package nn

import (
	"math"
	"math/rand/v2"
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
	in   Shape
	e    *env[T]
	xhat []T       // normalised input of the last Forward
	inv  []float64 // per channel: 1/√(σ² + ε)
	// run is the running mean then variance (a slice of Net.Stats)
	run []float64
	// arguments of the parallel loops
	p, x, y, dy, dp, dx []T
	n                   int
	fwd, bwd            func(item, thread int)
}

// Build implements Layer.
func (l *BatchNorm2d[T]) Build(in Shape, maxBatch int, e *env[T]) (Shape, error) {
	l.in, l.e = in, e
	l.xhat = make([]T, maxBatch*in.Size())
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
			for _, v := range x[(s*C+c)*hw : (s*C+c+1)*hw] {
				mean += float64(v)
			}
		}
		mean /= m
		vr := 0.0
		for s := 0; s < n; s++ {
			for _, v := range x[(s*C+c)*hw : (s*C+c+1)*hw] {
				d := float64(v) - mean
				vr += d * d
			}
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
	g, b := float64(l.p[c]), float64(l.p[C+c])
	for s := 0; s < n; s++ {
		o := (s*C + c) * hw
		xs, xh, ys := x[o:o+hw], l.xhat[o:o+hw], l.y[o:o+hw]
		for i, v := range xs {
			h := (float64(v) - mean) * inv
			xh[i] = T(h)
			ys[i] = T(g*h + b)
		}
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
	for s := 0; s < n; s++ {
		o := (s*C + c) * hw
		xh := l.xhat[o : o+hw]
		for i, d := range dy[o : o+hw] {
			sdy += float64(d)
			sdyx += float64(d) * float64(xh[i])
		}
	}
	l.dp[c], l.dp[C+c] = T(sdyx), T(sdy)
	if l.dx == nil {
		return
	}
	k := float64(l.p[c]) * l.inv[c]
	if l.e.mode == Eval {
		// the statistics are constants: dx = γ/σ̄ · dy
		for s := 0; s < n; s++ {
			o := (s*C + c) * hw
			dxs := l.dx[o : o+hw]
			for i, d := range dy[o : o+hw] {
				dxs[i] = T(k * float64(d))
			}
		}
		return
	}
	// dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂))
	mdy, mdyx := sdy/m, sdyx/m
	for s := 0; s < n; s++ {
		o := (s*C + c) * hw
		xh, dxs := l.xhat[o:o+hw], l.dx[o:o+hw]
		for i, d := range dy[o : o+hw] {
			dxs[i] = T(k * (float64(d) - mdy - float64(xh[i])*mdyx))
		}
	}
}

// Backward implements Layer.
func (l *BatchNorm2d[T]) Backward(p, _, _, dy, dp, dx []T, n int) {
	l.p, l.dy, l.dp, l.dx, l.n = p, dy, dp, dx, n
	l.e.each(l.in.C, l.bwd)
	l.p, l.dy, l.dp, l.dx = nil, nil, nil, nil
}
