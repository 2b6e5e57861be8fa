#include "textflag.h"
#include "funcdata.h"

// AVX2 versions of the logistic-regression kernels (declared in
// kernel_amd64.go). Each performs exactly the IEEE operations of its pure-Go
// twin, in the same order and without fused multiply-add, so both give the
// same bits: lossCoefs16AVX2 ↔ lossCoefsGo and expNonPosSlice (logreg.go,
// exp.go), marginsBinary16 ↔ marginsBinary, scatterBinary16 ↔ scatterBinary,
// margins16 ↔ margins/sparseDot, scatter16 ↔ scatter, axpyRowsAVX2 ↔ gonum's
// Dgemv (Trans). The kernels read x, dst and the CSR arrays without bounds
// checks: NewLogReg validated the CSR structure (column indices < d, row
// pointers consistent) and the callers the lengths of x and dst.
// Go assembler operand order is the reverse of Intel's: VSUBPD Y2, Y1, Y0
// means Y0 = Y1 − Y2.

// LOADZ loads z[SI:SI+4] into y (x its low half, tmp a scratch XMM) with
// scalar loads: the margins kernels have just stored z one value at a time,
// and a 32-byte load of four 8-byte stores still in flight cannot be
// forwarded from them (it waits for them to reach the cache).
#define LOADZ(y, x, tmp) \
	VMOVSD (AX)(SI*8), x \
	VMOVHPD 8(AX)(SI*8), x, x \
	VMOVSD 16(AX)(SI*8), tmp \
	VMOVHPD 24(AX)(SI*8), tmp, tmp \
	VINSERTF128 $1, tmp, y, y

// The constants, from the Go table coefConsts, by index.
#define K(i, reg) VBROADCASTSD (8*i)(DI), reg

// func lossCoefs16AVX2(z, b, t, e *[16]float64, inv float64, k *[coefConstsLen]float64) bool
//
// lossCoefs for a full block of 16 rows with the labels b[i] of the rows
// gathered: t[i] = −b[i]·z[i], e[i] = e^{−|t[i]|} (expNonPosSlice's
// algorithm), z[i] = (−b[i]·inv)·num/(1+e[i]). If some |t[i]| > 708 (or is
// NaN) it writes nothing and returns false: the caller then runs the Go
// code, which handles subnormal results and underflow.
TEXT ·lossCoefs16AVX2(SB), NOSPLIT, $0-49
	MOVQ z+0(FP), AX
	MOVQ b+8(FP), BX
	MOVQ t+16(FP), CX
	MOVQ e+24(FP), DX
	VBROADCASTSD inv+32(FP), Y14
	MOVQ k+40(FP), DI

	K(0, Y13) // −0: the sign bit
	K(1, Y12) // normalMin

	// Check pass: every lane must satisfy −|−b·z| ≥ −708 (false for NaN).
	VPCMPEQQ Y11, Y11, Y11 // all ones
	XORQ SI, SI
check:
	VMOVUPD (BX)(SI*8), Y0
	VXORPD Y13, Y0, Y0       // −b
	LOADZ(Y1, X1, X2)
	VMULPD Y1, Y0, Y0        // t = −b·z
	VORPD Y13, Y0, Y0        // x = −|t|
	VCMPPD $0x1D, Y12, Y0, Y1 // x ≥ −708, ordered
	VANDPD Y1, Y11, Y11
	ADDQ $4, SI
	CMPQ SI, $16
	JLT check
	VMOVMSKPD Y11, R9
	CMPQ R9, $15
	JEQ compute
	MOVB $0, ret+48(FP)
	VZEROUPPER
	RET

compute:
	K(2, Y12) // log2e
	K(3, Y11) // 0.5
	K(4, Y10) // ln2Hi
	K(5, Y9)  // ln2Lo
	K(6, Y8)  // 1
	XORQ SI, SI
