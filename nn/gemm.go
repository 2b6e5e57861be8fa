package nn

import "gonum.org/v1/gonum/blas"

// gemm computes C = alpha·op(A)·op(B) + beta·C (row-major, as blas.Dgemm).
// gonum's Dgemm splits C into 64×64 blocks computed by goroutines; for the
// small products of per-image convolutions that costs more than it gains, and
// allocates. So when a block would hold less than parWork multiply-adds,
// gemm computes C in tiles small enough for gonum to run serially (at most
// three 64-blocks each), allocating nothing. The choice depends only on the
// sizes, so the arithmetic, and its bits, are the same on every run.
func gemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if min(m, 64)*min(n, 64)*k >= parWork {
		impl.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
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

// parWork is the multiply-adds per 64×64 block below which gemm stays serial.
const parWork = 64 * 64 * 32
