package nn

import (
	"fmt"
	"math/rand/v2"
)

// Dense is a fully connected layer y = W x + b with W of Out×In (row-major,
// stored first in p) and b of Out. Its input may have any shape: it is read
// as a vector of In = C·H·W values. Its three products run on the net's GEMM
// (split by output tiles); the weight gradient is one chain over the samples
// in order.
type Dense[T Float] struct {
	Out int
	in  int
	e   *env[T]
}

// NewDense returns a dense layer with out outputs and a bias.
func NewDense[T Float](out int) *Dense[T] { return &Dense[T]{Out: out} }

// Build implements Layer.
func (l *Dense[T]) Build(in Shape, _ int, e *env[T]) (Shape, error) {
	if l.Out < 1 || in.Size() < 1 {
		return Shape{}, fmt.Errorf("nn: dense %d→%d: sizes must be positive", in.Size(), l.Out)
	}
	l.in, l.e = in.Size(), e
	return Shape{l.Out, 1, 1}, nil
}

// NumParams implements Layer.
func (l *Dense[T]) NumParams() int { return l.Out*l.in + l.Out }

// Init implements Layer.
func (l *Dense[T]) Init(p []float64, r *rand.Rand) {
	kaiming(p[:l.Out*l.in], l.in, r)
	clear(p[l.Out*l.in:])
}

// Forward implements Layer.
func (l *Dense[T]) Forward(p, x, y []T, n int) {
	w, b := p[:l.Out*l.in], p[l.Out*l.in:]
	for s := 0; s < n; s++ {
		copy(y[s*l.Out:(s+1)*l.Out], b)
	}
	l.e.gemm.gemm(false, true, n, l.Out, l.in, x, l.in, w, l.in, true, y, l.Out)
}

// Backward implements Layer.
func (l *Dense[T]) Backward(p, x, _, dy, dp, dx []T, n int) {
	w := p[:l.Out*l.in]
	dw, db := dp[:l.Out*l.in], dp[l.Out*l.in:]
	l.e.gemm.gemm(true, false, l.Out, l.in, n, dy, l.Out, x, l.in, false, dw, l.in)
	clear(db)
	for s := 0; s < n; s++ {
		row := dy[s*l.Out : (s+1)*l.Out]
		for j, v := range row {
			db[j] += v
		}
	}
	if dx != nil {
		l.e.gemm.gemm(false, false, n, l.in, l.Out, dy, l.Out, w, l.in, false, dx, l.in)
	}
}
