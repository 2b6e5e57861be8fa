package nn

import (
	"math"
	"math/rand/v2"
)

// BNEpsilon is the ε of batch normalisation (PyTorch's default).
const BNEpsilon = 1e-5

// BatchNorm2d normalises each channel with the mean and (biased) variance of
// the batch it is given, over samples and positions, then scales and shifts:
// y = γ·(x − μ_c)/√(σ²_c + ε) + β, with γ (C values) then β (C values) in p.
// There are no running statistics (see the package comment).
type BatchNorm2d struct {
	in     Shape
	xhat   []float64 // normalised input of the last Forward
	invstd []float64 // per channel
}

// Build implements Layer.
func (l *BatchNorm2d) Build(in Shape, maxBatch int) (Shape, error) {
	l.in = in
	l.xhat = make([]float64, maxBatch*in.Size())
	l.invstd = make([]float64, in.C)
	return in, nil
}

// NumParams implements Layer.
func (l *BatchNorm2d) NumParams() int { return 2 * l.in.C }

// Init implements Layer.
func (l *BatchNorm2d) Init(p []float64, _ *rand.Rand) {
	C := l.in.C
	for c := 0; c < C; c++ {
		p[c], p[C+c] = 1, 0
	}
}

// Forward implements Layer.
func (l *BatchNorm2d) Forward(p, x, y []float64, n int) {
	C, hw := l.in.C, l.in.H*l.in.W
	m := float64(n * hw)
	for c := 0; c < C; c++ {
		mean := 0.0
		for s := 0; s < n; s++ {
			for _, v := range x[(s*C+c)*hw : (s*C+c+1)*hw] {
				mean += v
			}
		}
		mean /= m
		vr := 0.0
		for s := 0; s < n; s++ {
			for _, v := range x[(s*C+c)*hw : (s*C+c+1)*hw] {
				vr += (v - mean) * (v - mean)
			}
		}
		inv := 1 / math.Sqrt(vr/m+BNEpsilon)
		l.invstd[c] = inv
		g, b := p[c], p[C+c]
		for s := 0; s < n; s++ {
			o := (s*C + c) * hw
			xs, xh, ys := x[o:o+hw], l.xhat[o:o+hw], y[o:o+hw]
			for i, v := range xs {
				h := (v - mean) * inv
				xh[i] = h
				ys[i] = g*h + b
			}
		}
	}
}

// Backward implements Layer.
func (l *BatchNorm2d) Backward(p, _, _, dy, dp, dx []float64, n int) {
	C, hw := l.in.C, l.in.H*l.in.W
	m := float64(n * hw)
	for c := 0; c < C; c++ {
		sdy, sdyx := 0.0, 0.0
		for s := 0; s < n; s++ {
			o := (s*C + c) * hw
			xh := l.xhat[o : o+hw]
			for i, d := range dy[o : o+hw] {
				sdy += d
				sdyx += d * xh[i]
			}
		}
		dp[c], dp[C+c] = sdyx, sdy
		if dx == nil {
			continue
		}
		// dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂))
		k := p[c] * l.invstd[c]
		mdy, mdyx := sdy/m, sdyx/m
		for s := 0; s < n; s++ {
			o := (s*C + c) * hw
			xh, dxs := l.xhat[o:o+hw], dx[o:o+hw]
			for i, d := range dy[o : o+hw] {
				dxs[i] = k * (d - mdy - xh[i]*mdyx)
			}
		}
	}
}
