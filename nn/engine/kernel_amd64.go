package engine

import "github.com/efmpi/efmpi/internal/x86"

// sgemm4x24AVX2 is kernel.run for kernAVX2 (mr = 4, nr = 24): a 4×24 tile of
// C in twelve ymm accumulators, one lane per element, VFMADD231PS per step of
// k. bstride and ldc are in elements.
//
//go:noescape
func sgemm4x24AVX2(kc int, a, b *float32, bstride int, c *float32, ldc int, load bool)

// sgemm8x32AVX512 is kernel.run for kernAVX512 (mr = 8, nr = 32): an 8×32
// tile of C in sixteen zmm accumulators.
//
//go:noescape
func sgemm8x32AVX512(kc int, a, b *float32, bstride int, c *float32, ldc int, load bool)

// asmKernels lists the assembly kernels this CPU runs, fastest last.
func asmKernels() []kernel {
	var ks []kernel
	if x86.HasAVX2 && x86.HasFMA {
		ks = append(ks, kernAVX2)
		if x86.HasAVX512 {
			ks = append(ks, kernAVX512)
		}
	}
	return ks
}

// bestKernel is the fastest kernel the CPU runs.
func bestKernel() kernel {
	ks := asmKernels()
	if len(ks) == 0 {
		return kernGo
	}
	return ks[len(ks)-1]
}

func runAsm(k kernel, kc int, a, b *float32, bstride int, c *float32, ldc int, load bool) {
	if k == kernAVX512 {
		sgemm8x32AVX512(kc, a, b, bstride, c, ldc, load)
		return
	}
	sgemm4x24AVX2(kc, a, b, bstride, c, ldc, load)
}
