package nn

import (
	"math/rand/v2"

	"github.com/efmpi/efmpi/nn/engine"
)

// ReLU is y = max(x, 0), elementwise, split by samples among the net's
// threads.
type ReLU[T Float] struct {
	size     int
	e        *env[T]
	x, y, dy []T
	fwd, bwd func(item, thread int)
}

// Build implements Layer.
func (l *ReLU[T]) Build(in Shape, _ int, e *env[T]) (Shape, error) {
	l.size, l.e = in.Size(), e
	l.fwd = func(s, _ int) {
		lo, hi := s*l.size, (s+1)*l.size
		relu(l.x[lo:hi], l.y[lo:hi])
	}
	l.bwd = func(s, _ int) {
		lo, hi := s*l.size, (s+1)*l.size
		reluBack(l.y[lo:hi], l.dy[lo:hi], l.x[lo:hi])
	}
	return in, nil
}

// NumParams implements Layer.
func (l *ReLU[T]) NumParams() int { return 0 }

// Init implements Layer.
func (l *ReLU[T]) Init([]float64, *rand.Rand) {}

// Forward implements Layer.
func (l *ReLU[T]) Forward(_, x, y []T, n int) {
	l.x, l.y = x, y
	l.e.each(n, l.fwd)
	l.x, l.y = nil, nil
}

// Backward implements Layer.
func (l *ReLU[T]) Backward(_, _, y, dy, _, dx []T, n int) {
	if dx == nil {
		return
	}
	l.y, l.dy, l.x = y, dy, dx // x holds dx during the loop
	l.e.each(n, l.bwd)
	l.x, l.y, l.dy = nil, nil, nil
}

// relu writes max(x, 0) into y.
func relu[T Float](x, y []T) { addRelu(x, nil, y) }

// addRelu writes max(a + b, 0) into y, or max(a, 0) when b is nil (float32:
// the vector kernel of package engine, the same bits).
func addRelu[T Float](a, b, y []T) {
	if a32, ok := any(a).([]float32); ok {
		b32, _ := any(b).([]float32)
		engine.AddRelu(a32, b32, any(y).([]float32))
		return
	}
	y = y[:len(a)]
	if b == nil {
		for i, v := range a {
			y[i] = max(v, 0)
		}
		return
	}
	b = b[:len(a)]
	for i, v := range a {
		y[i] = max(v+b[i], 0)
	}
}

// reluBack writes dy where y > 0, else 0, into dx (float32: the vector
// kernel of package engine, the same bits).
func reluBack[T Float](y, dy, dx []T) {
	if y32, ok := any(y).([]float32); ok {
		engine.ReluBack(y32, any(dy).([]float32), any(dx).([]float32))
		return
	}
	dy, dx = dy[:len(y)], dx[:len(y)]
	for i, v := range y {
		if v > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// addTo adds src to dst elementwise (float32: the vector kernel of package
// engine, the same bits).
func addTo[T Float](dst, src []T) {
	if d32, ok := any(dst).([]float32); ok {
		engine.AddTo(d32, any(src).([]float32))
		return
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += v
	}
}

// Flatten reshapes C×H×W into a vector of C·H·W values (the data are already
// contiguous in NCHW order: it copies).
type Flatten[T Float] struct{ size int }

// Build implements Layer.
func (l *Flatten[T]) Build(in Shape, _ int, _ *env[T]) (Shape, error) {
	l.size = in.Size()
	return Shape{l.size, 1, 1}, nil
}

// NumParams implements Layer.
func (l *Flatten[T]) NumParams() int { return 0 }

// Init implements Layer.
func (l *Flatten[T]) Init([]float64, *rand.Rand) {}

// Forward implements Layer.
func (l *Flatten[T]) Forward(_, x, y []T, n int) { copy(y[:n*l.size], x[:n*l.size]) }

// Backward implements Layer.
func (l *Flatten[T]) Backward(_, _, _, dy, _, dx []T, n int) {
	if dx != nil {
		copy(dx[:n*l.size], dy[:n*l.size])
	}
}
