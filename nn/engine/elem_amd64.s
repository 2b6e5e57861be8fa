#include "textflag.h"

// The elementwise kernels (declared in elem_amd64.go): eight lanes of the
// scalar operation of their Go twins in elem.go, so the same bits.

// func addTo8AVX2(dst, src *float32, n8 int)
TEXT ·addTo8AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n8+16(FP), CX
addloop:
	VMOVUPS (DI), Y0
	VADDPS (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNZ addloop
	VZEROUPPER
	RET

// func reluBack8AVX2(y, dy, dx *float32, n8 int)
// dx = dy AND (y > 0, ordered: a NaN y gives the zero mask).
TEXT ·reluBack8AVX2(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), SI
	MOVQ dy+8(FP), DX
	MOVQ dx+16(FP), DI
	MOVQ n8+24(FP), CX
	VXORPS Y15, Y15, Y15
rbloop:
	VMOVUPS (SI), Y0
	VCMPPS $0x1e, Y15, Y0, Y1
	VANDPS (DX), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ rbloop
	VZEROUPPER
	RET

// func normalize8AVX2(x, xh, y *float32, n8 int, mean, inv, gamma, beta float32, relu bool)
// h = (x − mean)·inv, y = g·h + b, then with relu max(y, 0) as Go's max:
// VMAXPS returns its second source (y) when either is NaN or both are zero,
// and adding +0 turns a −0 into +0 (and keeps every other value).
TEXT ·normalize8AVX2(SB), NOSPLIT, $0-49
	MOVQ x+0(FP), SI
	MOVQ xh+8(FP), DX
	MOVQ y+16(FP), DI
	MOVQ n8+24(FP), CX
	VBROADCASTSS mean+32(FP), Y10
	VBROADCASTSS inv+36(FP), Y11
	VBROADCASTSS gamma+40(FP), Y12
	VBROADCASTSS beta+44(FP), Y13
	VXORPS Y15, Y15, Y15
	MOVBLZX relu+48(FP), AX
	TESTQ AX, AX
	JNZ nrelu
nloop:
	VMOVUPS (SI), Y0
	VSUBPS Y10, Y0, Y0
	VMULPS Y11, Y0, Y0
	VMOVUPS Y0, (DX)
	VMULPS Y12, Y0, Y1
	VADDPS Y13, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ nloop
	VZEROUPPER
	RET
nrelu:
	VMOVUPS (SI), Y0
	VSUBPS Y10, Y0, Y0
	VMULPS Y11, Y0, Y0
	VMOVUPS Y0, (DX)
	VMULPS Y12, Y0, Y1
	VADDPS Y13, Y1, Y1
	VMAXPS Y1, Y15, Y1
	VADDPS Y15, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ nrelu
	VZEROUPPER
	RET

// func normalizeBack8AVX2(dy, xh, dx *float32, n8 int, k, mdy, mdyx float32)
// dx = k·((dy − mdy) − xh·mdyx).
TEXT ·normalizeBack8AVX2(SB), NOSPLIT, $0-44
	MOVQ dy+0(FP), SI
	MOVQ xh+8(FP), DX
	MOVQ dx+16(FP), DI
	MOVQ n8+24(FP), CX
	VBROADCASTSS k+32(FP), Y12
	VBROADCASTSS mdy+36(FP), Y10
	VBROADCASTSS mdyx+40(FP), Y11
nbloop:
	VMOVUPS (SI), Y0
	VSUBPS Y10, Y0, Y0
	VMULPS (DX), Y11, Y1
	VSUBPS Y1, Y0, Y0
	VMULPS Y12, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ nbloop
	VZEROUPPER
	RET

// func addRelu8AVX2(a, b, y *float32, n8 int)
// y = max(a + b, 0) as Go's max (see normalize8AVX2); b nil: max(a, 0).
TEXT ·addRelu8AVX2(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DX
	MOVQ y+16(FP), DI
	MOVQ n8+24(FP), CX
	VXORPS Y15, Y15, Y15
	TESTQ DX, DX
	JZ arnob
arloop:
	VMOVUPS (SI), Y0
	VADDPS (DX), Y0, Y0
	VMAXPS Y0, Y15, Y0
	VADDPS Y15, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ arloop
	VZEROUPPER
	RET
arnob:
	VMOVUPS (SI), Y0
	VMAXPS Y0, Y15, Y0
	VADDPS Y15, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ arnob
	VZEROUPPER
	RET
