package engine

import "github.com/efmpi/efmpi/internal/par"

// Gemm computes single-precision matrix products on a pool of threads. It
// owns the packing buffers of every thread, so a product allocates nothing.
// A Gemm is used by one caller at a time.
type Gemm struct {
	pool *par.Pool
}

// NewGemm returns a Gemm running on pool (nil: the calling goroutine only).
func NewGemm(pool *par.Pool) *Gemm { return &Gemm{pool: pool} }

// Pool is the pool the Gemm runs on.
func (g *Gemm) Pool() *par.Pool { return g.pool }

// Sgemm computes C = op(A)·op(B), or C += op(A)·op(B) when acc is set, for
// row-major float32 matrices: op(A) is m×k (A itself k×m when tA), op(B) is
// k×n (B itself n×k when tB), C is m×n with row stride ldc. The bits follow
// the package's contract whatever the pool's thread count.
func (g *Gemm) Sgemm(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, acc bool, c []float32, ldc int) {
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
