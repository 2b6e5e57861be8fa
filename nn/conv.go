package nn

import (
	"fmt"
	"math/rand/v2"
)

// colBudget is the most values of one im2col block (by default): a chunk of
// images whose patches are unrolled together into one GEMM (at least one
// image).
const colBudget = 1 << 17

// Conv2d is a 2-D convolution (cross-correlation, as in every framework) of
// Cout filters of Cin×K×K with the given stride and zero padding, with W of
// Cout×(Cin·K·K) stored first in p, then b (Cout values) when Bias is set.
//
// The images of a batch are taken in chunks of Chunk: the patches of a chunk
// are unrolled side by side (im2col, Cin·K·K rows of Chunk·Ho·Wo columns) and
// multiplied by W in one GEMM. Forward and the input gradient split the
// chunks among the net's threads (each output value is one chain over
// Cin·K·K, or over Cout, whatever the chunk); the weight gradient is one
// chain over the images in order, continued across chunks (acc), on the
// net's GEMM split by output tiles. Neither the chunk size nor the thread
// count changes a bit.
type Conv2d[T Float] struct {
	Cout, K, Stride, Pad int
	Bias                 bool
	// Chunk is the number of images per GEMM (set by Build from colBudget
	// when 0).
	Chunk int

	in, out Shape
	ckk, hw int
	e       *env[T]
	// per slot (one per thread): the patches of a chunk, their gradient,
	// and the chunk's output or output gradient as Cout × Chunk·Ho·Wo
	col, dcol, yc [][]T
	// arguments of the parallel loops
	p, x, y, dy, dx []T
	n, first        int
	fwd, bwd, dbias func(item, thread int)
}

// NewConv2d returns a convolution with cout filters of k×k, stride and pad.
func NewConv2d[T Float](cout, k, stride, pad int, bias bool) *Conv2d[T] {
	return &Conv2d[T]{Cout: cout, K: k, Stride: stride, Pad: pad, Bias: bias}
}

// Build implements Layer.
func (l *Conv2d[T]) Build(in Shape, maxBatch int, e *env[T]) (Shape, error) {
	if l.Cout < 1 || l.K < 1 || l.Stride < 1 || l.Pad < 0 {
		return Shape{}, fmt.Errorf("nn: conv %d×%d stride %d pad %d to %d channels: bad geometry", l.K, l.K, l.Stride, l.Pad, l.Cout)
	}
	ho := (in.H+2*l.Pad-l.K)/l.Stride + 1
	wo := (in.W+2*l.Pad-l.K)/l.Stride + 1
	if ho < 1 || wo < 1 {
		return Shape{}, fmt.Errorf("nn: conv %d×%d on input %v gives no output", l.K, l.K, in)
	}
	l.in, l.out, l.e = in, Shape{l.Cout, ho, wo}, e
	l.ckk, l.hw = in.C*l.K*l.K, ho*wo
	if l.Chunk < 1 {
		l.Chunk = max(1, e.colBudget/(l.ckk*l.hw))
	}
	// enough chunks for every thread
	l.Chunk = max(1, min(l.Chunk, (maxBatch+e.threads()-1)/e.threads()))
	ld := l.Chunk * l.hw
	l.col, l.dcol, l.yc = nil, nil, nil
	for range e.threads() {
		l.col = append(l.col, make([]T, l.ckk*ld))
		l.dcol = append(l.dcol, make([]T, l.ckk*ld))
		l.yc = append(l.yc, make([]T, l.Cout*ld))
	}
	l.fwd, l.bwd, l.dbias = l.forwardChunk, l.backwardChunk, l.biasGrad
	return l.out, nil
}

// NumParams implements Layer.
func (l *Conv2d[T]) NumParams() int {
	if l.Bias {
		return l.Cout*l.ckk + l.Cout
	}
	return l.Cout * l.ckk
}

// Init implements Layer.
func (l *Conv2d[T]) Init(p []float64, r *rand.Rand) {
	kaiming(p[:l.Cout*l.ckk], l.ckk, r)
	clear(p[l.Cout*l.ckk:])
}

