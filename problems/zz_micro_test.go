package problems

import (
	"testing"
	"unsafe"
)

func microSetup(b *testing.B) (*LogReg, []float64, []float64) {
	ds := loadLIBSVM(b, "a9a")
	p, _ := NewLogReg(ds, lambda)
	b.SetBytes(csrBytes(ds))
	return p, randVec(p.Dim(), 0.1, 1), make([]float64, p.Dim())
}

func BenchmarkMicroDotOnly(b *testing.B) {
	p, x, _ := microSetup(b)
	var tot float64
	for b.Loop() {
		for r := range p.m {
			lo, hi := p.rowPtr[r], p.rowPtr[r+1]
			tot += sparseDot(p.colIdx[lo:hi], p.val[lo:hi], x)
		}
	}
	if tot == 0.5 {
		b.Log(tot)
	}
}

func BenchmarkMicroDotUnsafe(b *testing.B) {
	p, x, _ := microSetup(b)
	var tot float64
	xp := unsafe.Pointer(&x[0])
	for b.Loop() {
		for r := range p.m {
			lo, hi := p.rowPtr[r], p.rowPtr[r+1]
			cols := p.colIdx[lo:hi]
			vals := p.val[lo:hi]
			vals = vals[:len(cols)]
			var s0, s1, s2, s3 float64
			k := 0
			for ; k+4 <= len(cols); k += 4 {
				c4, v4 := cols[k:k+4:k+4], vals[k:k+4:k+4]
				s0 += v4[0] * *(*float64)(unsafe.Add(xp, uintptr(c4[0])*8))
				s1 += v4[1] * *(*float64)(unsafe.Add(xp, uintptr(c4[1])*8))
				s2 += v4[2] * *(*float64)(unsafe.Add(xp, uintptr(c4[2])*8))
				s3 += v4[3] * *(*float64)(unsafe.Add(xp, uintptr(c4[3])*8))
			}
			for ; k < len(cols); k++ {
				s0 += vals[k] * x[cols[k]]
			}
			tot += (s0 + s1) + (s2 + s3)
		}
	}
	if tot == 0.5 {
		b.Log(tot)
	}
}

func BenchmarkMicroAxpyOnly(b *testing.B) {
	p, _, dst := microSetup(b)
	for b.Loop() {
		for r := range p.m {
			lo, hi := p.rowPtr[r], p.rowPtr[r+1]
			cols := p.colIdx[lo:hi]
			vals := p.val[lo:hi]
			vals = vals[:len(cols)]
			c := p.labels[r] * 1e-6
			for k, col := range cols {
				dst[col] += c * vals[k]
			}
		}
	}
}

func BenchmarkMicroCoefOnly(b *testing.B) {
	p, _, _ := microSetup(b)
	var tot float64
	for b.Loop() {
		for r := range p.m {
			tot += lossCoef(p.labels[r], float64(r&15)*0.1, 1e-5)
		}
	}
	if tot == 0.5 {
		b.Log(tot)
	}
}
