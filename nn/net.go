package nn

import (
	"fmt"
	"math/rand/v2"
)

// Net is a sequence of layers ending in logits over Classes, trained with the
// softmax cross-entropy. It owns scratch space for batches of up to MaxBatch
// samples; the parameters are passed to every call.
type Net struct {
	layers  []Layer
	offs    []int   // offs[i]: first parameter of layer i; offs[len] = Dim
	shapes  []Shape // shapes[0] the input, shapes[i+1] the output of layer i
	acts    [][]float64
	dacts   [][]float64
	dlogits []float64
	classes int
	max     int
}

// NewNet builds the layers in order for inputs of shape in and batches of at
// most maxBatch samples; the last layer must output classes values.
func NewNet(in Shape, classes, maxBatch int, layers ...Layer) (*Net, error) {
	if maxBatch < 1 || classes < 2 || in.Size() < 1 {
		return nil, fmt.Errorf("nn: net on %v with %d classes and batch %d: need positive sizes and ≥ 2 classes", in, classes, maxBatch)
	}
	n := &Net{layers: layers, classes: classes, max: maxBatch, shapes: []Shape{in}, offs: []int{0}}
	n.acts = append(n.acts, make([]float64, maxBatch*in.Size()))
	n.dacts = append(n.dacts, nil) // no gradient with respect to the data
	s := in
	for i, l := range layers {
		out, err := l.Build(s, maxBatch)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		s = out
		n.shapes = append(n.shapes, s)
		n.offs = append(n.offs, n.offs[i]+l.NumParams())
		n.acts = append(n.acts, make([]float64, maxBatch*s.Size()))
		n.dacts = append(n.dacts, make([]float64, maxBatch*s.Size()))
	}
	if s.Size() != classes {
		return nil, fmt.Errorf("nn: the last layer gives %v, not %d logits", s, classes)
	}
	n.dlogits = n.dacts[len(layers)]
	return n, nil
}

// Dim is the number of trainable parameters d.
func (n *Net) Dim() int { return n.offs[len(n.layers)] }

// InShape is the shape of one input sample.
func (n *Net) InShape() Shape { return n.shapes[0] }

// Classes is the number of logits.
func (n *Net) Classes() int { return n.classes }

// MaxBatch is the largest batch the net accepts.
func (n *Net) MaxBatch() int { return n.max }

// Input is the buffer the caller fills with a batch (MaxBatch × InShape,
// NCHW) before Forward, Loss or LossGrad.
func (n *Net) Input() []float64 { return n.acts[0] }

// Init writes the initial parameters of every layer into p (length Dim),
// drawing from r in layer order.
func (n *Net) Init(p []float64, r *rand.Rand) {
	for i, l := range n.layers {
		l.Init(p[n.offs[i]:n.offs[i+1]], r)
	}
}

func (n *Net) check(p []float64, nb int) {
	if len(p) != n.Dim() || nb < 1 || nb > n.max {
		panic(fmt.Sprintf("nn: %d parameters for a net of %d, batch %d of at most %d", len(p), n.Dim(), nb, n.max))
	}
}

// Forward runs the first nb samples of Input through the net and returns the
// logits (nb × Classes; they alias the net's scratch space).
func (n *Net) Forward(p []float64, nb int) []float64 {
	n.check(p, nb)
	for i, l := range n.layers {
		l.Forward(p[n.offs[i]:n.offs[i+1]], n.acts[i], n.acts[i+1], nb)
	}
	return n.acts[len(n.layers)][:nb*n.classes]
}

// Loss returns the mean cross-entropy of the first nb samples of Input with
// the given labels, and how many are classified correctly.
func (n *Net) Loss(p []float64, labels []int32, nb int) (float64, int) {
	z := n.Forward(p, nb)
	return SoftmaxCrossEntropy(z, labels, nb, n.classes, nil)
}

// LossGrad is Loss that also writes the gradient of the mean loss with
// respect to p into grad (length Dim).
func (n *Net) LossGrad(p, grad []float64, labels []int32, nb int) (float64, int) {
	z := n.Forward(p, nb)
	loss, correct := SoftmaxCrossEntropy(z, labels, nb, n.classes, n.dlogits)
	for i := len(n.layers) - 1; i >= 0; i-- {
		lo, hi := n.offs[i], n.offs[i+1]
		var dx []float64
		if i > 0 {
			dx = n.dacts[i]
		}
		n.layers[i].Backward(p[lo:hi], n.acts[i], n.acts[i+1], n.dacts[i+1], grad[lo:hi], dx, nb)
	}
	return loss, correct
}
