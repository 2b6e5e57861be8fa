// Package x86 answers, once, whether the machine can run the AVX2, FMA and
// AVX-512 assembly kernels of problems, algorithms and nn/engine: the one
// place that reads the CPU's feature bits.
package x86
