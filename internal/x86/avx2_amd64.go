package x86

// HasAVX2 reports whether the CPU and the operating system support AVX2
// (CPUID leaf 7 EBX bit 5, with OSXSAVE and AVX in leaf 1 ECX and the YMM
// state enabled in XCR0).
var HasAVX2 = hasAVX2()

// HasFMA reports whether the CPU has the three-operand fused multiply-add
// (CPUID leaf 1 ECX bit 12) and the operating system saves the YMM state.
var HasFMA = hasFMA()

// HasAVX512 reports whether the CPU has AVX-512 Foundation (CPUID leaf 7 EBX
// bit 16) and the operating system saves the opmask and ZMM state (XCR0
// bits 5, 6 and 7 besides SSE and AVX).
var HasAVX512 = hasAVX512()

// osYMM reports OSXSAVE and AVX in leaf 1 and the YMM state in XCR0.
func osYMM() bool {
	_, _, c1, _ := cpuid(1, 0)
	const osxsave, avx = 1 << 27, 1 << 28
	return c1&osxsave != 0 && c1&avx != 0 && xgetbv0()&6 == 6
}

func hasAVX2() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 || !osYMM() {
		return false
	}
	_, b7, _, _ := cpuid(7, 0)
	return b7&(1<<5) != 0
}

func hasFMA() bool {
	_, _, c1, _ := cpuid(1, 0)
	return osYMM() && c1&(1<<12) != 0
}

func hasAVX512() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 || !osYMM() || xgetbv0()&0xE6 != 0xE6 {
		return false
	}
	_, b7, _, _ := cpuid(7, 0)
	return b7&(1<<16) != 0
}

func cpuid(leaf, sub uint32) (a, b, c, d uint32)
func xgetbv0() uint32
