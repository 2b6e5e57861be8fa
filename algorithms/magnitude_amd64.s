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

// func collectAbove16(v *float64, nblocks, base int, above uint64, cand *int32, mags *float64, n, capn int) (blocks, count int)
//
// collectAtLeast's pass over the blocks of 16 entries of v, from the first:
// a block with no entry whose magnitude bits exceed above is skipped by one
// test (as in aboveBlock16); in the others, each such entry's index (in
// increasing order; base + its position in v) is written to cand[count] and
// its magnitude (NaN as
// +Inf, magnitude's key) to mags[count], count starting at n. It stops
// before a block that might overflow capn (count + 16 > capn) and returns
// the blocks done and the count. VEX encoding throughout (see aboveBlock16).
TEXT ·collectAbove16(SB), NOSPLIT, $0-80
	MOVQ v+0(FP), SI
	MOVQ nblocks+8(FP), CX
	MOVQ above+24(FP), AX
	VMOVQ AX, X15
	VPBROADCASTQ X15, Y15
	MOVQ $0x7FFFFFFFFFFFFFFF, R8
	VMOVQ R8, X14
	VPBROADCASTQ X14, Y14
	MOVQ cand+32(FP), DI
	MOVQ mags+40(FP), R9
	MOVQ n+48(FP), BX
	MOVQ capn+56(FP), R10
	MOVQ $0x7FF0000000000000, R15 // +Inf's bits
	XORQ DX, DX                   // block
cblock:
	CMPQ DX, CX
	JGE cdone
	LEAQ 16(BX), AX
	CMPQ AX, R10
	JGT cdone
	VPAND (SI), Y14, Y0
	VPAND 32(SI), Y14, Y1
	VPAND 64(SI), Y14, Y2
	VPAND 96(SI), Y14, Y3
	VPCMPGTQ Y15, Y0, Y0
	VPCMPGTQ Y15, Y1, Y1
	VPCMPGTQ Y15, Y2, Y2
	VPCMPGTQ Y15, Y3, Y3
	VPOR Y1, Y0, Y4
	VPOR Y3, Y2, Y5
	VPOR Y5, Y4, Y4
	VPTEST Y4, Y4
	JEQ cnext
	VMOVMSKPD Y0, R11
	VMOVMSKPD Y1, R12
	SHLQ $4, R12
	ORQ R12, R11
	VMOVMSKPD Y2, R12
	SHLQ $8, R12
	ORQ R12, R11
	VMOVMSKPD Y3, R12
	SHLQ $12, R12
	ORQ R12, R11      // bit j: entry j of the block is collected
	MOVQ DX, R13
	SHLQ $4, R13
	ADDQ base+16(FP), R13 // the block's first index
cbit:
	BSFQ R11, R12     // the lowest set bit
	MOVQ (SI)(R12*8), AX
	ANDQ R8, AX       // |x| bits
	CMPQ AX, R15
	CMOVQHI R15, AX   // NaN → +Inf
	MOVQ AX, (R9)(BX*8)
	LEAQ (R13)(R12*1), AX
	MOVL AX, (DI)(BX*4)
	INCQ BX
	LEAQ -1(R11), R12
	ANDQ R12, R11     // clear the lowest set bit
	JNE cbit
cnext:
	ADDQ $128, SI
	INCQ DX
	JMP cblock
cdone:
	MOVQ DX, blocks+64(FP)
	MOVQ BX, count+72(FP)
	VZEROUPPER
	RET
