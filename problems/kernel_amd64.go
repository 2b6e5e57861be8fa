package problems

import (
	"math"

	"github.com/efmpi/efmpi/internal/x86"
)

// useAsm selects the AVX2 kernels (where x86.HasAVX2); tests switch it off
// to run the pure-Go twins on the same data and compare the bits.
var useAsm = x86.HasAVX2

//go:noescape
func lossCoefs16AVX2(z, b, t, e *[rowBlock]float64, inv float64, k *[coefConstsLen]float64) bool

// coefConsts are the constants of lossCoefs16AVX2, in the order it reads
// them: the very constants of expNonPosSlice.
var coefConsts = [coefConstsLen]float64{
	math.Copysign(0, -1), expNormalMin, expLog2e, 0.5, expLn2Hi, expLn2Lo, 1,
	expP1, expP2, expP3, expP4, expP5, math.Float64frombits(1023),
}

const coefConstsLen = 13

// lossCoefsAsm runs lossCoefs16AVX2 when the assembly kernels are in use and
// reports whether it did (false: the caller runs the Go code).
func lossCoefsAsm(z, b, t, e *[rowBlock]float64, inv float64) bool {
	return useAsm && lossCoefs16AVX2(z, b, t, e, inv, &coefConsts)
}

//go:noescape
func marginsBinary16(z *[rowBlock]float64, rows *[rowBlock]int, rowPtr *int, colIdx *int32, x *float64)

//go:noescape
func scatterBinary16(dst *float64, c *[rowBlock]float64, rows *[rowBlock]int, rowPtr *int, colIdx *int32)

// marginsBinaryAsm runs marginsBinary16 on a full block when the assembly
// kernels are in use and reports whether it did.
func (p *LogReg) marginsBinaryAsm(z *[rowBlock]float64, rows *[rowBlock]int, nb int, x []float64) bool {
	if !useAsm || nb != rowBlock || len(p.colIdx) == 0 {
		return false
	}
	marginsBinary16(z, rows, &p.rowPtr[0], &p.colIdx[0], &x[0])
	return true
}

// scatterBinaryAsm runs scatterBinary16 on a full block when the assembly
// kernels are in use and reports whether it did.
func (p *LogReg) scatterBinaryAsm(dst []float64, c *[rowBlock]float64, rows *[rowBlock]int, nb int) bool {
	if !useAsm || nb != rowBlock || len(p.colIdx) == 0 {
		return false
	}
	scatterBinary16(&dst[0], c, rows, &p.rowPtr[0], &p.colIdx[0])
	return true
}

//go:noescape
func axpyRowsAVX2(dst, a, c *float64, nb, d int)

// axpyRowsAsm adds a_Bᵀc to dst (a: nb rows of length d) with axpyRowsAVX2
// when the assembly kernels are in use and reports whether it did.
func axpyRowsAsm(dst, a, c []float64, nb, d int) bool {
	if !useAsm || nb < 1 || len(a) < nb*d || len(c) < nb || len(dst) < d {
		return false
	}
	axpyRowsAVX2(&dst[0], &a[0], &c[0], nb, d)
	return true
}

//go:noescape
func margins16(z *[rowBlock]float64, rows *[rowBlock]int, rowPtr *int, colIdx *int32, val, x *float64)

//go:noescape
func scatter16(dst *float64, c *[rowBlock]float64, rows *[rowBlock]int, rowPtr *int, colIdx *int32, val *float64)

// marginsAsm runs margins16 on a full block when the assembly kernels are in
// use and reports whether it did.
func (p *LogReg) marginsAsm(z *[rowBlock]float64, rows *[rowBlock]int, nb int, x []float64) bool {
	if !useAsm || nb != rowBlock || len(p.colIdx) == 0 {
		return false
	}
	margins16(z, rows, &p.rowPtr[0], &p.colIdx[0], &p.val[0], &x[0])
	return true
}

// scatterAsm runs scatter16 on a full block when the assembly kernels are in
// use and reports whether it did.
func (p *LogReg) scatterAsm(dst []float64, c *[rowBlock]float64, rows *[rowBlock]int, nb int) bool {
	if !useAsm || nb != rowBlock || len(p.colIdx) == 0 {
		return false
	}
	scatter16(&dst[0], c, rows, &p.rowPtr[0], &p.colIdx[0], &p.val[0])
	return true
}

//go:noescape
func gradBinaryBlocks(dst, x *float64, rowPtr *int, colIdx *int32, labels, t, e *float64, nblocks int, inv float64, k *[coefConstsLen]float64) int

// gradBinaryAsm runs the full pass of the gradient on 0/1 data over the
// leading full row blocks with gradBinaryBlocks (margins cache included)
// when the assembly kernels are in use, and returns the number of rows done:
// a multiple of rowBlock, fewer than the full blocks when a block has
// margins beyond ±708 (the Go loop takes over from there).
func (p *LogReg) gradBinaryAsm(dst, x []float64, inv float64) int {
	if !useAsm || len(p.colIdx) == 0 || p.m < rowBlock {
		return 0
	}
	n := gradBinaryBlocks(&dst[0], &x[0], &p.rowPtr[0], &p.colIdx[0], &p.labels[0], &p.t[0], &p.e[0],
		p.m/rowBlock, inv, &coefConsts)
	return n * rowBlock
}

//go:noescape
func softplusBlocksAVX2(t, e *float64, nblocks int, acc *[softplusLanes]float64, k *[spConstsLen]float64, inv, tab *[256]float64) int

// spConsts are the constants of softplusBlocksAVX2, in the order it reads
// them: the very constants of softplusTerms.
var spConsts = [spConstsLen]float64{0, 1, 1.0 / 128, 128, -1.0 / 2, 1.0 / 3, -1.0 / 4, 1.0 / 5, -1.0 / 6, 1.0 / 7, -1.0 / 8}

const spConstsLen = 11

// softplusBlocksAsm adds the full blocks of 16 terms at t and e into
// softplusSum's partial sums with softplusBlocksAVX2 when the assembly
// kernels are in use, up to the first block with an e outside [0, 1], and
// returns the number of blocks it added (0 without the kernels).
func softplusBlocksAsm(t, e []float64, acc *[softplusLanes]float64) int {
	nb := len(t) / 16
	if !useAsm || nb == 0 || len(e) < 16*nb {
		return 0
	}
	return softplusBlocksAVX2(&t[0], &e[0], nb, acc, &spConsts, &log1pInv, &log1pTab)
}
