#include "textflag.h"

// func aboveBlock16(v *float64, nblocks int, bits uint64) int
//
// The first block b < nblocks of the 16 entries v[16b … 16b+15] holding an
// entry whose magnitude bits (its bits with the sign cleared) exceed bits,
// or nblocks: nextBlockAbove's scan, four entries per instruction. The
// magnitudes and bits lie below 2⁶³, so the signed VPCMPGTQ orders them as
// unsigned integers. Every instruction is VEX-encoded (VMOVQ, not MOVQ, into
// an X register): one legacy-SSE instruction with the upper halves of the Y
// registers dirty costs a state transition, which made a call at d = 123
// take 450–570 ns instead of 77–87 ns.
TEXT ·aboveBlock16(SB), NOSPLIT, $0-32
	MOVQ v+0(FP), SI
	MOVQ nblocks+8(FP), CX
	MOVQ bits+16(FP), AX
	VMOVQ AX, X15
	VPBROADCASTQ X15, Y15
	MOVQ $0x7FFFFFFFFFFFFFFF, AX
	VMOVQ AX, X14
	VPBROADCASTQ X14, Y14
	XORQ DX, DX
ablock:
	CMPQ DX, CX
	JGE adone
	VPAND (SI), Y14, Y0
	VPAND 32(SI), Y14, Y1
	VPAND 64(SI), Y14, Y2
	VPAND 96(SI), Y14, Y3
	VPCMPGTQ Y15, Y0, Y0 // |x| bits > bits
	VPCMPGTQ Y15, Y1, Y1
	VPCMPGTQ Y15, Y2, Y2
	VPCMPGTQ Y15, Y3, Y3
	VPOR Y1, Y0, Y0
	VPOR Y3, Y2, Y2
	VPOR Y2, Y0, Y0
	VPTEST Y0, Y0
	JNE adone
	ADDQ $128, SI
	INCQ DX
	JMP ablock
adone:
	MOVQ DX, ret+24(FP)
	VZEROUPPER
	RET
