// Package engine is the arithmetic below package nn: a single-precision GEMM
// whose bits are defined independently of blocking, threads and CPU, and the
// elementwise kernels of the layers. Every assembly kernel has a pure-Go twin
// that gives the same bits, tested against it.
//
// The GEMM's definition (the contract every implementation keeps): element
// c[i][j] of C = op(A)·op(B) is one chain of float32 fused multiply-adds over
// l = 0, 1, …, k−1 in order, c ← fma(a[i][l], b[l][j], c), starting from 0, or
// from the old c[i][j] when acc is set. Splitting k into consecutive blocks
// with acc therefore gives the same bits as one call.
package engine
