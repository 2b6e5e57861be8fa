package problems

import (
	"testing"
)

func microSetup(b *testing.B) (*LogReg, []float64, []float64) {
	ds := loadLIBSVM(b, "a9a")
	p, _ := NewLogReg(ds, lambda)
	b.SetBytes(csrBytes(ds))
	return p, randVec(p.Dim(), 0.1, 1), make([]float64, p.Dim())
}

func BenchmarkMicroScatter1(b *testing.B) {
	p, _, dst := microSetup(b)
	var rows [rowBlock]int
	var c [rowBlock]float64
	for i := range c {
		c[i] = float64(i) * 1e-7
	}
	for b.Loop() {
		for i0 := 0; i0 < p.m; i0 += rowBlock {
			nb := min(rowBlock, p.m-i0)
			for k := range nb {
				rows[k] = i0 + k
			}
			p.scatterBinary(dst, &c, &rows, nb)
		}
	}
}

func BenchmarkMicroScatter2(b *testing.B) {
	p, _, dst := microSetup(b)
	dst2 := make([]float64, len(dst))
	var rows [rowBlock]int
	var c [rowBlock]float64
	for i := range c {
		c[i] = float64(i) * 1e-7
	}
	for b.Loop() {
		for i0 := 0; i0 < p.m; i0 += rowBlock {
			nb := min(rowBlock, p.m-i0)
			for k := range nb {
				rows[k] = i0 + k
			}
			scatter2(p, dst, dst2, &c, &rows, nb)
		}
	}
}

func scatter2(p *LogReg, dst, dst2 []float64, c *[rowBlock]float64, rows *[rowBlock]int, nb int) {
	rowPtr, colIdx := p.rowPtr, p.colIdx
	for b, r := range rows[:nb] {
		cols := colIdx[rowPtr[r]:rowPtr[r+1]]
		cb := c[b]
		d := dst
		if b&1 == 1 {
			d = dst2
		}
		k := 0
		for ; k+4 <= len(cols); k += 4 {
			c4 := cols[k : k+4 : k+4]
			d[c4[0]] += cb
			d[c4[1]] += cb
			d[c4[2]] += cb
			d[c4[3]] += cb
		}
		for ; k < len(cols); k++ {
			d[cols[k]] += cb
		}
	}
}

func BenchmarkMicroMargins(b *testing.B) {
	p, x, _ := microSetup(b)
	var rows [rowBlock]int
	var c [rowBlock]float64
	for b.Loop() {
		for i0 := 0; i0 < p.m; i0 += rowBlock {
			nb := min(rowBlock, p.m-i0)
			for k := range nb {
				rows[k] = i0 + k
			}
			p.marginsBinary(&c, &rows, nb, x)
		}
	}
}

func BenchmarkMicroCoefs(b *testing.B) {
	p, _, _ := microSetup(b)
	var rows [rowBlock]int
	var c [rowBlock]float64
	for b.Loop() {
		for i0 := 0; i0 < p.m; i0 += rowBlock {
			nb := min(rowBlock, p.m-i0)
			for k := range nb {
				rows[k] = i0 + k
				c[k] = float64(k) * 0.1
			}
			lossCoefs(&c, &rows, p.labels, nb, 1e-5)
		}
	}
}
