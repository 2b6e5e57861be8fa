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

//go:noescape
func collectAbove16(v *float64, nblocks, base int, above uint64, cand *int32, mags *float64, n, capn int) (blocks, count int)

// collectAsm runs collectAbove16 over the blocks of v (a multiple of 16
// long, not empty; v[0] has index base), appending to cand[n:] and mags[n:]
// up to len(mags) entries; it returns the entries of v done, the count, and
// false without AVX2.
func collectAsm(cand []int32, mags []float64, n int, v []float64, base int, tb uint64) (int, int, bool) {
	if !useAsm {
		return 0, n, false
	}
	b, n := collectAbove16(&v[0], len(v)/16, base, tb-1, &cand[0], &mags[0], n, len(mags))
	return 16 * b, n, true
}
