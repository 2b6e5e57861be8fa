package problems

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// The gradient kernels as they were before the speed work of issue 12, kept
// to check the current ones against bit for bit and to measure them against
// in the same benchmark run.

// rowBlockBefore was the row block of the kernels.
const rowBlockBefore = 16

// gradBefore is Grad with the kernels of before issue 12.
func gradBefore(p *LogReg, dst, x []float64) {
	clear(dst)
	if p.dense != nil {
		p.denseLossBefore(dst, x, nil, p.m)
	} else {
		p.sparseLossBefore(dst, x, nil, p.m)
	}
	p.addRegGrad(dst, x)
}

// valueBefore is Value as it was before issue 12 (a second pass, one row at
// a time).
func valueBefore(p *LogReg, x []float64) float64 {
	var s float64
	for j := range p.m {
		s += Softplus(-p.labels[j] * p.rowDot(j, x))
	}
	return s/float64(p.m) + p.regValue(x)
}

func lossCoefsBefore(z *[rowBlockBefore]float64, rows *[rowBlockBefore]int, labels []float64, n int, inv float64) {
	var e [rowBlockBefore]float64
	for i := range n {
		b := labels[rows[i]]
		t := -b * z[i]
		z[i] = t
		e[i] = -math.Abs(t)
	}
	expNonPosSlice(e[:n])
	for i := range n {
		b := labels[rows[i]]
		num := e[i]
		if z[i] >= 0 {
			num = 1
		}
		z[i] = -b * inv * num / (1 + e[i])
	}
}

func (p *LogReg) sparseLossBefore(dst, x []float64, batch []int32, count int) {
	inv := 1 / float64(count)
	var rows [rowBlockBefore]int
	var coef [rowBlockBefore]float64
	for i0 := 0; i0 < count; i0 += rowBlockBefore {
		nb := min(rowBlockBefore, count-i0)
		for b := range nb {
			r := i0 + b
			if batch != nil {
				r = int(batch[r])
			}
			rows[b] = r
		}
		if p.binary {
			p.marginsBinaryBefore(&coef, &rows, nb, x)
		} else {
			p.marginsBefore(&coef, &rows, nb, x)
		}
		lossCoefsBefore(&coef, &rows, p.labels, nb, inv)
		if p.binary {
			p.scatterBinaryBefore(dst, &coef, &rows, nb)
		} else {
			p.scatterBefore(dst, &coef, &rows, nb)
		}
	}
}

// margins sets z[b] = a_rᵀx for the rows r = rows[b], b < nb, each with four
// partial sums combined in a fixed order.
func (p *LogReg) marginsBefore(z *[rowBlockBefore]float64, rows *[rowBlockBefore]int, nb int, x []float64) {
	rowPtr, colIdx, val := p.rowPtr, p.colIdx, p.val
	for b, r := range rows[:nb] {
		lo, hi := rowPtr[r], rowPtr[r+1]
		z[b] = sparseDot(colIdx[lo:hi], val[lo:hi], x)
	}
}

// scatter adds c[b]·a_r to dst for the rows r = rows[b], b < nb.
func (p *LogReg) scatterBefore(dst []float64, c *[rowBlockBefore]float64, rows *[rowBlockBefore]int, nb int) {
	rowPtr, colIdx, val := p.rowPtr, p.colIdx, p.val
	for b, r := range rows[:nb] {
		lo, hi := rowPtr[r], rowPtr[r+1]
		cols := colIdx[lo:hi]
		vals := val[lo:hi]
		vals = vals[:len(cols)]
		cb := c[b]
		k := 0
		for ; k+4 <= len(cols); k += 4 {
			c4, v4 := cols[k:k+4:k+4], vals[k:k+4:k+4]
			dst[c4[0]] += cb * v4[0]
			dst[c4[1]] += cb * v4[1]
			dst[c4[2]] += cb * v4[2]
			dst[c4[3]] += cb * v4[3]
		}
		for ; k < len(cols); k++ {
			dst[cols[k]] += cb * vals[k]
		}
	}
}