loop:
	VMOVUPD (BX)(SI*8), Y0
	VXORPD Y13, Y0, Y0        // −b
	LOADZ(Y1, X1, X2)
	VMULPD Y1, Y0, Y1         // t = −b·z
	VMOVUPD Y1, (CX)(SI*8)
	VORPD Y13, Y1, Y2         // x = −|t|

	VMULPD Y12, Y2, Y3        // log2e·x
	VSUBPD Y11, Y3, Y3        // − 0.5
	VCVTTPD2DQY Y3, X4        // k = int(·), truncation
	VCVTDQ2PD X4, Y3          // fk
	VMULPD Y10, Y3, Y5        // fk·ln2Hi
	VSUBPD Y5, Y2, Y5         // hi = x − fk·ln2Hi
	VMULPD Y9, Y3, Y6         // lo = fk·ln2Lo
	VSUBPD Y6, Y5, Y7         // r = hi − lo
	VMULPD Y7, Y7, Y3         // tt = r·r

	K(11, Y15) // p5
	VMULPD Y15, Y3, Y15       // tt·p5
	K(10, Y2) // p4
	VADDPD Y15, Y2, Y15       // p4 + ·
	VMULPD Y15, Y3, Y15       // tt·(·)
	K(9, Y2) // p3
	VADDPD Y15, Y2, Y15
	VMULPD Y15, Y3, Y15
	K(8, Y2) // p2
	VADDPD Y15, Y2, Y15
	VMULPD Y15, Y3, Y15
	K(7, Y2) // p1
	VADDPD Y15, Y2, Y15
	VMULPD Y15, Y3, Y15       // tt·(p1 + …)
	VSUBPD Y15, Y7, Y15       // c = r − ·

	VMULPD Y15, Y7, Y3        // r·c
	VADDPD Y8, Y8, Y2         // 2 (exact)
	VSUBPD Y15, Y2, Y2        // 2 − c
	VDIVPD Y2, Y3, Y3         // (r·c)/(2 − c)
	VSUBPD Y3, Y6, Y3         // lo − ·
	VSUBPD Y5, Y3, Y3         // (·) − hi
	VSUBPD Y3, Y8, Y3         // y = 1 − ·

	VPMOVSXDQ X4, Y4          // k as int64
	VPBROADCASTQ (8*12)(DI), Y2 // 1023 (as int64 bits)
	VPADDQ Y2, Y4, Y4
	VPSLLQ $52, Y4, Y4        // 2^k
	VMULPD Y4, Y3, Y3         // e = y·2^k
	VMOVUPD Y3, (DX)(SI*8)

	VXORPD Y2, Y2, Y2
	VCMPPD $0x1D, Y2, Y1, Y2  // t ≥ 0
	VBLENDVPD Y2, Y8, Y3, Y2  // num = t ≥ 0 ? 1 : e
	VMULPD Y14, Y0, Y0        // −b·inv
	VMULPD Y2, Y0, Y0         // ·num
	VADDPD Y8, Y3, Y3         // 1 + e
	VDIVPD Y3, Y0, Y0
	VMOVUPD Y0, (AX)(SI*8)

	ADDQ $4, SI
	CMPQ SI, $16
	JLT loop
	MOVB $1, ret+48(FP)
	VZEROUPPER
	RET

// func marginsBinary16(z *[16]float64, rows *[16]int, rowPtr *int, colIdx *int32, x *float64)
//
// marginsBinary for a full block: z[b] = Σ_k x[colIdx[k]] over the row
// rows[b], with four partial sums s_l (s_l takes the entries k ≡ l mod 4 of
// each full group of four, s_0 also the tail) combined as (s0+s1)+(s2+s3).
// No bounds checks: NewLogReg validated the CSR structure and Grad the length
// of x.
TEXT ·marginsBinary16(SB), NOSPLIT, $0-40
	MOVQ z+0(FP), DI
	MOVQ rows+8(FP), SI
	MOVQ rowPtr+16(FP), R8
	MOVQ colIdx+24(FP), R9
	MOVQ x+32(FP), R10
	XORQ R11, R11 // b