// im2col writes the patches of one sample x (Cin×H×W) into the columns
// off…off+Ho·Wo−1 of col (row stride ld): row (c·K + i)·K + j, column
// off + oh·Wo + ow holds x[c, oh·S − P + i, ow·S − P + j] (0 outside the
// image).
func (l *Conv2d[T]) im2col(x, col []T, off, ld int) {
	H, W, Ho, Wo := l.in.H, l.in.W, l.out.H, l.out.W
	K, S, P := l.K, l.Stride, l.Pad
	if S == 1 && Ho == H && Wo == W {
		l.im2colSame(x, col, off, ld)
		return
	}
	row := 0
	for c := 0; c < l.in.C; c++ {
		xc := x[c*H*W : (c+1)*H*W]
		for i := 0; i < K; i++ {
			for j := 0; j < K; j++ {
				dst := col[row*ld+off : row*ld+off+Ho*Wo]
				for oh := 0; oh < Ho; oh++ {
					ih := oh*S - P + i
					d := dst[oh*Wo : (oh+1)*Wo]
					if ih < 0 || ih >= H {
						clear(d)
						continue
					}
					xr := xc[ih*W : (ih+1)*W]
					if S == 1 {
						// columns ow with 0 ≤ ow − P + j < W
						lo, hi := max(0, P-j), min(Wo, W+P-j)
						if lo >= hi {
							clear(d)
							continue
						}
						clear(d[:lo])
						copy(d[lo:hi], xr[lo-P+j:hi-P+j])
						clear(d[hi:])
						continue
					}
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

// im2colSame is im2col for stride 1 and "same" padding (output H×W): row
// (c, i, j) is the image shifted by (i − P)·W + (j − P) values, one copy,
// with the rows and columns that fall outside the image zeroed.
func (l *Conv2d[T]) im2colSame(x, col []T, off, ld int) {
	H, W, K, P := l.in.H, l.in.W, l.K, l.Pad
	hw := H * W
	row := 0
	for c := 0; c < l.in.C; c++ {
		xc := x[c*hw : (c+1)*hw]
		for i := 0; i < K; i++ {
			di := i - P
			r0, r1 := max(0, -di), min(H, H-di) // output rows inside the image
			for j := 0; j < K; j++ {
				dj := j - P
				dst := col[row*ld+off : row*ld+off+hw]
				row++
				if r0 >= r1 {
					clear(dst)
					continue
				}
				shift := di*W + dj
				q0, q1 := max(r0*W, -shift), min(r1*W, hw-shift)
				clear(dst[:q0])
				copy(dst[q0:q1], xc[q0+shift:q1+shift])
				clear(dst[q1:])
				// columns outside the image
				if dj < 0 {
					for r := r0; r < r1; r++ {
						clear(dst[r*W : r*W-dj])
					}
				} else if dj > 0 {
					for r := r0; r < r1; r++ {
						clear(dst[(r+1)*W-dj : (r+1)*W])
					}
				}
			}
		}
	}
}

// col2im adds the patch gradients in columns off…off+Ho·Wo−1 of dcol back
// into dx (one sample, which the caller zeroed): the adjoint of im2col.
func (l *Conv2d[T]) col2im(dcol []T, off, ld int, dx []T) {
	H, W, Ho, Wo := l.in.H, l.in.W, l.out.H, l.out.W
	if l.Stride == 1 && Ho == H && Wo == W {
		l.col2imSame(dcol, off, ld, dx)
		return
	}
	l.col2imRows(dcol, off, ld, dx)
}

// col2imRows is col2im row by row of the output: any geometry.
func (l *Conv2d[T]) col2imRows(dcol []T, off, ld int, dx []T) {
	H, W, Ho, Wo := l.in.H, l.in.W, l.out.H, l.out.W
	K, S, P := l.K, l.Stride, l.Pad
	row := 0
	for c := 0; c < l.in.C; c++ {
		xc := dx[c*H*W : (c+1)*H*W]
		for i := 0; i < K; i++ {
			for j := 0; j < K; j++ {
				src := dcol[row*ld+off : row*ld+off+Ho*Wo]
				for oh := 0; oh < Ho; oh++ {
					ih := oh*S - P + i
					if ih < 0 || ih >= H {
						continue
					}
					xr := xc[ih*W : (ih+1)*W]
					s := src[oh*Wo : (oh+1)*Wo]
					if S == 1 {
						lo, hi := max(0, P-j), min(Wo, W+P-j)
						if lo < hi {
							addTo(xr[lo-P+j:hi-P+j], s[lo:hi])
						}
						continue
					}
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

// col2imSame is col2im for stride 1 and "same" padding, the adjoint of
// im2colSame: row (c, i, j) is added to the image shifted by (i − P)·W +
// (j − P) values in one contiguous run, after its entries whose columns fall
// outside the image are overwritten with −0 (dcol is scratch). Adding −0
// leaves every value's bits as they are (+0 included), so each element of dx
// gets the same additions in the same order as col2im's row by row loop.
func (l *Conv2d[T]) col2imSame(dcol []T, off, ld int, dx []T) {
	H, W, K, P := l.in.H, l.in.W, l.K, l.Pad
	hw := H * W
	var zero T
	negz := -zero
	row := 0
	for c := 0; c < l.in.C; c++ {
		xc := dx[c*hw : (c+1)*hw]
		for i := 0; i < K; i++ {
			di := i - P
			r0, r1 := max(0, -di), min(H, H-di) // output rows inside the image
			for j := 0; j < K; j++ {
				dj := j - P
				src := dcol[row*ld+off : row*ld+off+hw]
				row++
				if r0 >= r1 {
					continue
				}
				if dj < 0 {
					for r := r0; r < r1; r++ {
						for q := r * W; q < r*W-dj; q++ {
							src[q] = negz
						}
					}
				} else if dj > 0 {
					for r := r0; r < r1; r++ {
						for q := (r+1)*W - dj; q < (r+1)*W; q++ {
							src[q] = negz
						}
					}
				}
				shift := di*W + dj
				q0, q1 := max(r0*W, -shift), min(r1*W, hw-shift)
				if q0 < q1 {
					addTo(xc[q0+shift:q1+shift], src[q0:q1])
				}
			}
		}
	}
}

// chunk returns the images [lo, hi) of chunk c of a batch of l.n.
func (l *Conv2d[T]) chunk(c int) (lo, hi int) {
	lo = c * l.Chunk
	return lo, min(lo+l.Chunk, l.n)
}

func (l *Conv2d[T]) chunks(n int) int { return (n + l.Chunk - 1) / l.Chunk }

// forwardChunk computes the outputs of chunk c on thread t.
func (l *Conv2d[T]) forwardChunk(c, t int) {
	lo, hi := l.chunk(c)
	insz, outsz, hw := l.in.Size(), l.out.Size(), l.hw
	ld := (hi - lo) * hw
	col, yc := l.col[t], l.yc[t]
	for s := lo; s < hi; s++ {
		l.im2col(l.x[s*insz:(s+1)*insz], col, (s-lo)*hw, ld)
	}
	if hi-lo == 1 {
		// one image: Cout × Ho·Wo is its output's own layout
		yc = l.y[lo*outsz : hi*outsz]
	}
	l.e.serial[t].gemm(false, false, l.Cout, ld, l.ckk, l.p, l.ckk, col, ld, false, yc, ld)
	for s := lo; s < hi; s++ {
		for o := 0; o < l.Cout; o++ {
			dst := l.y[s*outsz+o*hw : s*outsz+(o+1)*hw]
			if hi-lo > 1 {
				copy(dst, yc[o*ld+(s-lo)*hw:])
			}
			if l.Bias {
				b := l.p[l.Cout*l.ckk+o]
				for i := range dst {
					dst[i] += b
				}
			}
		}
	}
}

// Forward implements Layer.
func (l *Conv2d[T]) Forward(p, x, y []T, n int) {
	l.p, l.x, l.y, l.n = p, x, y, n
	l.e.each(l.chunks(n), l.fwd)
	l.p, l.x, l.y = nil, nil, nil
}

// backwardChunk unrolls chunk first+j into slot j (its patches in col, its
// output gradient in yc) and, unless dx is nil, computes the chunk's input
// gradient.
func (l *Conv2d[T]) backwardChunk(j, _ int) {
	lo, hi := l.chunk(l.first + j)
	insz, outsz, hw := l.in.Size(), l.out.Size(), l.hw
	ld := (hi - lo) * hw
	col, yc := l.col[j], l.ycOf(j)
	for s := lo; s < hi; s++ {
		l.im2col(l.x[s*insz:(s+1)*insz], col, (s-lo)*hw, ld)
		if hi-lo > 1 {
			for o := 0; o < l.Cout; o++ {
				copy(yc[o*ld+(s-lo)*hw:o*ld+(s-lo+1)*hw], l.dy[s*outsz+o*hw:])
			}
		}
	}
	if l.dx == nil {
		return
	}
	dcol := l.dcol[j]
	l.e.serial[j].gemm(true, false, l.ckk, ld, l.Cout, l.p, l.ckk, yc, ld, false, dcol, ld)
	for s := lo; s < hi; s++ {
		dxs := l.dx[s*insz : (s+1)*insz]
		clear(dxs)
		l.col2im(dcol, (s-lo)*hw, ld, dxs)
	}
}

// ycOf is the output gradient of chunk first+j as Cout × Chunk·Ho·Wo: slot
// j's copy, or for a chunk of one image that image's own slice of dy (the
// same layout).
func (l *Conv2d[T]) ycOf(j int) []T {
	lo, hi := l.chunk(l.first + j)
	if hi-lo == 1 {
		return l.dy[lo*l.out.Size() : hi*l.out.Size()]
	}
	return l.yc[j]
}

// biasGrad sums the output gradient of channel o over the images in order.
func (l *Conv2d[T]) biasGrad(o, _ int) {
	outsz, hw := l.out.Size(), l.hw
	var sum T
	for s := 0; s < l.n; s++ {
		for _, v := range l.dy[s*outsz+o*hw : s*outsz+(o+1)*hw] {
			sum += v
		}
	}
	l.dx[l.Cout*l.ckk+o] = sum // dx holds dp during the loop
}

// Backward implements Layer.
func (l *Conv2d[T]) Backward(p, x, _, dy, dp, dx []T, n int) {
	l.p, l.x, l.dy, l.dx, l.n = p, x, dy, dx, n
	dw := dp[:l.Cout*l.ckk]
	nc, slots := l.chunks(n), len(l.col)
	for first := 0; first < nc; first += slots {
		k := min(slots, nc-first)
		l.first = first
		l.e.each(k, l.bwd)
		// the weight gradient: the chunks' images in order, one chain
		for j := 0; j < k; j++ {
			lo, hi := l.chunk(first + j)
			ld := (hi - lo) * l.hw
			l.e.gemm.gemm(false, true, l.Cout, l.ckk, ld, l.ycOf(j), ld, l.col[j], ld, first+j > 0, dw, l.ckk)
		}
	}
	if l.Bias {
		l.dx = dp
		l.e.each(l.Cout, l.dbias)
	}
	l.p, l.x, l.dy, l.dx = nil, nil, nil, nil
}
