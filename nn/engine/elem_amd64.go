package engine

import "github.com/efmpi/efmpi/internal/x86"

// addTo8AVX2 adds n8 blocks of eight floats of src to dst.
//
//go:noescape
func addTo8AVX2(dst, src *float32, n8 int)

// reluBack8AVX2 is ReluBack for n8 blocks of eight floats.
//
//go:noescape
func reluBack8AVX2(y, dy, dx *float32, n8 int)

// addToAsm runs the vector kernel on the largest multiple of 8 elements and
// returns it (0 without AVX2). The caller has made dst as long as src.
func addToAsm(dst, src []float32) int {
	n8 := len(src) / 8
	if !x86.HasAVX2 || n8 == 0 {
		return 0
	}
	addTo8AVX2(&dst[0], &src[0], n8)
	return 8 * n8
}

// reluBackAsm is addToAsm for ReluBack (dy and dx as long as y).
func reluBackAsm(y, dy, dx []float32) int {
	n8 := len(y) / 8
	if !x86.HasAVX2 || n8 == 0 {
		return 0
	}
	reluBack8AVX2(&y[0], &dy[0], &dx[0], n8)
	return 8 * n8
}

// normalize8AVX2 is Normalize for n8 blocks of eight floats.
//
//go:noescape
func normalize8AVX2(x, xh, y *float32, n8 int, mean, inv, gamma, beta float32, relu bool)

// normalizeBack8AVX2 is NormalizeBack for n8 blocks of eight floats.
//
//go:noescape
func normalizeBack8AVX2(dy, xh, dx *float32, n8 int, k, mdy, mdyx float32)

// normalizeAsm is addToAsm for Normalize (xh and y as long as x).
func normalizeAsm(x, xh, y []float32, mean, inv, g, b float32, relu bool) int {
	n8 := len(x) / 8
	if !x86.HasAVX2 || n8 == 0 {
		return 0
	}
	normalize8AVX2(&x[0], &xh[0], &y[0], n8, mean, inv, g, b, relu)
	return 8 * n8
}

// normalizeBackAsm is addToAsm for NormalizeBack (xh and dx as long as dy).
func normalizeBackAsm(dy, xh, dx []float32, k, mdy, mdyx float32) int {
	n8 := len(dy) / 8
	if !x86.HasAVX2 || n8 == 0 {
		return 0
	}
	normalizeBack8AVX2(&dy[0], &xh[0], &dx[0], n8, k, mdy, mdyx)
	return 8 * n8
}

// addRelu8AVX2 is AddRelu for n8 blocks of eight floats (b nil: no sum).
//
//go:noescape
func addRelu8AVX2(a, b, y *float32, n8 int)

// addReluAsm is addToAsm for AddRelu (b nil or, like y, as long as a).
func addReluAsm(a, b, y []float32) int {
	n8 := len(a) / 8
	if !x86.HasAVX2 || n8 == 0 {
		return 0
	}
	var pb *float32
	if b != nil {
		pb = &b[0]
	}
	addRelu8AVX2(&a[0], pb, &y[0], n8)
	return 8 * n8
}
