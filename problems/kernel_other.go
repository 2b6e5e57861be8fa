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

// axpyRowsAsm reports false: gonum's Dgemv runs.
func axpyRowsAsm(dst, a, c []float64, nb, d int) bool { return false }

func (p *LogReg) marginsAsm(z *[rowBlock]float64, rows *[rowBlock]int, nb int, x []float64) bool {
	return false
}

func (p *LogReg) scatterAsm(dst []float64, c *[rowBlock]float64, rows *[rowBlock]int, nb int) bool {
	return false
}

// gradBinaryAsm does no rows here.
func (p *LogReg) gradBinaryAsm(dst, x []float64, inv float64) int { return 0 }

// softplusBlocksAsm adds no block: the Go loop runs.
func softplusBlocksAsm(t, e []float64, acc *[softplusLanes]float64) int { return 0 }
