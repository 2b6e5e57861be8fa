//go:build !amd64

package problems

// useAsm is false where there are no assembly kernels.
var useAsm = false

// lossCoefsAsm reports false: the Go code runs.
func lossCoefsAsm(z, b, t, e *[rowBlock]float64, inv float64) bool { return false }

func (p *LogReg) marginsBinaryAsm(z *[rowBlock]float64, rows *[rowBlock]int, nb int, x []float64) bool {
	return false
}

func (p *LogReg) scatterBinaryAsm(dst []float64, c *[rowBlock]float64, rows *[rowBlock]int, nb int) bool {
	return false
}

// prefetchRows does nothing here.
func prefetchRows(a []float64, lo, hi int) {}
