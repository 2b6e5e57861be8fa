package engine

import "github.com/efmpi/efmpi/internal/par"

// Sgemm computes C = op(A)·op(B), or C += op(A)·op(B) when acc is set, for
// row-major float32 matrices: op(A) is m×k (A itself k×m when tA), op(B) is
// k×n (B itself n×k when tB), C is m×n with row stride ldc. The bits follow
// the package's contract whatever pool (nil: the calling goroutine) runs it.
func Sgemm(p *par.Pool, tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, acc bool, c []float32, ldc int) {
	sgemmRef(tA, tB, m, n, k, a, lda, b, ldb, acc, c, ldc)
}

// sgemmRef is the naive definition: one FMA32 chain per element.
func sgemmRef(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, acc bool, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			if acc {
				s = c[i*ldc+j]
			}
			for l := 0; l < k; l++ {
				var av, bv float32
				if tA {
					av = a[l*lda+i]
				} else {
					av = a[i*lda+l]
				}
				if tB {
					bv = b[j*ldb+l]
				} else {
					bv = b[l*ldb+j]
				}
				s = FMA32(av, bv, s)
			}
			c[i*ldc+j] = s
		}
	}
}
