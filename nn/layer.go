package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Shape is the shape of one sample: C channels of H×W (a vector of n values
// is {n, 1, 1}).
type Shape struct{ C, H, W int }

// Size is C·H·W.
func (s Shape) Size() int { return s.C * s.H * s.W }

// String formats the shape as C×H×W.
func (s Shape) String() string { return fmt.Sprintf("%d×%d×%d", s.C, s.H, s.W) }

// Layer is one differentiable stage of a network. Its parameters live in a
// slice p the caller passes (NumParams values); the layer keeps only scratch
// space sized by Build.
type Layer interface {
	// Build fixes the input shape and the largest batch the layer will see,
	// allocates its scratch space and returns the output shape.
	Build(in Shape, maxBatch int) (Shape, error)
	// NumParams is the number of trainable parameters (valid after Build).
	NumParams() int
	// Init writes initial parameters into p (Kaiming normal for weights,
	// zeros for biases, ones and zeros for batch-norm scale and shift).
	Init(p []float64, r *rand.Rand)
	// Forward computes the output y of n samples x (n ≤ maxBatch).
	Forward(p, x, y []float64, n int)
	// Backward takes x and y of the last Forward and the gradient dy of the
	// loss with respect to y; it overwrites dp with the gradient with
	// respect to the parameters and, unless dx is nil, dx with the gradient
	// with respect to x.
	Backward(p, x, y, dy, dp, dx []float64, n int)
}

// kaiming fills w with N(0, 2/fanIn) draws (He et al. 2015, "fan_in" mode
// with the ReLU gain, as torch.nn.init.kaiming_normal_).
func kaiming(w []float64, fanIn int, r *rand.Rand) {
	std := math.Sqrt(2 / float64(fanIn))
	for i := range w {
		w[i] = std * r.NormFloat64()
	}
}

func zero(v []float64) {
	for i := range v {
		v[i] = 0
	}
}