mrow:
	MOVQ (SI)(R11*8), AX      // r
	MOVQ (R8)(AX*8), BX       // lo
	MOVQ 8(R8)(AX*8), CX      // hi
	LEAQ (R9)(BX*4), DX       // &colIdx[lo]
	SUBQ BX, CX               // n
	VXORPD X0, X0, X0
	VXORPD X1, X1, X1
	VXORPD X2, X2, X2
	VXORPD X3, X3, X3
	CMPQ CX, $4
	JLT mtail
mgroup:
	MOVLQSX (DX), AX
	MOVLQSX 4(DX), BX
	MOVLQSX 8(DX), R12
	MOVLQSX 12(DX), R13
	VADDSD (R10)(AX*8), X0, X0
	VADDSD (R10)(BX*8), X1, X1
	VADDSD (R10)(R12*8), X2, X2
	VADDSD (R10)(R13*8), X3, X3
	ADDQ $16, DX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE mgroup
mtail: // 0…3 entries left, added to s0 in order, unrolled
	CMPQ CX, $2
	JLT mtail01
	MOVLQSX (DX), AX
	MOVLQSX 4(DX), BX
	VADDSD (R10)(AX*8), X0, X0
	VADDSD (R10)(BX*8), X0, X0
	CMPQ CX, $3
	JLT mdone
	MOVLQSX 8(DX), AX
	VADDSD (R10)(AX*8), X0, X0
	JMP mdone
mtail01:
	TESTQ CX, CX
	JEQ mdone
	MOVLQSX (DX), AX
	VADDSD (R10)(AX*8), X0, X0
mdone:
	VADDSD X1, X0, X0
	VADDSD X3, X2, X2
	VADDSD X2, X0, X0
	VMOVSD X0, (DI)(R11*8)
	INCQ R11
	CMPQ R11, $16
	JLT mrow
	RET

