package nn

import (
	"fmt"
	"math/rand/v2"
)

// MaxPool2d takes the maximum over non-overlapping K×K windows (stride K;
// a remainder row or column is dropped, as floor mode in PyTorch). Ties go
// to the first element in row-major order of the window.
type MaxPool2d struct {
	K       int
	in, out Shape
	arg     []int32 // per output: index of the maximum within the sample
}

// NewMaxPool2d returns a k×k max pool with stride k.
func NewMaxPool2d(k int) *MaxPool2d { return &MaxPool2d{K: k} }

// Build implements Layer.
func (l *MaxPool2d) Build(in Shape, maxBatch int) (Shape, error) {
	if l.K < 1 || in.H/l.K < 1 || in.W/l.K < 1 {
		return Shape{}, fmt.Errorf("nn: max pool %d×%d on input %v gives no output", l.K, l.K, in)
	}
	l.in, l.out = in, Shape{in.C, in.H / l.K, in.W / l.K}
	l.arg = make([]int32, maxBatch*l.out.Size())
	return l.out, nil
}

// NumParams implements Layer.
func (l *MaxPool2d) NumParams() int { return 0 }

// Init implements Layer.
func (l *MaxPool2d) Init([]float64, *rand.Rand) {}

// Forward implements Layer.
func (l *MaxPool2d) Forward(_, x, y []float64, n int) {
	H, W, Ho, Wo, K := l.in.H, l.in.W, l.out.H, l.out.W, l.K
	insz, outsz := l.in.Size(), l.out.Size()
	for s := 0; s < n; s++ {
		xs, ys, as := x[s*insz:(s+1)*insz], y[s*outsz:(s+1)*outsz], l.arg[s*outsz:(s+1)*outsz]
		for c := 0; c < l.in.C; c++ {
			for oh := 0; oh < Ho; oh++ {
				for ow := 0; ow < Wo; ow++ {
					best := c*H*W + oh*K*W + ow*K
					for i := 0; i < K; i++ {
						for j := 0; j < K; j++ {
							if q := c*H*W + (oh*K+i)*W + ow*K + j; xs[q] > xs[best] {
								best = q
							}
						}
					}
					o := (c*Ho+oh)*Wo + ow
					ys[o], as[o] = xs[best], int32(best)
				}
			}
		}
	}
}

// Backward implements Layer.
func (l *MaxPool2d) Backward(_, _, _, dy, _, dx []float64, n int) {
	if dx == nil {
		return
	}
	insz, outsz := l.in.Size(), l.out.Size()
	zero(dx[:n*insz])
	for s := 0; s < n; s++ {
		dxs := dx[s*insz : (s+1)*insz]
		for o, q := range l.arg[s*outsz : (s+1)*outsz] {
			dxs[q] += dy[s*outsz+o]
		}
	}
}

// GlobalAvgPool averages each channel over H×W: C×H×W → C×1×1.
type GlobalAvgPool struct{ in Shape }

// Build implements Layer.
func (l *GlobalAvgPool) Build(in Shape, _ int) (Shape, error) {
	l.in = in
	return Shape{in.C, 1, 1}, nil
}

// NumParams implements Layer.
func (l *GlobalAvgPool) NumParams() int { return 0 }

// Init implements Layer.
func (l *GlobalAvgPool) Init([]float64, *rand.Rand) {}

// Forward implements Layer.
func (l *GlobalAvgPool) Forward(_, x, y []float64, n int) {
	hw := l.in.H * l.in.W
	inv := 1 / float64(hw)
	for sc := 0; sc < n*l.in.C; sc++ {
		sum := 0.0
		for _, v := range x[sc*hw : (sc+1)*hw] {
			sum += v
		}
		y[sc] = sum * inv
	}
}

// Backward implements Layer.
func (l *GlobalAvgPool) Backward(_, _, _, dy, _, dx []float64, n int) {
	if dx == nil {
		return
	}
	hw := l.in.H * l.in.W
	inv := 1 / float64(hw)
	for sc := 0; sc < n*l.in.C; sc++ {
		g := dy[sc] * inv
		d := dx[sc*hw : (sc+1)*hw]
		for i := range d {
			d[i] = g
		}
	}
}
