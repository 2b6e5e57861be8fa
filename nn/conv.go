package nn

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
)

// Conv2d is a 2-D convolution (cross-correlation, as in every framework) of
// Cout filters of Cin×K×K with the given stride and zero padding, computed
// per sample as im2col followed by one GEMM: Y = W · col(X) (+ b), with W of
// Cout×(Cin·K·K) stored first in p, then b (Cout values) when Bias is set.
type Conv2d struct {
	Cout, K, Stride, Pad int
	Bias                 bool

	in, out Shape
	ckk     int
	col     []float64 // Cin·K·K × Ho·Wo
	dcol    []float64
	// cols keeps the patches of every sample of the last Forward for
	// Backward when they fit in colCacheMax values (nil otherwise: Backward
	// computes them again).
	cols []float64
}

// colCacheMax is the most values (8 bytes each) a convolution keeps to reuse
// its forward im2col in the backward pass.
const colCacheMax = 1 << 22

// NewConv2d returns a convolution with cout filters of k×k, stride and pad.
func NewConv2d(cout, k, stride, pad int, bias bool) *Conv2d {
	return &Conv2d{Cout: cout, K: k, Stride: stride, Pad: pad, Bias: bias}
}

// Build implements Layer.
func (l *Conv2d) Build(in Shape, maxBatch int) (Shape, error) {
	if l.Cout < 1 || l.K < 1 || l.Stride < 1 || l.Pad < 0 {
		return Shape{}, fmt.Errorf("nn: conv %d×%d stride %d pad %d to %d channels: bad geometry", l.K, l.K, l.Stride, l.Pad, l.Cout)
	}
	ho := (in.H+2*l.Pad-l.K)/l.Stride + 1
	wo := (in.W+2*l.Pad-l.K)/l.Stride + 1
	if ho < 1 || wo < 1 {
		return Shape{}, fmt.Errorf("nn: conv %d×%d on input %v gives no output", l.K, l.K, in)
	}
	l.in, l.out = in, Shape{l.Cout, ho, wo}
	l.ckk = in.C * l.K * l.K
	l.col = make([]float64, l.ckk*ho*wo)
	l.dcol = make([]float64, l.ckk*ho*wo)
	l.cols = nil
	if maxBatch*l.ckk*ho*wo <= colCacheMax {
		l.cols = make([]float64, maxBatch*l.ckk*ho*wo)
	}
	return l.out, nil
}

// NumParams implements Layer.
func (l *Conv2d) NumParams() int {
	if l.Bias {
		return l.Cout*l.ckk + l.Cout
	}
	return l.Cout * l.ckk
}

// Init implements Layer.
func (l *Conv2d) Init(p []float64, r *rand.Rand) {
	kaiming(p[:l.Cout*l.ckk], l.ckk, r)
	zero(p[l.Cout*l.ckk:])
}

// im2col writes the patches of one sample x (Cin×H×W) into col: row
// (c·K + i)·K + j, column oh·Wo + ow holds x[c, oh·S − P + i, ow·S − P + j]
// (0 outside the image).
func (l *Conv2d) im2col(x, col []float64) {
	H, W, Ho, Wo := l.in.H, l.in.W, l.out.H, l.out.W
	K, S, P := l.K, l.Stride, l.Pad
	row := 0
	for c := 0; c < l.in.C; c++ {
		xc := x[c*H*W : (c+1)*H*W]
		for i := 0; i < K; i++ {
			for j := 0; j < K; j++ {
				dst := col[row*Ho*Wo : (row+1)*Ho*Wo]
				for oh := 0; oh < Ho; oh++ {
					ih := oh*S - P + i
					d := dst[oh*Wo : (oh+1)*Wo]
					if ih < 0 || ih >= H {
						zero(d)
						continue
					}
					xr := xc[ih*W : (ih+1)*W]
					for ow := range d {
						iw := ow*S - P + j
						if iw >= 0 && iw < W {
							d[ow] = xr[iw]
						} else {
							d[ow] = 0
						}
					}
				}
				row++
			}
		}
	}
}

// col2im adds the patch gradients dcol back into dx (one sample, which the
// caller zeroed): the adjoint of im2col.
func (l *Conv2d) col2im(dcol, dx []float64) {
	H, W, Ho, Wo := l.in.H, l.in.W, l.out.H, l.out.W
	K, S, P := l.K, l.Stride, l.Pad
	row := 0
	for c := 0; c < l.in.C; c++ {
		xc := dx[c*H*W : (c+1)*H*W]
		for i := 0; i < K; i++ {
			for j := 0; j < K; j++ {
				src := dcol[row*Ho*Wo : (row+1)*Ho*Wo]
				for oh := 0; oh < Ho; oh++ {
					ih := oh*S - P + i
					if ih < 0 || ih >= H {
						continue
					}
					xr := xc[ih*W : (ih+1)*W]
					s := src[oh*Wo : (oh+1)*Wo]
					for ow, v := range s {
						iw := ow*S - P + j
						if iw >= 0 && iw < W {
							xr[iw] += v
						}
					}
				}
				row++
			}
		}
	}
}

// sampleCol is the im2col buffer of sample s.
func (l *Conv2d) sampleCol(s int) []float64 {
	if l.cols == nil {
		return l.col
	}
	n := len(l.col)
	return l.cols[s*n : (s+1)*n]
}

// Forward implements Layer.
func (l *Conv2d) Forward(p, x, y []float64, n int) {
	insz, outsz, hw := l.in.Size(), l.out.Size(), l.out.H*l.out.W
	w := p[:l.Cout*l.ckk]
	for s := 0; s < n; s++ {
		ys := y[s*outsz : (s+1)*outsz]
		col := l.sampleCol(s)
		l.im2col(x[s*insz:(s+1)*insz], col)
		gemm(blas.NoTrans, blas.NoTrans, l.Cout, hw, l.ckk, 1, w, l.ckk, col, hw, 0, ys, hw)
		if l.Bias {
			b := p[l.Cout*l.ckk:]
			for c := 0; c < l.Cout; c++ {
				yc := ys[c*hw : (c+1)*hw]
				for i := range yc {
					yc[i] += b[c]
				}
			}
		}
	}
}

// Backward implements Layer.
func (l *Conv2d) Backward(p, x, _, dy, dp, dx []float64, n int) {
	insz, outsz, hw := l.in.Size(), l.out.Size(), l.out.H*l.out.W
	w := p[:l.Cout*l.ckk]
	dw := dp[:l.Cout*l.ckk]
	zero(dw)
	var db []float64
	if l.Bias {
		db = dp[l.Cout*l.ckk:]
		zero(db)
	}
	for s := 0; s < n; s++ {
		dys := dy[s*outsz : (s+1)*outsz]
		col := l.sampleCol(s)
		if l.cols == nil {
			l.im2col(x[s*insz:(s+1)*insz], col)
		}
		gemm(blas.NoTrans, blas.Trans, l.Cout, l.ckk, hw, 1, dys, hw, col, hw, 1, dw, l.ckk)
		for c := 0; c < l.Cout && db != nil; c++ {
			sum := 0.0
			for _, v := range dys[c*hw : (c+1)*hw] {
				sum += v
			}
			db[c] += sum
		}
		if dx != nil {
			gemm(blas.Trans, blas.NoTrans, l.ckk, hw, l.Cout, 1, w, l.ckk, dys, hw, 0, l.dcol, hw)
			dxs := dx[s*insz : (s+1)*insz]
			zero(dxs)
			l.col2im(l.dcol, dxs)
		}
	}
}