// marginsBinary is margins for a matrix whose stored values are all 1: the
// values are not read. Since 1·x = x exactly, it gives the same bits.
func (p *LogReg) marginsBinaryBefore(z *[rowBlockBefore]float64, rows *[rowBlockBefore]int, nb int, x []float64) {
	rowPtr, colIdx := p.rowPtr, p.colIdx
	for b, r := range rows[:nb] {
		cols := colIdx[rowPtr[r]:rowPtr[r+1]]
		var s0, s1, s2, s3 float64
		k := 0
		for ; k+4 <= len(cols); k += 4 {
			c4 := cols[k : k+4 : k+4]
			s0 += x[c4[0]]
			s1 += x[c4[1]]
			s2 += x[c4[2]]
			s3 += x[c4[3]]
		}
		for ; k < len(cols); k++ {
			s0 += x[cols[k]]
		}
		z[b] = (s0 + s1) + (s2 + s3)
	}
}

// scatterBinary is scatter for a matrix whose stored values are all 1: the
// values are not read. Since c·1 = c exactly, it gives the same bits.
func (p *LogReg) scatterBinaryBefore(dst []float64, c *[rowBlockBefore]float64, rows *[rowBlockBefore]int, nb int) {
	rowPtr, colIdx := p.rowPtr, p.colIdx
	for b, r := range rows[:nb] {
		cols := colIdx[rowPtr[r]:rowPtr[r+1]]
		cb := c[b]
		k := 0
		for ; k+4 <= len(cols); k += 4 {
			c4 := cols[k : k+4 : k+4]
			dst[c4[0]] += cb
			dst[c4[1]] += cb
			dst[c4[2]] += cb
			dst[c4[3]] += cb
		}
		for ; k < len(cols); k++ {
			dst[cols[k]] += cb
		}
	}
}

// denseLoss is sparseLoss for a dense row-major matrix. A block of rows is an
// nb×d matrix A_B, so its margins z = A_B x and its contribution dst += A_Bᵀc
// are two matrix-vector products (gonum's Dgemv, vectorised assembly on
// amd64). For a minibatch the rows are first gathered into a contiguous
// buffer, so a minibatch of all rows in order gives Grad's bits exactly.
func (p *LogReg) denseLossBefore(dst, x []float64, batch []int32, count int) {
	inv := 1 / float64(count)
	d := p.d
	data, labels := p.dense, p.labels
	var impl gonum.Implementation
	var rows [rowBlockBefore]int
	var coefArr [rowBlockBefore]float64
	coef := coefArr[:]
	block := max(1, min(rowBlockBefore, 4096/d))
	for i0 := 0; i0 < count; i0 += block {
		nb := min(block, count-i0)
		var a []float64
		if batch == nil {
			for b := range nb {
				rows[b] = i0 + b
			}
			a = data[i0*d : (i0+nb)*d]
		} else {
			a = p.buf[:nb*d]
			for b := range nb {
				r := int(batch[i0+b])
				rows[b] = r
				copy(a[b*d:(b+1)*d], data[r*d:(r+1)*d])
			}
		}
		impl.Dgemv(blas.NoTrans, nb, d, 1, a, d, x, 1, 0, coef[:nb], 1)
		lossCoefsBefore(&coefArr, &rows, labels, nb, inv)
		impl.Dgemv(blas.Trans, nb, d, 1, a, d, coef[:nb], 1, 1, dst, 1)
	}
}

// softplusSumBefore is softplusSum as it was before the blocked loop: one
// term at a time, max(t, 0) by a comparison (BenchmarkSoftplusSumInterleaved).
func softplusSumBefore(t, e []float64) float64 {
	e = e[:len(t)]
	var s float64
	for j, tj := range t {
		pos := 0.0
		if tj > 0 {
			pos = tj
		}
		x := e[j]
		u := 1 + x
		k := int((u - 1) * 128)
		if !(x >= 0 && x <= 1) || uint(k) > 128 {
			s += pos + math.Log1p(x)
			continue
		}
		c := x - (u - 1)
		fj := 1 + float64(k)*(1.0/128)
		r := ((u - fj) + c) * log1pInv[k]
		q := -1.0/2 + r*(1.0/3+r*(-1.0/4+r*(1.0/5+r*(-1.0/6+r*(1.0/7+r*(-1.0/8))))))
		s += pos + (log1pTab[k] + (r + r*r*q))
	}
	return s
}
