package nn

import (
	"github.com/efmpi/efmpi/internal/par"
	"github.com/efmpi/efmpi/nn/engine"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// gemmer computes C = op(A)·op(B), or C += op(A)·op(B) when acc is set, for
// row-major matrices (op(A) m×k, op(B) k×n, as engine.Gemm.Sgemm).
type gemmer[T Float] interface {
	gemm(tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, acc bool, c []T, ldc int)
}

// newGemmer returns the GEMM of precision T on pool: engine's float32 GEMM
// (one FMA chain per element in k order, whatever the pool), or gonum's
// float64 one (the reference; serial).
func newGemmer[T Float](pool *par.Pool) gemmer[T] {
	var z T
	switch any(z).(type) {
	case float32:
		return any(sgemm{engine.NewGemm(pool)}).(gemmer[T])
	default:
		return any(dgemm{}).(gemmer[T])
	}
}

type sgemm struct{ g *engine.Gemm }

func (s sgemm) gemm(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, acc bool, c []float32, ldc int) {
	s.g.Sgemm(tA, tB, m, n, k, a, lda, b, ldb, acc, c, ldc)
}

var impl gonum.Implementation

type dgemm struct{}

func (dgemm) gemm(tA, tB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, acc bool, c []float64, ldc int) {
	ta, tb, beta := blas.NoTrans, blas.NoTrans, 0.0
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	if acc {
		beta = 1
	}
	gemm64(ta, tb, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

// gemm64 computes C = alpha·op(A)·op(B) + beta·C (row-major, as blas.Dgemm)
// on the calling goroutine. gonum's Dgemm splits a large C into 64×64 blocks
// computed by goroutines, and allocates on every call: gemm64 instead
// computes C in tiles small enough (at most three 64-blocks) for gonum to run
// them serially, so a forward and backward pass allocates nothing. The
// tiling depends only on the sizes, so the bits are the same on every run.
func gemm64(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	const tm, tn = 64, 192
	if m == 0 || n == 0 {
		return
	}
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
