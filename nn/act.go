package nn

import "math/rand/v2"

// ReLU is y = max(x, 0), elementwise.
type ReLU struct{ size int }

// Build implements Layer.
func (l *ReLU) Build(in Shape, _ int) (Shape, error) { l.size = in.Size(); return in, nil }

// NumParams implements Layer.
func (l *ReLU) NumParams() int { return 0 }

// Init implements Layer.
func (l *ReLU) Init([]float64, *rand.Rand) {}

// Forward implements Layer.
func (l *ReLU) Forward(_, x, y []float64, n int) {
	x, y = x[:n*l.size], y[:n*l.size]
	for i, v := range x {
		y[i] = max(v, 0)
	}
}

// Backward implements Layer.
func (l *ReLU) Backward(_, _, y, dy, _, dx []float64, n int) {
	if dx == nil {
		return
	}
	y, dy, dx = y[:n*l.size], dy[:n*l.size], dx[:n*l.size]
	for i, v := range y {
		if v > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// Flatten reshapes C×H×W into a vector of C·H·W values (the data are already
// contiguous in NCHW order: it copies).
type Flatten struct{ size int }

// Build implements Layer.
func (l *Flatten) Build(in Shape, _ int) (Shape, error) {
	l.size = in.Size()
	return Shape{l.size, 1, 1}, nil
}

// NumParams implements Layer.
func (l *Flatten) NumParams() int { return 0 }

// Init implements Layer.
func (l *Flatten) Init([]float64, *rand.Rand) {}

// Forward implements Layer.
func (l *Flatten) Forward(_, x, y []float64, n int) { copy(y[:n*l.size], x[:n*l.size]) }

// Backward implements Layer.
func (l *Flatten) Backward(_, _, _, dy, _, dx []float64, n int) {
	if dx != nil {
		copy(dx[:n*l.size], dy[:n*l.size])
	}
}
