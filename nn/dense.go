package nn

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

var impl gonum.Implementation

// Dense is a fully connected layer y = W x + b with W of Out×In (row-major,
// stored first in p) and b of Out. Its input may have any shape: it is read
// as a vector of In = C·H·W values.
type Dense struct {
	Out int
	in  int
}

// NewDense returns a dense layer with out outputs and a bias.
func NewDense(out int) *Dense { return &Dense{Out: out} }

// Build implements Layer.
func (l *Dense) Build(in Shape, _ int) (Shape, error) {
	if l.Out < 1 || in.Size() < 1 {
		return Shape{}, fmt.Errorf("nn: dense %d→%d: sizes must be positive", in.Size(), l.Out)
	}
	l.in = in.Size()
	return Shape{l.Out, 1, 1}, nil
}

// NumParams implements Layer.
func (l *Dense) NumParams() int { return l.Out*l.in + l.Out }

// Init implements Layer.
func (l *Dense) Init(p []float64, r *rand.Rand) {
	kaiming(p[:l.Out*l.in], l.in, r)
	zero(p[l.Out*l.in:])
}

// Forward implements Layer.
func (l *Dense) Forward(p, x, y []float64, n int) {
	w, b := p[:l.Out*l.in], p[l.Out*l.in:]
	for s := 0; s < n; s++ {
		copy(y[s*l.Out:(s+1)*l.Out], b)
	}
	gemm(blas.NoTrans, blas.Trans, n, l.Out, l.in, 1, x, l.in, w, l.in, 1, y, l.Out)
}

// Backward implements Layer.
func (l *Dense) Backward(p, x, _, dy, dp, dx []float64, n int) {
	w := p[:l.Out*l.in]
	dw, db := dp[:l.Out*l.in], dp[l.Out*l.in:]
	gemm(blas.Trans, blas.NoTrans, l.Out, l.in, n, 1, dy, l.Out, x, l.in, 0, dw, l.in)
	zero(db)
	for s := 0; s < n; s++ {
		row := dy[s*l.Out : (s+1)*l.Out]
		for j, v := range row {
			db[j] += v
		}
	}
	if dx != nil {
		gemm(blas.NoTrans, blas.NoTrans, n, l.in, l.Out, 1, dy, l.Out, w, l.in, 0, dx, l.in)
	}
}