// func scatterBinary16(dst *float64, c *[16]float64, rows *[16]int, rowPtr *int, colIdx *int32)
//
// scatterBinary for a full block: dst[colIdx[k]] += c[b] over the row
// rows[b], rows in order, entries in order.
TEXT ·scatterBinary16(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ c+8(FP), SI
	MOVQ rows+16(FP), R14
	MOVQ rowPtr+24(FP), R8
	MOVQ colIdx+32(FP), R9
	XORQ R11, R11 // b
srow:
	MOVQ (R14)(R11*8), AX     // r
	MOVQ (R8)(AX*8), BX       // lo
	MOVQ 8(R8)(AX*8), CX      // hi
	LEAQ (R9)(BX*4), DX       // &colIdx[lo]
	SUBQ BX, CX               // n
	VMOVSD (SI)(R11*8), X15   // c[b]
	CMPQ CX, $4
	JLT stail
sgroup:
	MOVLQSX (DX), AX
	MOVLQSX 4(DX), BX
	MOVLQSX 8(DX), R12
	MOVLQSX 12(DX), R13
	VADDSD (DI)(AX*8), X15, X0
	VMOVSD X0, (DI)(AX*8)
	VADDSD (DI)(BX*8), X15, X1
	VMOVSD X1, (DI)(BX*8)
	VADDSD (DI)(R12*8), X15, X2
	VMOVSD X2, (DI)(R12*8)
	VADDSD (DI)(R13*8), X15, X3
	VMOVSD X3, (DI)(R13*8)
	ADDQ $16, DX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE sgroup
stail: // 0…3 entries left, unrolled
	CMPQ CX, $2
	JLT stail01
	MOVLQSX (DX), AX
	MOVLQSX 4(DX), BX
	VADDSD (DI)(AX*8), X15, X0
	VMOVSD X0, (DI)(AX*8)
	VADDSD (DI)(BX*8), X15, X1
	VMOVSD X1, (DI)(BX*8)
	CMPQ CX, $3
	JLT sdone
	MOVLQSX 8(DX), AX
	VADDSD (DI)(AX*8), X15, X0
	VMOVSD X0, (DI)(AX*8)
	JMP sdone
stail01:
	TESTQ CX, CX
	JEQ sdone
	MOVLQSX (DX), AX
	VADDSD (DI)(AX*8), X15, X0
	VMOVSD X0, (DI)(AX*8)
sdone:
	INCQ R11
	CMPQ R11, $16
	JLT srow
	RET

// func axpyRowsAVX2(dst, a, c *float64, nb, d int)
//
// dst[i] += a[b·d+i]·c[b] for b = 0, …, nb−1 in this order, i < d: the
// product rounded, then the sum, for every element; the order of gonum's
// GemvT (the Trans Dgemv with alpha = beta = 1), so the same bits. Columns
// go sixteen at a time in four YMM accumulators (independent chains), then
// four at a time, the last d mod 4 one at a time.
TEXT ·axpyRowsAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ c+16(FP), DX
	MOVQ nb+24(FP), R8
	MOVQ d+32(FP), R9
	LEAQ (R9*8), R10          // row stride in bytes
	XORQ R11, R11             // column i
a16:
	LEAQ 16(R11), AX
	CMPQ AX, R9
	JGT achunk
	VMOVUPD (DI)(R11*8), Y0
	VMOVUPD 32(DI)(R11*8), Y3
	VMOVUPD 64(DI)(R11*8), Y4
	VMOVUPD 96(DI)(R11*8), Y5
	LEAQ (SI)(R11*8), BX      // &a[0·d+i]
	XORQ CX, CX               // b
a16row:
	VBROADCASTSD (DX)(CX*8), Y1
	VMULPD (BX), Y1, Y2
	VADDPD Y2, Y0, Y0
	VMULPD 32(BX), Y1, Y6
	VADDPD Y6, Y3, Y3
	VMULPD 64(BX), Y1, Y7
	VADDPD Y7, Y4, Y4
	VMULPD 96(BX), Y1, Y8
	VADDPD Y8, Y5, Y5
	ADDQ R10, BX
	INCQ CX
	CMPQ CX, R8
	JLT a16row
	VMOVUPD Y0, (DI)(R11*8)
	VMOVUPD Y3, 32(DI)(R11*8)
	VMOVUPD Y4, 64(DI)(R11*8)
	VMOVUPD Y5, 96(DI)(R11*8)
	ADDQ $16, R11
	JMP a16
achunk:
	LEAQ 4(R11), AX
	CMPQ AX, R9
	JGT atail
	VMOVUPD (DI)(R11*8), Y0
	LEAQ (SI)(R11*8), BX
	XORQ CX, CX
arow:
	VBROADCASTSD (DX)(CX*8), Y1
	VMULPD (BX), Y1, Y2
	VADDPD Y2, Y0, Y0
	ADDQ R10, BX
	INCQ CX
	CMPQ CX, R8
	JLT arow
	VMOVUPD Y0, (DI)(R11*8)
	ADDQ $4, R11
	JMP achunk
atail:
	CMPQ R11, R9
	JGE adone
	VMOVSD (DI)(R11*8), X0
	LEAQ (SI)(R11*8), BX
	XORQ CX, CX
atrow:
	VMOVSD (DX)(CX*8), X1
	VMULSD (BX), X1, X2
	VADDSD X2, X0, X0
	ADDQ R10, BX
	INCQ CX
	CMPQ CX, R8
	JLT atrow
	VMOVSD X0, (DI)(R11*8)
	INCQ R11
	JMP atail
adone:
	VZEROUPPER
	RET

// func margins16(z *[16]float64, rows *[16]int, rowPtr *int, colIdx *int32, val, x *float64)
//
// margins for a full block: z[b] = Σ_k val[k]·x[colIdx[k]] over the row
// rows[b], with sparseDot's four partial sums (product rounded, then added;
// s0 also takes the tail) combined as (s0+s1)+(s2+s3).
TEXT ·margins16(SB), NOSPLIT, $0-48
	MOVQ z+0(FP), DI
	MOVQ rows+8(FP), SI
	MOVQ rowPtr+16(FP), R8
	MOVQ colIdx+24(FP), R9
	MOVQ val+32(FP), R14
	MOVQ x+40(FP), R10
	XORQ R11, R11 // b
vrow:
	MOVQ (SI)(R11*8), AX      // r
	MOVQ (R8)(AX*8), BX       // lo
	MOVQ 8(R8)(AX*8), CX      // hi
	LEAQ (R9)(BX*4), DX       // &colIdx[lo]
	LEAQ (R14)(BX*8), R15     // &val[lo]
	SUBQ BX, CX               // n
	VXORPD X0, X0, X0
	VXORPD X1, X1, X1
	VXORPD X2, X2, X2
	VXORPD X3, X3, X3
	CMPQ CX, $4
	JLT vtail
vgroup:
	MOVLQSX (DX), AX
	MOVLQSX 4(DX), BX
	MOVLQSX 8(DX), R12
	MOVLQSX 12(DX), R13
	VMOVSD (R15), X4
	VMULSD (R10)(AX*8), X4, X4
	VADDSD X4, X0, X0
	VMOVSD 8(R15), X5
	VMULSD (R10)(BX*8), X5, X5
	VADDSD X5, X1, X1
	VMOVSD 16(R15), X6
	VMULSD (R10)(R12*8), X6, X6
	VADDSD X6, X2, X2
	VMOVSD 24(R15), X7
	VMULSD (R10)(R13*8), X7, X7
	VADDSD X7, X3, X3
	ADDQ $16, DX
	ADDQ $32, R15
	SUBQ $4, CX
	CMPQ CX, $4
	JGE vgroup
vtail:
	TESTQ CX, CX
	JEQ vdone
	MOVLQSX (DX), AX
	VMOVSD (R15), X4
	VMULSD (R10)(AX*8), X4, X4
	VADDSD X4, X0, X0
	ADDQ $4, DX
	ADDQ $8, R15
	DECQ CX
	JMP vtail
vdone:
	VADDSD X1, X0, X0
	VADDSD X3, X2, X2
	VADDSD X2, X0, X0
	VMOVSD X0, (DI)(R11*8)
	INCQ R11
	CMPQ R11, $16
	JLT vrow
	RET

// func scatter16(dst *float64, c *[16]float64, rows *[16]int, rowPtr *int, colIdx *int32, val *float64)
//
// scatter for a full block: dst[colIdx[k]] += c[b]·val[k] over the row
// rows[b], rows in order, entries in order.
TEXT ·scatter16(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ c+8(FP), SI
	MOVQ rows+16(FP), R14
	MOVQ rowPtr+24(FP), R8
	MOVQ colIdx+32(FP), R9
	MOVQ val+40(FP), R10
	XORQ R11, R11 // b
wrow:
	MOVQ (R14)(R11*8), AX     // r
	MOVQ (R8)(AX*8), BX       // lo
	MOVQ 8(R8)(AX*8), CX      // hi
	LEAQ (R9)(BX*4), DX       // &colIdx[lo]
	LEAQ (R10)(BX*8), R15     // &val[lo]
	SUBQ BX, CX               // n
	VMOVSD (SI)(R11*8), X15   // c[b]
wloop:
	TESTQ CX, CX
	JEQ wdone
	MOVLQSX (DX), AX
	VMULSD (R15), X15, X0
	VADDSD (DI)(AX*8), X0, X0
	VMOVSD X0, (DI)(AX*8)
	ADDQ $4, DX
	ADDQ $8, R15
	DECQ CX
	JMP wloop
wdone:
	INCQ R11
	CMPQ R11, $16
	JLT wrow
	RET

// func gradBinaryBlocks(dst, x *float64, rowPtr *int, colIdx *int32, labels, t, e *float64, nblocks int, inv float64, k *[coefConstsLen]float64) int
//
// The full pass of the gradient on 0/1 CSR data over the row blocks
// 0, …, nblocks−1 (rows 16·B … 16·B+15): for each block, marginsBinary16's
// sums, lossCoefs16AVX2 (called; t, e into the margins cache at the block's
// rows), then scatterBinary16's additions — the same operations in the same
// order as those three kernels one block at a time, without the Go code
// between them. It stops before a block whose coefficients lossCoefs16AVX2
// declines (margins beyond ±708) and returns the number of blocks done.
//
// Frame: 0(SP)…55(SP) the arguments of the call, 56(SP) the block index,
// 64(SP)…191(SP) the block's margins, then coefficients.
TEXT ·gradBinaryBlocks(SB), NOSPLIT, $192-88
	NO_LOCAL_POINTERS
	MOVQ $0, 56(SP)
gblock:
	MOVQ 56(SP), AX
	CMPQ AX, nblocks+56(FP)
	JGE gend
	SHLQ $4, AX               // r0 = 16·block
	MOVQ rowPtr+16(FP), R8
	LEAQ (R8)(AX*8), R8       // &rowPtr[r0]
	MOVQ colIdx+24(FP), R9
	MOVQ x+8(FP), R10
	XORQ R11, R11             // b
grow:
	MOVQ (R8)(R11*8), BX      // lo
	MOVQ 8(R8)(R11*8), CX     // hi
	LEAQ (R9)(BX*4), DX
	SUBQ BX, CX
	VXORPD X0, X0, X0
	VXORPD X1, X1, X1
	VXORPD X2, X2, X2
	VXORPD X3, X3, X3
	CMPQ CX, $4
	JLT gtail
ggroup:
	MOVLQSX (DX), AX
	MOVLQSX 4(DX), BX
	MOVLQSX 8(DX), R12
	MOVLQSX 12(DX), R13
	VADDSD (R10)(AX*8), X0, X0
	VADDSD (R10)(BX*8), X1, X1
	VADDSD (R10)(R12*8), X2, X2
	VADDSD (R10)(R13*8), X3, X3
	ADDQ $16, DX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE ggroup
gtail:
	CMPQ CX, $2
	JLT gtail01
	MOVLQSX (DX), AX
	MOVLQSX 4(DX), BX
	VADDSD (R10)(AX*8), X0, X0
	VADDSD (R10)(BX*8), X0, X0
	CMPQ CX, $3
	JLT gsum
	MOVLQSX 8(DX), AX
	VADDSD (R10)(AX*8), X0, X0
	JMP gsum
gtail01:
	TESTQ CX, CX
	JEQ gsum
	MOVLQSX (DX), AX
	VADDSD (R10)(AX*8), X0, X0
gsum:
	VADDSD X1, X0, X0
	VADDSD X3, X2, X2
	VADDSD X2, X0, X0
	VMOVSD X0, 64(SP)(R11*8)
	INCQ R11
	CMPQ R11, $16
	JLT grow

	MOVQ 56(SP), AX
	SHLQ $7, AX               // 8·r0: byte offset of the block's rows
	LEAQ 64(SP), DI
	MOVQ DI, 0(SP)            // z
	MOVQ labels+32(FP), DI
	ADDQ AX, DI
	MOVQ DI, 8(SP)            // b = &labels[r0]
	MOVQ t+40(FP), DI
	ADDQ AX, DI
	MOVQ DI, 16(SP)           // &t[r0]
	MOVQ e+48(FP), DI
	ADDQ AX, DI
	MOVQ DI, 24(SP)           // &e[r0]
	MOVQ inv+64(FP), DI
	MOVQ DI, 32(SP)
	MOVQ k+72(FP), DI
	MOVQ DI, 40(SP)
	CALL ·lossCoefs16AVX2(SB)
	MOVBLZX 48(SP), AX
	TESTQ AX, AX
	JEQ gend

	MOVQ 56(SP), AX
	SHLQ $4, AX
	MOVQ rowPtr+16(FP), R8
	LEAQ (R8)(AX*8), R8
	MOVQ colIdx+24(FP), R9
	MOVQ dst+0(FP), DI
	XORQ R11, R11
gsrow:
	MOVQ (R8)(R11*8), BX
	MOVQ 8(R8)(R11*8), CX
	LEAQ (R9)(BX*4), DX
	SUBQ BX, CX
	VMOVSD 64(SP)(R11*8), X15 // c[b]
	CMPQ CX, $4
	JLT gstail
gsgroup:
	MOVLQSX (DX), AX
	MOVLQSX 4(DX), BX
	MOVLQSX 8(DX), R12
	MOVLQSX 12(DX), R13
	VADDSD (DI)(AX*8), X15, X0
	VMOVSD X0, (DI)(AX*8)
	VADDSD (DI)(BX*8), X15, X1
	VMOVSD X1, (DI)(BX*8)
	VADDSD (DI)(R12*8), X15, X2
	VMOVSD X2, (DI)(R12*8)
	VADDSD (DI)(R13*8), X15, X3
	VMOVSD X3, (DI)(R13*8)
	ADDQ $16, DX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE gsgroup
gstail:
	CMPQ CX, $2
	JLT gstail01
	MOVLQSX (DX), AX
	MOVLQSX 4(DX), BX
	VADDSD (DI)(AX*8), X15, X0
	VMOVSD X0, (DI)(AX*8)
	VADDSD (DI)(BX*8), X15, X1
	VMOVSD X1, (DI)(BX*8)
	CMPQ CX, $3
	JLT gsnext
	MOVLQSX 8(DX), AX
	VADDSD (DI)(AX*8), X15, X0
	VMOVSD X0, (DI)(AX*8)
	JMP gsnext
gstail01:
	TESTQ CX, CX
	JEQ gsnext
	MOVLQSX (DX), AX
	VADDSD (DI)(AX*8), X15, X0
	VMOVSD X0, (DI)(AX*8)
gsnext:
	INCQ R11
	CMPQ R11, $16
	JLT gsrow
	INCQ 56(SP)
	JMP gblock
gend:
	MOVQ 56(SP), AX
	MOVQ AX, ret+80(FP)
	RET

// SPTERMS computes into Y0 the four loss terms max(t, 0) + log1p(e) at
// off(AX)(SI*8) and off(DX)(SI*8), with exactly the operations of
// softplusTerms (log1pUnit's table and Taylor polynomial). Registers: Y15 0,
// Y14 1; Y1–Y10 scratch; DI the constants, R8 log1pInv, R9 log1pTab. The
// steps: u = 1 + x, c = x − (u − 1), k = int((u − 1)·128), fj = 1 + k/128,
// r = ((u − fj) + c)·log1pInv[k], q = −1/2 + r(1/3 + r(−1/4 + … r(−1/8))),
// then max(t, 0) + (log1pTab[k] + (r + r·r·q)).
#define SPTERMS(off) \
	VMOVUPD off(DX)(SI*8), Y0 \
	VADDPD Y0, Y14, Y1 \
	VSUBPD Y14, Y1, Y2 \
	VSUBPD Y2, Y0, Y3 \
	K(3, Y7) \
	VMULPD Y7, Y2, Y2 \
	VCVTTPD2DQY Y2, X4 \
	VCVTDQ2PD X4, Y5 \
	K(2, Y7) \
	VMULPD Y7, Y5, Y5 \
	VADDPD Y5, Y14, Y5 \
	VSUBPD Y5, Y1, Y6 \
	VADDPD Y3, Y6, Y6 \
	VPCMPEQQ Y7, Y7, Y7 \
	VGATHERDPD Y7, (R8)(X4*8), Y8 \
	VMULPD Y8, Y6, Y6 \
	K(10, Y7) \
	VMULPD Y7, Y6, Y9 \
	K(9, Y7) \
	VADDPD Y9, Y7, Y9 \
	VMULPD Y9, Y6, Y9 \
	K(8, Y7) \
	VADDPD Y9, Y7, Y9 \
	VMULPD Y9, Y6, Y9 \
	K(7, Y7) \
	VADDPD Y9, Y7, Y9 \
	VMULPD Y9, Y6, Y9 \
	K(6, Y7) \
	VADDPD Y9, Y7, Y9 \
	VMULPD Y9, Y6, Y9 \
	K(5, Y7) \
	VADDPD Y9, Y7, Y9 \
	VMULPD Y9, Y6, Y9 \
	K(4, Y7) \
	VADDPD Y9, Y7, Y9 \
	VMULPD Y6, Y6, Y10 \
	VMULPD Y9, Y10, Y10 \
	VADDPD Y10, Y6, Y10 \
	VPCMPEQQ Y7, Y7, Y7 \
	VGATHERDPD Y7, (R9)(X4*8), Y8 \
	VADDPD Y10, Y8, Y10 \
	VMOVUPD off(AX)(SI*8), Y0 \
	VMAXPD Y15, Y0, Y0 \
	VADDPD Y10, Y0, Y0

// func softplusBlocksAVX2(t, e *float64, nblocks int, acc *[8]float64, k *[spConstsLen]float64, inv, tab *[256]float64) int
//
// softplusSum's full blocks of 16 terms, block after block, into its eight
// partial sums: term j of a block (max(t_j, 0) + log1p(e_j), softplusTerms'
// operations) is added to acc[j mod 8], the terms of each partial sum in
// index order (acc[0…3] in Y12, acc[4…7] in Y13). It stops before the first
// block with an e outside [0, 1] (NaN included: the Go loop takes
// math.Log1p there) and returns the number of blocks added. max(t, 0) is
// VMAXPD with +0 as its second source, which returns +0 for t = ±0, as the
// Go loop does (a NaN t has a NaN e, refused). Constants k: 0, 1, 1/128,
// 128, −1/2, 1/3, −1/4, 1/5, −1/6, 1/7, −1/8; inv and tab are log1pInv and
// log1pTab.
TEXT ·softplusBlocksAVX2(SB), NOSPLIT, $0-64
	MOVQ t+0(FP), AX
	MOVQ e+8(FP), DX
	MOVQ nblocks+16(FP), BX
	MOVQ acc+24(FP), CX
	MOVQ k+32(FP), DI
	MOVQ inv+40(FP), R8
	MOVQ tab+48(FP), R9

	K(0, Y15) // 0
	K(1, Y14) // 1
	VMOVUPD (CX), Y12
	VMOVUPD 32(CX), Y13
	XORQ R10, R10
spblock:
	CMPQ R10, BX
	JGE spdone
	VPCMPEQQ Y11, Y11, Y11
	XORQ SI, SI
spcheck:
	VMOVUPD (DX)(SI*8), Y0
	VCMPPD $0x1D, Y15, Y0, Y1 // e ≥ 0, ordered
	VCMPPD $0x12, Y14, Y0, Y2 // e ≤ 1, ordered
	VANDPD Y1, Y2, Y1
	VANDPD Y1, Y11, Y11
	ADDQ $4, SI
	CMPQ SI, $16
	JLT spcheck
	VMOVMSKPD Y11, R11
	CMPQ R11, $15
	JNE spdone

	XORQ SI, SI
sploop:
	SPTERMS(0)
	VADDPD Y0, Y12, Y12 // terms j, j+1, j+2, j+3 (j ≡ 0 mod 8)
	SPTERMS(32)
	VADDPD Y0, Y13, Y13 // terms j+4 … j+7
	ADDQ $8, SI
	CMPQ SI, $16
	JLT sploop
	ADDQ $128, AX
	ADDQ $128, DX
	INCQ R10
	JMP spblock
spdone:
	VMOVUPD Y12, (CX)
	VMOVUPD Y13, 32(CX)
	MOVQ R10, ret+56(FP)
	VZEROUPPER
	RET
