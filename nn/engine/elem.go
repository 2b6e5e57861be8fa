package engine

import "math"

// AddTo adds src to dst elementwise: dst[i] += src[i] for i < len(src). Each
// element is one float32 addition, so the vector kernel and AddToGo give the
// same bits.
func AddTo(dst, src []float32) {
	dst = dst[:len(src)]
	i := addToAsm(dst, src)
	AddToGo(dst[i:], src[i:])
}

// AddToGo is AddTo's pure-Go twin.
func AddToGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += v
	}
}

// ReluBack writes dy[i] where y[i] > 0, else +0, into dx[i] for i < len(y)
// (a NaN y gives 0): the gradient of y = max(x, 0) taken at its output.
func ReluBack(y, dy, dx []float32) {
	dy, dx = dy[:len(y)], dx[:len(y)]
	i := reluBackAsm(y, dy, dx)
	ReluBackGo(y[i:], dy[i:], dx[i:])
}

// ReluBackGo is ReluBack's pure-Go twin, without branches: the mask is all
// ones exactly when the bits of y lie in [1, 0x7f800000], the positive
// numbers up to +Inf.
func ReluBackGo(y, dy, dx []float32) {
	dy, dx = dy[:len(y)], dx[:len(y)]
	for i, v := range y {
		b := math.Float32bits(v)
		m := uint32((int64(b-1) - 0x7f800000) >> 63)
		dx[i] = math.Float32frombits(math.Float32bits(dy[i]) & m)
	}
}
