#include "textflag.h"

// The GEMM micro-kernels (declared in kernel_amd64.go). Each keeps one
// accumulator lane per element of its C tile and runs, for every element,
// the chain c ← fma(a, b, c) over the kc steps in order, starting from the
// tile of C (load) or from +0: the bits of kernelGo, which does the same with
// FMA32. Go assembler operand order is the reverse of Intel's:
// VFMADD231PS Y12, Y15, Y0 means Y0 = Y15·Y12 + Y0.
//
// Registers: CX the steps left, SI the packed A sliver (mr floats a step),
// DI the B sliver (R8 bytes a step), DX C's first row, R9 C's row stride in
// bytes, BX = 3·R9, R10 the fifth row (AVX-512).

// func sgemm4x24AVX2(kc int, a, b *float32, bstride int, c *float32, ldc int, load bool)
TEXT ·sgemm4x24AVX2(SB), NOSPLIT, $0-49
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ bstride+24(FP), R8
	SHLQ $2, R8
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), BX
	MOVBLZX load+48(FP), AX
	TESTQ AX, AX
	JZ avx2zero
	VMOVUPS (DX), Y0
	VMOVUPS 32(DX), Y1
	VMOVUPS 64(DX), Y2
	VMOVUPS (DX)(R9*1), Y3
	VMOVUPS 32(DX)(R9*1), Y4
	VMOVUPS 64(DX)(R9*1), Y5
	VMOVUPS (DX)(R9*2), Y6
	VMOVUPS 32(DX)(R9*2), Y7
	VMOVUPS 64(DX)(R9*2), Y8
	VMOVUPS (DX)(BX*1), Y9
	VMOVUPS 32(DX)(BX*1), Y10
	VMOVUPS 64(DX)(BX*1), Y11
	JMP avx2loop

avx2zero:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

avx2loop:
	VMOVUPS (DI), Y12
	VMOVUPS 32(DI), Y13
	VMOVUPS 64(DI), Y14
	VBROADCASTSS (SI), Y15
	VFMADD231PS Y12, Y15, Y0
	VFMADD231PS Y13, Y15, Y1
	VFMADD231PS Y14, Y15, Y2
	VBROADCASTSS 4(SI), Y15
	VFMADD231PS Y12, Y15, Y3
	VFMADD231PS Y13, Y15, Y4
	VFMADD231PS Y14, Y15, Y5
	VBROADCASTSS 8(SI), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VFMADD231PS Y14, Y15, Y8
	VBROADCASTSS 12(SI), Y15
	VFMADD231PS Y12, Y15, Y9
	VFMADD231PS Y13, Y15, Y10
	VFMADD231PS Y14, Y15, Y11
	ADDQ $16, SI
	ADDQ R8, DI
	DECQ CX
	JNZ avx2loop

	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, (DX)(R9*1)
	VMOVUPS Y4, 32(DX)(R9*1)
	VMOVUPS Y5, 64(DX)(R9*1)
	VMOVUPS Y6, (DX)(R9*2)
	VMOVUPS Y7, 32(DX)(R9*2)
	VMOVUPS Y8, 64(DX)(R9*2)
	VMOVUPS Y9, (DX)(BX*1)
	VMOVUPS Y10, 32(DX)(BX*1)
	VMOVUPS Y11, 64(DX)(BX*1)
	VZEROUPPER
	RET

// LOADROW and STOREROW move one row of the 8×32 tile: two zmm.
#define LOADROW(addr0, addr1, z0, z1) \
	VMOVUPS addr0, z0 \
	VMOVUPS addr1, z1

#define STOREROW(addr0, addr1, z0, z1) \
	VMOVUPS z0, addr0 \
	VMOVUPS z1, addr1

// STEP512 is one row's two FMAs of a step: a[r] broadcast into Z18.
#define STEP512(off, z0, z1) \
	VBROADCASTSS off(SI), Z18 \
	VFMADD231PS Z16, Z18, z0 \
	VFMADD231PS Z17, Z18, z1

// func sgemm8x32AVX512(kc int, a, b *float32, bstride int, c *float32, ldc int, load bool)
TEXT ·sgemm8x32AVX512(SB), NOSPLIT, $0-49
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ bstride+24(FP), R8
	SHLQ $2, R8
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), BX
	LEAQ (DX)(R9*4), R10
	MOVBLZX load+48(FP), AX
	TESTQ AX, AX
	JZ z512zero
	LOADROW((DX), 64(DX), Z0, Z1)
	LOADROW((DX)(R9*1), 64(DX)(R9*1), Z2, Z3)
	LOADROW((DX)(R9*2), 64(DX)(R9*2), Z4, Z5)
	LOADROW((DX)(BX*1), 64(DX)(BX*1), Z6, Z7)
	LOADROW((R10), 64(R10), Z8, Z9)
	LOADROW((R10)(R9*1), 64(R10)(R9*1), Z10, Z11)
	LOADROW((R10)(R9*2), 64(R10)(R9*2), Z12, Z13)
	LOADROW((R10)(BX*1), 64(R10)(BX*1), Z14, Z15)
	JMP z512loop

z512zero:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15

z512loop:
	VMOVUPS (DI), Z16
	VMOVUPS 64(DI), Z17
	STEP512(0, Z0, Z1)
	STEP512(4, Z2, Z3)
	STEP512(8, Z4, Z5)
	STEP512(12, Z6, Z7)
	STEP512(16, Z8, Z9)
	STEP512(20, Z10, Z11)
	STEP512(24, Z12, Z13)
	STEP512(28, Z14, Z15)
	ADDQ $32, SI
	ADDQ R8, DI
	DECQ CX
	JNZ z512loop

	STOREROW((DX), 64(DX), Z0, Z1)
	STOREROW((DX)(R9*1), 64(DX)(R9*1), Z2, Z3)
	STOREROW((DX)(R9*2), 64(DX)(R9*2), Z4, Z5)
	STOREROW((DX)(BX*1), 64(DX)(BX*1), Z6, Z7)
	STOREROW((R10), 64(R10), Z8, Z9)
	STOREROW((R10)(R9*1), 64(R10)(R9*1), Z10, Z11)
	STOREROW((R10)(R9*2), 64(R10)(R9*2), Z12, Z13)
	STOREROW((R10)(BX*1), 64(R10)(BX*1), Z14, Z15)
	VZEROUPPER
	RET
