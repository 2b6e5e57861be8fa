package nn

import (
	"fmt"
	"math/rand/v2"
)

// MaxPool2d takes the maximum over non-overlapping K×K windows (stride K;
// a remainder row or column is dropped, as floor mode in PyTorch). Ties go
// to the first element in row-major order of the window.
type MaxPool2d[T Float] struct {
	K       int
	in, out Shape
	arg     []int32 // per output: index of the maximum within the sample
	e       *env[T]
	x, y    []T
	fwd     func(item, thread int)
}

// NewMaxPool2d returns a k×k max pool with stride k.
func NewMaxPool2d[T Float](k int) *MaxPool2d[T] { return &MaxPool2d[T]{K: k} }

// Build implements Layer.
func (l *MaxPool2d[T]) Build(in Shape, maxBatch int, e *env[T]) (Shape, error) {
	if l.K < 1 || in.H/l.K < 1 || in.W/l.K < 1 {
		return Shape{}, fmt.Errorf("nn: max pool %d×%d on input %v gives no output", l.K, l.K, in)
	}
	l.in, l.out = in, Shape{in.C, in.H / l.K, in.W / l.K}
	l.arg = make([]int32, maxBatch*l.out.Size())
	l.e, l.fwd = e, l.forwardSample
	return l.out, nil
}

// NumParams implements Layer.
func (l *MaxPool2d[T]) NumParams() int { return 0 }

// Init implements Layer.
func (l *MaxPool2d[T]) Init([]float64, *rand.Rand) {}

// forwardSample pools sample s.
func (l *MaxPool2d[T]) forwardSample(s, _ int) {
	H, W, Ho, Wo, K := l.in.H, l.in.W, l.out.H, l.out.W, l.K
	insz, outsz := l.in.Size(), l.out.Size()
	xs, ys, as := l.x[s*insz:(s+1)*insz], l.y[s*outsz:(s+1)*outsz], l.arg[s*outsz:(s+1)*outsz]
	for c := 0; c < l.in.C; c++ {
		for oh := 0; oh < Ho; oh++ {
			for ow := 0; ow < Wo; ow++ {
				best := c*H*W + oh*K*W + ow*K
				for i := 0; i < K; i++ {
					for j := 0; j < K; j++ {
						// best = q where xs[q] > xs[best], without a branch
						// (random data: half of them mispredicted)
						q := c*H*W + (oh*K+i)*W + ow*K + j
						best += b2i(xs[q] > xs[best]) * (q - best)
					}
				}
				o := (c*Ho+oh)*Wo + ow
				ys[o], as[o] = xs[best], int32(best)
			}
		}
	}
}

// Forward implements Layer.
func (l *MaxPool2d[T]) Forward(_, x, y []T, n int) {
	l.x, l.y = x, y
	l.e.each(n, l.fwd)
	l.x, l.y = nil, nil
}

// Backward implements Layer.
func (l *MaxPool2d[T]) Backward(_, _, _, dy, _, dx []T, n int) {
	if dx == nil {
		return
	}
	insz, outsz := l.in.Size(), l.out.Size()
	clear(dx[:n*insz])
	for s := 0; s < n; s++ {
		dxs := dx[s*insz : (s+1)*insz]
		for o, q := range l.arg[s*outsz : (s+1)*outsz] {
			dxs[q] += dy[s*outsz+o]
		}
	}
}

// GlobalAvgPool averages each channel over H×W: C×H×W → C×1×1.
type GlobalAvgPool[T Float] struct{ in Shape }

// Build implements Layer.
func (l *GlobalAvgPool[T]) Build(in Shape, _ int, _ *env[T]) (Shape, error) {
	l.in = in
	return Shape{in.C, 1, 1}, nil
}

// NumParams implements Layer.
func (l *GlobalAvgPool[T]) NumParams() int { return 0 }

// Init implements Layer.
func (l *GlobalAvgPool[T]) Init([]float64, *rand.Rand) {}

// Forward implements Layer.
func (l *GlobalAvgPool[T]) Forward(_, x, y []T, n int) {
	hw := l.in.H * l.in.W
	inv := 1 / float64(hw)
	for sc := 0; sc < n*l.in.C; sc++ {
		sum := 0.0
		for _, v := range x[sc*hw : (sc+1)*hw] {
			sum += float64(v)
		}
		y[sc] = T(sum * inv)
	}
}

// Backward implements Layer.
func (l *GlobalAvgPool[T]) Backward(_, _, _, dy, _, dx []T, n int) {
	if dx == nil {
		return
	}
	hw := l.in.H * l.in.W
	inv := 1 / float64(hw)
	for sc := 0; sc < n*l.in.C; sc++ {
		g := T(float64(dy[sc]) * inv)
		d := dx[sc*hw : (sc+1)*hw]
		for i := range d {
			d[i] = g
		}
	}
}

// b2i is 1 for true, 0 for false (the compiler's SETcc, no branch).
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
