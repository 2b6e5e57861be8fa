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
