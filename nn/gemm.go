package nn

import "gonum.org/v1/gonum/blas"

// gemm computes C = alpha·op(A)·op(B) + beta·C (row-major, as blas.Dgemm)
// on the calling goroutine. gonum's Dgemm splits a large C into 64×64 blocks
// computed by goroutines: for the small products of per-image convolutions
// that costs more than it gains, and it allocates on every call. gemm instead
// computes C in tiles small enough (at most three 64-blocks) for gonum to run
// them serially, so a forward and backward pass allocates nothing. A network
// thus uses one core; parallelism comes from the ranks (one goroutine or one
// process each). The tiling depends only on the sizes, so the bits are the
// same on every run.
func gemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	const tm, tn = 64, 192
	for i0 := 0; i0 < m; i0 += tm {
		mi := min(tm, m-i0)
		var ai []float64
		if tA == blas.Trans {
			ai = a[i0:]
		} else {
			ai = a[i0*lda:]
		}
		for j0 := 0; j0 < n; j0 += tn {
			nj := min(tn, n-j0)
			var bj []float64
			if tB == blas.Trans {
				bj = b[j0*ldb:]
			} else {
				bj = b[j0:]
			}
			impl.Dgemm(tA, tB, mi, nj, k, alpha, ai, lda, bj, ldb, beta, c[i0*ldc+j0:], ldc)
		}
	}
}
