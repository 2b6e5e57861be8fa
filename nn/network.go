package nn

import (
	"fmt"
	"math/rand/v2"
)

// Precisions accepted by New.
const (
	Float32 = "float32"
	Float64 = "float64"
)

// Network is a Net of either precision behind the float64 vectors of the
// optimiser: Load converts x into the net's parameters once, the passes run
// in the net's precision, and the gradient comes back as float64.
type Network interface {
	// Dim is the number of trainable parameters d.
	Dim() int
	// InShape is the shape of one input sample.
	InShape() Shape
	// Classes is the number of logits.
	Classes() int
	// MaxBatch is the largest batch the net accepts.
	MaxBatch() int
	// Threads is the number of threads the net computes on.
	Threads() int
	// Precision is Float32 or Float64.
	Precision() string
	// Init writes the initial parameters into p (length Dim).
	Init(p []float64, r *rand.Rand)
	// Input is the buffer to fill with a batch (NCHW) before a pass.
	Input() []float64
	// Load sets the parameters of the following passes to x (rounded to
	// the net's precision).
	Load(x []float64)
	// Loss is the mean cross-entropy of the first nb samples of Input and
	// the number classified correctly, at the loaded parameters.
	Loss(labels []int32, nb int) (float64, int)
	// LossGrad is Loss that also computes the gradient (see Grad and AddGrad).
	LossGrad(labels []int32, nb int) (float64, int)
	// Grad writes the gradient of the last LossGrad into dst (float64).
	Grad(dst []float64)
	// AddGrad adds w times the gradient of the last LossGrad to dst.
	AddGrad(dst []float64, w float64)
	// SetMode sets how batch normalisation treats the following passes.
	SetMode(m Mode)
	// Stats is the running statistics of the batch norms (Net.Stats).
	Stats() []float64
	// ResetStats sets them to their initial values.
	ResetStats()
	// Close stops the net's threads.
	Close()
}

// New builds a model by name (see NewOf) in the given precision ("float32"
// or "float64") on threads threads.
func New(model, precision string, in Shape, classes, maxBatch int, widths []int, threads int) (Network, error) {
	switch precision {
	case Float32:
		net, err := NewOf[float32](model, in, classes, maxBatch, widths, threads)
		if err != nil {
			return nil, err
		}
		return newModel(net, Float32), nil
	case Float64:
		net, err := NewOf[float64](model, in, classes, maxBatch, widths, threads)
		if err != nil {
			return nil, err
		}
		return newModel(net, Float64), nil
	}
	return nil, fmt.Errorf("nn: unknown precision %q (want %s or %s)", precision, Float32, Float64)
}

// model is a Net with its parameters and gradient in T.
type model[T Float] struct {
	*Net[T]
	precision string
	p, g      []T
}

func newModel[T Float](net *Net[T], precision string) *model[T] {
	return &model[T]{Net: net, precision: precision, p: make([]T, net.Dim()), g: make([]T, net.Dim())}
}

func (m *model[T]) Precision() string { return m.precision }

func (m *model[T]) Load(x []float64) {
	p := m.p[:len(x)]
	for i, v := range x {
		p[i] = T(v)
	}
}

func (m *model[T]) Loss(labels []int32, nb int) (float64, int) { return m.Net.Loss(m.p, labels, nb) }

func (m *model[T]) LossGrad(labels []int32, nb int) (float64, int) {
	return m.Net.LossGrad(m.p, m.g, labels, nb)
}

func (m *model[T]) Grad(dst []float64) {
	for i, v := range m.g[:len(dst)] {
		dst[i] = float64(v)
	}
}

func (m *model[T]) AddGrad(dst []float64, w float64) {
	g := m.g[:len(dst)]
	for i, v := range g {
		dst[i] += w * float64(v)
	}
}
