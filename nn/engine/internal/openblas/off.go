//go:build !(openblas && cgo)

// Package openblas calls OpenBLAS's cblas_sgemm for the benchmarks of
// nn/engine, and only with the openblas build tag (go test -tags openblas,
// libopenblas-dev installed): nothing else in efmpi needs OpenBLAS.
package openblas

// Available is false without the openblas build tag: the benchmarks skip
// OpenBLAS.
const Available = false

// Sgemm panics: efmpi was built without the openblas tag.
func Sgemm(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, acc bool, c []float32, ldc int) {
	panic("openblas: built without the openblas tag")
}
