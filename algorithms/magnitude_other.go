//go:build !amd64

package algorithms

// useAsm is false off amd64: nextBlockAbove runs its Go loop.
var useAsm = false

// aboveAsm reports false: the Go loop runs.
func aboveAsm(v []float64, bits uint64) (int, bool) { return 0, false }

// collectAsm reports false: the Go loop runs.
func collectAsm(cand []int32, mags []float64, n int, v []float64, base int, tb uint64) (int, int, bool) {
	return 0, n, false
}
