package nn

import (
	"fmt"
	"math/rand/v2"
)

// Model names accepted by New.
const (
	ModelMLP      = "mlp"
	ModelLeNet    = "lenet"
	ModelResNet20 = "resnet20"
)

// NewOf builds a model by name, computing in T on threads threads, for inputs
// of shape in with classes outputs and batches of up to maxBatch samples:
//
//   - "mlp": dense layers of the given hidden widths with ReLU between them,
//     then a dense layer to the classes (no hidden layer: softmax regression);
//   - "lenet": LeNet-5 style for 1×28×28: conv 5×5 (6, pad 2) → ReLU → max
//     pool 2 → conv 5×5 (16) → ReLU → max pool 2 → dense 120 → ReLU → dense
//     84 → ReLU → dense classes (61 706 parameters for 10 classes);
//   - "resnet20": He et al. (2016) for CIFAR: conv 3×3 (16) → BN → ReLU, three
//     stages of three basic blocks with 16, 32, 64 channels (the first block
//     of stages 2 and 3 has stride 2 and an option-A shortcut), global
//     average pooling, dense classes (269 722 parameters for 3×32×32 and 10
//     classes). Convolutions have no bias (batch norm follows each).
func NewOf[T Float](model string, in Shape, classes, maxBatch int, widths []int, threads int) (*Net[T], error) {
	layers, err := modelLayers[T](model, classes, widths)
	if err != nil {
		return nil, err
	}
	return NewNet(in, classes, maxBatch, threads, layers...)
}

// modelLayers are the layers of a model by name (see NewOf).
func modelLayers[T Float](model string, classes int, widths []int) ([]Layer[T], error) {
	var layers []Layer[T]
	switch model {
	case ModelMLP:
		for _, w := range widths {
			if w < 1 {
				return nil, fmt.Errorf("nn: mlp width %d must be positive", w)
			}
			layers = append(layers, NewDense[T](w), &ReLU[T]{})
		}
		layers = append(layers, NewDense[T](classes))
	case ModelLeNet:
		layers = []Layer[T]{
			NewConv2d[T](6, 5, 1, 2, true), &ReLU[T]{}, NewMaxPool2d[T](2),
			NewConv2d[T](16, 5, 1, 0, true), &ReLU[T]{}, NewMaxPool2d[T](2),
			&Flatten[T]{}, NewDense[T](120), &ReLU[T]{}, NewDense[T](84), &ReLU[T]{}, NewDense[T](classes),
		}
	case ModelResNet20:
		layers = []Layer[T]{NewConv2d[T](16, 3, 1, 1, false), NewBatchNormReLU[T]()}
		for stage, ch := range []int{16, 32, 64} {
			for b := 0; b < 3; b++ {
				stride := 1
				if stage > 0 && b == 0 {
					stride = 2
				}
				layers = append(layers, NewBasicBlock[T](ch, stride))
			}
		}
		layers = append(layers, &GlobalAvgPool[T]{}, NewDense[T](classes))
	default:
		return nil, fmt.Errorf("nn: unknown model %q (want %s, %s or %s)", model, ModelMLP, ModelLeNet, ModelResNet20)
	}
	if model != ModelMLP && len(widths) > 0 {
		return nil, fmt.Errorf("nn: widths apply to the mlp only, not %s", model)
	}
	return layers, nil
}

// BasicBlock is the residual block of ResNet for CIFAR (He et al. 2016 §4.2):
// y = ReLU(BN(conv3×3(ReLU(BN(conv3×3_s(x))))) + shortcut(x)). The shortcut
// is the identity, or, when the stride is 2 or the channels change, option A:
// x subsampled by taking every other row and column and padded with zero
// channels, (Cout − Cin)/2 on each side (as the authors' PyTorch code).
type BasicBlock[T Float] struct {
	Cout, Stride int

	conv1, conv2 *Conv2d[T]
	bn1, bn2     *BatchNorm2d[T]
	in, out      Shape
	n1, n2, n3   int // parameter counts of conv1, bn1, conv2 (bn2 follows)
	// activations: a1 = conv1 x, a3 = relu(bn1 a1) (fused), a4 = conv2 a3,
	// a5 = bn2 a4; y = relu(a5 + shortcut x). d* hold their gradients.
	a1, a3, a4, a5 []T
	d2, d3, d4     []T
	padLo          int
}

// NewBasicBlock returns a basic block to cout channels with the given stride
// of its first convolution.
func NewBasicBlock[T Float](cout, stride int) *BasicBlock[T] {
	return &BasicBlock[T]{Cout: cout, Stride: stride}
}

