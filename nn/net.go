package nn

import (
	"fmt"
	"math/rand/v2"
)

// Net is a sequence of layers computing in T, ending in logits over Classes,
// trained with the softmax cross-entropy. It owns scratch space for batches
// of up to MaxBatch samples, its threads and the batch-norm running
// statistics; the parameters are passed to every call.
type Net[T Float] struct {
	layers  []Layer[T]
	offs    []int   // offs[i]: first parameter of layer i; offs[len] = Dim
	shapes  []Shape // shapes[0] the input, shapes[i+1] the output of layer i
	input   []float64
	acts    [][]T
	dacts   [][]T
	dlogits []T
	classes int
	max     int
	e       *env[T]
	stats   []float64
}

// NewNet builds the layers in order for inputs of shape in and batches of at
// most maxBatch samples, computing on threads threads (at least 1); the last
// layer must output classes values.
func NewNet[T Float](in Shape, classes, maxBatch, threads int, layers ...Layer[T]) (*Net[T], error) {
	return newNet(newEnv[T](threads), in, classes, maxBatch, layers...)
}

func newNet[T Float](e *env[T], in Shape, classes, maxBatch int, layers ...Layer[T]) (*Net[T], error) {
	if maxBatch < 1 || classes < 2 || in.Size() < 1 {
		e.pool.Close()
		return nil, fmt.Errorf("nn: net on %v with %d classes and batch %d: need positive sizes and ≥ 2 classes", in, classes, maxBatch)
	}
	n := &Net[T]{layers: layers, classes: classes, max: maxBatch, shapes: []Shape{in}, offs: []int{0}, e: e}
	n.input = make([]float64, maxBatch*in.Size())
	n.acts = append(n.acts, make([]T, maxBatch*in.Size()))
	n.dacts = append(n.dacts, nil) // no gradient with respect to the data
	s := in
	for i, l := range layers {
		out, err := l.Build(s, maxBatch, n.e)
		if err != nil {
			n.Close()
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		s = out
		n.shapes = append(n.shapes, s)
		n.offs = append(n.offs, n.offs[i]+l.NumParams())
		n.acts = append(n.acts, make([]T, maxBatch*s.Size()))
		n.dacts = append(n.dacts, make([]T, maxBatch*s.Size()))
	}
	if s.Size() != classes {
		n.Close()
		return nil, fmt.Errorf("nn: the last layer gives %v, not %d logits", s, classes)
	}
	n.dlogits = n.dacts[len(layers)]
	// the running statistics of every batch norm, in layer order, in one slice
	for _, b := range n.e.bns {
		n.stats = append(n.stats, b.run...)
	}
	o := 0
	for _, b := range n.e.bns {
		b.run = n.stats[o : o+len(b.run) : o+len(b.run)]
		o += len(b.run)
	}
	return n, nil
}

// Close stops the net's threads; the net must not be used afterwards.
func (n *Net[T]) Close() { n.e.pool.Close() }

// Dim is the number of trainable parameters d.
func (n *Net[T]) Dim() int { return n.offs[len(n.layers)] }

// InShape is the shape of one input sample.
func (n *Net[T]) InShape() Shape { return n.shapes[0] }

// Classes is the number of logits.
func (n *Net[T]) Classes() int { return n.classes }

// MaxBatch is the largest batch the net accepts.
func (n *Net[T]) MaxBatch() int { return n.max }

// Threads is the number of threads the net computes on.
func (n *Net[T]) Threads() int { return n.e.threads() }

// Input is the buffer the caller fills with a batch (MaxBatch × InShape,
// NCHW) before Forward, Loss or LossGrad; they convert it to T.
func (n *Net[T]) Input() []float64 { return n.input }

// SetMode sets how batch normalisation treats the following passes (Train
// at first).
func (n *Net[T]) SetMode(m Mode) { n.e.mode = m }

// Stats is the running statistics of the batch norms (for each in layer
// order: the running means then the running variances of its channels): the
// net's own storage, which the caller may read and overwrite. Empty without
// batch norm.
func (n *Net[T]) Stats() []float64 { return n.stats }

// ResetStats sets the running statistics to their initial values (means 0,
// variances 1).
func (n *Net[T]) ResetStats() {
	for _, b := range n.e.bns {
		C := len(b.run) / 2
		for c := range C {
			b.run[c], b.run[C+c] = 0, 1
		}
	}
}

// Init writes the initial parameters of every layer into p (length Dim),
// drawing from r in layer order.
func (n *Net[T]) Init(p []float64, r *rand.Rand) {
	for i, l := range n.layers {
		l.Init(p[n.offs[i]:n.offs[i+1]], r)
	}
}

func (n *Net[T]) check(p []T, nb int) {
	if len(p) != n.Dim() || nb < 1 || nb > n.max {
		panic(fmt.Sprintf("nn: %d parameters for a net of %d, batch %d of at most %d", len(p), n.Dim(), nb, n.max))
	}
}

// Forward runs the first nb samples of Input through the net and returns the
// logits (nb × Classes; they alias the net's scratch space).
func (n *Net[T]) Forward(p []T, nb int) []T {
	n.check(p, nb)
	in := n.acts[0][:nb*n.shapes[0].Size()]
	for i, v := range n.input[:len(in)] {
		in[i] = T(v)
	}
	for i, l := range n.layers {
		l.Forward(p[n.offs[i]:n.offs[i+1]], n.acts[i], n.acts[i+1], nb)
	}
	return n.acts[len(n.layers)][:nb*n.classes]
}

// Loss returns the mean cross-entropy of the first nb samples of Input with
// the given labels, and how many are classified correctly.
func (n *Net[T]) Loss(p []T, labels []int32, nb int) (float64, int) {
	z := n.Forward(p, nb)
	return SoftmaxCrossEntropy(z, labels, nb, n.classes, nil)
}

// LossGrad is Loss that also writes the gradient of the mean loss with
// respect to p into grad (length Dim).
func (n *Net[T]) LossGrad(p, grad []T, labels []int32, nb int) (float64, int) {
	z := n.Forward(p, nb)
	loss, correct := SoftmaxCrossEntropy(z, labels, nb, n.classes, n.dlogits)
	for i := len(n.layers) - 1; i >= 0; i-- {
		lo, hi := n.offs[i], n.offs[i+1]
		var dx []T
		if i > 0 {
			dx = n.dacts[i]
		}
		n.layers[i].Backward(p[lo:hi], n.acts[i], n.acts[i+1], n.dacts[i+1], grad[lo:hi], dx, nb)
	}
	return loss, correct
}
