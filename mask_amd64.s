//go:build amd64 && !purego

#include "textflag.h"

// func maskAVX2(b []byte, key uint32, pos int) int
//
// XORs b in place as RFC 6455 §5.3 describes: b[i] ^= key[(pos+i)&3], with
// key the little-endian bytes of the uint32.
// Returns (pos+len(b))&3.
//
// Masking is not idempotent, so the ragged ends of the buffer cannot simply
// be masked twice by overlapping blocks. Instead the first and last blocks
// are loaded and masked from the original bytes before anything is written,
// and stored only after the body: bytes that a body block also covered get
// the same value from either store. A block that starts at offset o uses the
// key rotated by o&3 bytes; the last block starts at n-width ≡ n (mod 4).
//
// Register use: DI = current pointer, SI = n, R8 = start of b, R9 = end of b,
// AX = key rotated for b[0], DX = key rotated for the last block.
TEXT ·maskAVX2(SB), NOSPLIT, $0-48
	MOVQ b_base+0(FP), DI
	MOVQ b_len+8(FP), SI
	MOVL key+24(FP), AX
	MOVQ pos+32(FP), CX

	LEAQ (CX)(SI*1), BX
	ANDQ $3, BX
	MOVQ BX, ret+40(FP)

	// A 32-bit rotate uses only the low 5 bits of CL, so shifting by
	// 8*pos rotates by 8*(pos&3) bits without masking pos first.
	SHLL $3, CX
	RORL CX, AX
	MOVL SI, CX
	SHLL $3, CX
	MOVL AX, DX
	RORL CX, DX

	CMPQ SI, $32
	JB   small

	// Y0 = body key, Y1 = last block masked, Y2 = first block masked.
	VMOVD        AX, X0
	VPBROADCASTD X0, Y0
	VMOVD        DX, X1
	VPBROADCASTD X1, Y1
	MOVQ         DI, R8
	LEAQ         (DI)(SI*1), R9
	VPXOR        (DI), Y0, Y2
	VPXOR        -32(R9), Y1, Y1
	ADDQ         $32, DI

	// For long buffers start the body at the first 32-byte boundary after
	// b[0]: unaligned 32-byte accesses that straddle cache lines are much
	// slower. Short ones just start at b[32] with the same key.
	// Since the boundary is a multiple of 4 bytes past offset -R8, the
	// body key is the argument key rotated by (pos-R8)&3 bytes.
	CMPQ         SI, $256
	JB           body
	ANDQ         $-32, DI
	MOVL         key+24(FP), AX
	MOVQ         pos+32(FP), CX
	SUBQ         R8, CX
	SHLL         $3, CX
	RORL         CX, AX
	VMOVD        AX, X0
	VPBROADCASTD X0, Y0

body:
	// 128 bytes per iteration while four whole blocks fit before the end.
	LEAQ -128(R9), R10
	CMPQ DI, R10
	JA   loop32

loop128:
	VPXOR   (DI), Y0, Y3
	VPXOR   32(DI), Y0, Y4
	VPXOR   64(DI), Y0, Y5
	VPXOR   96(DI), Y0, Y6
	VMOVDQU Y3, (DI)
	VMOVDQU Y4, 32(DI)
	VMOVDQU Y5, 64(DI)
	VMOVDQU Y6, 96(DI)
	ADDQ    $128, DI
	CMPQ    DI, R10
	JBE     loop128

loop32:
	// Blocks starting before the last block's start; each ends before R9.
	LEAQ -32(R9), R11

loop32next:
	CMPQ    DI, R11
	JAE     ends
	VPXOR   (DI), Y0, Y3
	VMOVDQU Y3, (DI)
	ADDQ    $32, DI
	JMP     loop32next

ends:
	VMOVDQU Y2, (R8)
	VMOVDQU Y1, -32(R9)
	VZEROUPPER
	RET

small:
	// Fewer than 32 bytes: the same first/last trick with 16-, 8- or
	// 4-byte halves, then single bytes. Only VEX.128 and general purpose
	// instructions are used, which leave the upper YMM halves clean.
	CMPQ SI, $16
	JB   lt16
	VMOVD        AX, X0
	VPBROADCASTD X0, X0
	VMOVD        DX, X1
	VPBROADCASTD X1, X1
	VPXOR        (DI), X0, X2
	VPXOR        -16(DI)(SI*1), X1, X3
	VMOVDQU      X2, (DI)
	VMOVDQU      X3, -16(DI)(SI*1)
	RET

lt16:
	CMPQ SI, $8
	JB   lt8
	// Widen both keys to 64 bits.
	MOVL AX, R8
	SHLQ $32, AX
	ORQ  R8, AX
	MOVL DX, R8
	SHLQ $32, DX
	ORQ  R8, DX
	MOVQ (DI), R10
	MOVQ -8(DI)(SI*1), R11
	XORQ AX, R10
	XORQ DX, R11
	MOVQ R10, (DI)
	MOVQ R11, -8(DI)(SI*1)
	RET

lt8:
	CMPQ SI, $4
	JB   lt4
	MOVL (DI), R10
	MOVL -4(DI)(SI*1), R11
	XORL AX, R10
	XORL DX, R11
	MOVL R10, (DI)
	MOVL R11, -4(DI)(SI*1)
	RET

lt4:
	TESTQ SI, SI
	JZ    done
	XORB  AL, (DI)
	CMPQ  SI, $1
	JE    done
	SHRL  $8, AX
	XORB  AL, 1(DI)
	CMPQ  SI, $2
	JE    done
	SHRL  $8, AX
	XORB  AL, 2(DI)

done:
	RET

// func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL subleaf+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv0() (eax, edx uint32)
TEXT ·xgetbv0(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET
