package nn

// Tensors is the boundaries of the net's parameter tensors in x, as
// PyTorch's parameters() lists them: tensor t is x[b[t]:b[t+1]], b[0] = 0
// and the last entry is Dim. A dense layer or a convolution with bias has
// two tensors (weight, then bias), a batch norm two (γ, then β), a basic
// block those of conv1, bn1, conv2 and bn2 in order; layers without
// parameters add none.
func (n *Net[T]) Tensors() []int {
	b := []int{0}
	for i, l := range n.layers {
		b = appendTensors(b, l, n.offs[i])
	}
	return b
}

// appendTensors appends the ends of l's tensors, l's parameters starting at o.
func appendTensors[T Float](b []int, l Layer[T], o int) []int {
	switch l := l.(type) {
	case *Dense[T]:
		return append(b, o+l.Out*l.in, o+l.NumParams())
	case *Conv2d[T]:
		if l.Bias {
			return append(b, o+l.Cout*l.ckk, o+l.NumParams())
		}
		return append(b, o+l.NumParams())
	case *BatchNorm2d[T]:
		return append(b, o+l.in.C, o+l.NumParams())
	case *BasicBlock[T]:
		b = appendTensors[T](b, l.conv1, o)
		b = appendTensors[T](b, l.bn1, o+l.n1)
		b = appendTensors[T](b, l.conv2, o+l.n1+l.n2)
		return appendTensors[T](b, l.bn2, o+l.n1+l.n2+l.n3)
	}
	if k := l.NumParams(); k > 0 {
		return append(b, o+k) // a layer of another kind: one tensor
	}
	return b
}