// Build implements Layer.
func (b *BasicBlock[T]) Build(in Shape, maxBatch int, e *env[T]) (Shape, error) {
	b.in = in
	b.conv1 = NewConv2d[T](b.Cout, 3, b.Stride, 1, false)
	b.conv2 = NewConv2d[T](b.Cout, 3, 1, 1, false)
	b.bn1, b.bn2 = NewBatchNormReLU[T](), &BatchNorm2d[T]{}
	s, err := b.conv1.Build(in, maxBatch, e)
	if err != nil {
		return Shape{}, err
	}
	if _, err := b.bn1.Build(s, maxBatch, e); err != nil {
		return Shape{}, err
	}
	if _, err := b.conv2.Build(s, maxBatch, e); err != nil {
		return Shape{}, err
	}
	b.bn2.Build(s, maxBatch, e)
	b.out = s
	if b.Cout < in.C || (b.Cout-in.C)%2 != 0 {
		return Shape{}, fmt.Errorf("nn: basic block %d→%d channels: option A needs Cout ≥ Cin with an even difference", in.C, b.Cout)
	}
	if b.Stride != 1 && (in.H+1)/2 != s.H {
		return Shape{}, fmt.Errorf("nn: basic block stride %d on %v", b.Stride, in)
	}
	b.padLo = (b.Cout - in.C) / 2
	b.n1, b.n2, b.n3 = b.conv1.NumParams(), b.bn1.NumParams(), b.conv2.NumParams()
	sz := maxBatch * s.Size()
	for _, p := range []*[]T{&b.a1, &b.a3, &b.a4, &b.a5, &b.d2, &b.d3, &b.d4} {
		*p = make([]T, sz)
	}
	return s, nil
}

// NumParams implements Layer.
func (b *BasicBlock[T]) NumParams() int { return b.n1 + b.n2 + b.n3 + b.bn2.NumParams() }

// split cuts a block's parameters (or their gradient) into those of conv1,
// bn1, conv2 and bn2.
func split[T any](b interface{ counts() (int, int, int) }, p []T) (c1, n1, c2, n2 []T) {
	o1, o2, o3 := b.counts()
	return p[:o1], p[o1:o2], p[o2:o3], p[o3:]
}

func (b *BasicBlock[T]) counts() (int, int, int) { return b.n1, b.n1 + b.n2, b.n1 + b.n2 + b.n3 }

// Init implements Layer.
func (b *BasicBlock[T]) Init(p []float64, r *rand.Rand) {
	c1, n1, c2, n2 := split(b, p)
	b.conv1.Init(c1, r)
	b.bn1.Init(n1, r)
	b.conv2.Init(c2, r)
	b.bn2.Init(n2, r)
}

// identity reports whether the shortcut is the identity.
func (b *BasicBlock[T]) identity() bool { return b.Stride == 1 && b.in.C == b.Cout }

// Forward implements Layer.
func (b *BasicBlock[T]) Forward(p, x, y []T, n int) {
	c1, n1, c2, n2 := split(b, p)
	b.conv1.Forward(c1, x, b.a1, n)
	b.bn1.Forward(n1, b.a1, b.a3, n)
	b.conv2.Forward(c2, b.a3, b.a4, n)
	b.bn2.Forward(n2, b.a4, b.a5, n)
	osz := b.out.Size()
	if b.identity() {
		addRelu(b.a5[:n*osz], x, y)
		return
	}
	C, H, W := b.in.C, b.in.H, b.in.W
	Ho, Wo, S := b.out.H, b.out.W, b.Stride
	for s := 0; s < n; s++ {
		for c := 0; c < b.Cout; c++ {
			ci := c - b.padLo
			for h := 0; h < Ho; h++ {
				o := ((s*b.Cout+c)*Ho + h) * Wo
				for w := 0; w < Wo; w++ {
					v := b.a5[o+w]
					if ci >= 0 && ci < C {
						v += x[((s*C+ci)*H+h*S)*W+w*S]
					}
					y[o+w] = max(v, 0)
				}
			}
		}
	}
}

// Backward implements Layer.
func (b *BasicBlock[T]) Backward(p, x, y, dy, dp, dx []T, n int) {
	c1, n1, c2, n2 := split(b, p)
	g1, gn1, g2, gn2 := split(b, dp)
	osz := b.out.Size()
	// dz = dy·[y > 0] is the gradient at a5 and at the shortcut's output.
	dz := b.d4
	reluBack(y[:n*osz], dy, dz)
	b.bn2.Backward(n2, b.a4, b.a5, dz, gn2, b.d3, n)
	b.conv2.Backward(c2, b.a3, b.a4, b.d3, g2, b.d2, n)
	b.bn1.Backward(n1, b.a1, b.a3, b.d2, gn1, b.d2, n)
	b.conv1.Backward(c1, x, b.a1, b.d2, g1, dx, n)
	if dx == nil {
		return
	}
	if b.identity() {
		addTo(dx, dz[:n*osz])
		return
	}
	C, H, W := b.in.C, b.in.H, b.in.W
	Ho, Wo, S := b.out.H, b.out.W, b.Stride
	for s := 0; s < n; s++ {
		for ci := 0; ci < C; ci++ {
			c := ci + b.padLo
			for h := 0; h < Ho; h++ {
				o := ((s*b.Cout+c)*Ho + h) * Wo
				for w := 0; w < Wo; w++ {
					dx[((s*C+ci)*H+h*S)*W+w*S] += dz[o+w]
				}
			}
		}
	}
}
