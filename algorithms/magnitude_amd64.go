package algorithms

import "github.com/efmpi/efmpi/internal/x86"

// useAsm selects the AVX2 scan of nextBlockAbove; tests switch it off to
// compare the Go loop.
var useAsm = x86.HasAVX2

//go:noescape
func aboveBlock16(v *float64, nblocks int, bits uint64) int

// aboveAsm runs aboveBlock16 over the blocks of v (a multiple of 16 long,
// not empty) and reports the first block's offset, or false without AVX2.
func aboveAsm(v []float64, bits uint64) (int, bool) {
	if !useAsm {
		return 0, false
	}
	return 16 * aboveBlock16(&v[0], len(v)/16, bits), true
}
