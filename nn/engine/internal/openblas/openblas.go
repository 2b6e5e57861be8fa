//go:build openblas && cgo

package openblas

// #cgo CFLAGS: -I/usr/include/x86_64-linux-gnu/openblas-pthread
// #cgo LDFLAGS: -lopenblas
// #include <cblas.h>
import "C"

// Available reports whether Sgemm calls OpenBLAS (go test -tags
// openblas, with libopenblas-dev installed): the benchmarks compare with it.
const Available = true

// Sgemm is engine.Gemm.Sgemm by OpenBLAS's cblas_sgemm (row-major, α = 1,
// β = 0 or 1), for benchmarks only: its bits depend on the CPU's kernel and
// its threads (OPENBLAS_NUM_THREADS).
func Sgemm(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, acc bool, c []float32, ldc int) {
	ta, tb := C.enum_CBLAS_TRANSPOSE(C.CblasNoTrans), C.enum_CBLAS_TRANSPOSE(C.CblasNoTrans)
	if tA {
		ta = C.CblasTrans
	}
	if tB {
		tb = C.CblasTrans
	}
	beta := C.float(0)
	if acc {
		beta = 1
	}
	C.cblas_sgemm(C.CblasRowMajor, ta, tb, C.blasint(m), C.blasint(n), C.blasint(k), 1,
		(*C.float)(&a[0]), C.blasint(lda), (*C.float)(&b[0]), C.blasint(ldb), beta,
		(*C.float)(&c[0]), C.blasint(ldc))
}
