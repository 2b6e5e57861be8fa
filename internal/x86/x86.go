// Package x86 answers, once, whether the machine can run the AVX2 assembly
// kernels of problems and algorithms: the one place that reads the CPU's
// feature bits.
package x86
