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

// Normalize is batch normalisation's forward pass over one channel's values:
// h = (x[i] − mean)·inv into xh[i], and g·h + b into y[i], or max(g·h + b, 0)
// with relu, each operation rounded to float32 (no fused multiply-add), for
// i < len(x).
func Normalize(x, xh, y []float32, mean, inv, g, b float32, relu bool) {
	xh, y = xh[:len(x)], y[:len(x)]
	i := normalizeAsm(x, xh, y, mean, inv, g, b, relu)
	NormalizeGo(x[i:], xh[i:], y[i:], mean, inv, g, b, relu)
}

// NormalizeGo is Normalize's pure-Go twin (the explicit conversions forbid
// fusing a multiply and an add).
func NormalizeGo(x, xh, y []float32, mean, inv, g, b float32, relu bool) {
	xh, y = xh[:len(x)], y[:len(x)]
	for i, v := range x {
		h := float32(v-mean) * inv
		xh[i] = h
		t := float32(g*h) + b
		if relu {
			t = max(t, 0)
		}
		y[i] = t
	}
}

// NormalizeBack is batch normalisation's input gradient over one channel's
// values: dx[i] = k·((dy[i] − mdy) − xh[i]·mdyx), each operation rounded to
// float32, for i < len(dy).
func NormalizeBack(dy, xh, dx []float32, k, mdy, mdyx float32) {
	xh, dx = xh[:len(dy)], dx[:len(dy)]
	i := normalizeBackAsm(dy, xh, dx, k, mdy, mdyx)
	NormalizeBackGo(dy[i:], xh[i:], dx[i:], k, mdy, mdyx)
}

// NormalizeBackGo is NormalizeBack's pure-Go twin.
func NormalizeBackGo(dy, xh, dx []float32, k, mdy, mdyx float32) {
	xh, dx = xh[:len(dy)], dx[:len(dy)]
	for i, d := range dy {
		dx[i] = k * (float32(d-mdy) - float32(xh[i]*mdyx))
	}
}

// AddRelu writes max(a[i] + b[i], 0) into y[i] for i < len(a) (Go's max:
// max(−0, 0) is +0, a NaN stays NaN): a residual sum and its ReLU, or with b
// nil the ReLU of a alone.
func AddRelu(a, b, y []float32) {
	y = y[:len(a)]
	if b != nil {
		b = b[:len(a)]
	}
	i := addReluAsm(a, b, y)
	if b != nil {
		b = b[i:]
	}
	AddReluGo(a[i:], b, y[i:])
}

// AddReluGo is AddRelu's pure-Go twin.
func AddReluGo(a, b, y []float32) {
	y = y[:len(a)]
	if b == nil {
		for i, v := range a {
			y[i] = max(v, 0)
		}
		return
	}
	b = b[:len(a)]
	for i, v := range a {
		y[i] = max(v+b[i], 0)
	}
}
