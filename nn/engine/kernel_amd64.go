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

// transpose8AVX2 is packT's step for eight lines and 8·blocks columns.
//
//go:noescape
func transpose8AVX2(dst *float32, w int, src *float32, ld int, blocks int)

// transpose8 runs transpose8AVX2 for the largest multiple of 8 columns ≤ kc
// and returns it (0 without AVX2: packT then does it all).
func transpose8(dst []float32, w int, src []float32, ld, kc int) int {
	n8 := kc / 8
	if !x86.HasAVX2 || n8 == 0 {
		return 0
	}
	_ = dst[(8*n8-1)*w+7] // the assembly writes these without bounds checks
	_ = src[7*ld+8*n8-1]
	transpose8AVX2(&dst[0], w, &src[0], ld, n8)
	return 8 * n8
}

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
