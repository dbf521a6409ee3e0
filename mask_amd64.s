//go:build amd64 && !purego

#include "textflag.h"

// func maskAVX2(b []byte, key uint32)
//
// XORs b in place with key repeated every 4 bytes (RFC 6455 §5.3); the low
// byte of key applies to b[0].
//
// Masking is not idempotent, so the ragged end of the buffer cannot simply
// be masked twice by an overlapping block. Instead the overlapping block is
// loaded and masked from the original bytes before the main loop writes
// anything, and stored after it: bytes covered by both get the same value
// from either store. The overlapping block starts at offset n-width, which
// is n (mod 4), so it uses the key rotated by n&3 bytes.
//
// Registers: DI = pointer, SI = length, AX = key, DX = key rotated for the
// final block.
TEXT ·maskAVX2(SB), NOSPLIT, $0-28
	MOVQ b_base+0(FP), DI
	MOVQ b_len+8(FP), SI
	MOVL key+24(FP), AX

	// DX = AX rotated right by 8*(n&3) bits.
	MOVQ SI, CX
	ANDL $3, CX
	SHLL $3, CX
	MOVL AX, DX
	RORL CX, DX

	CMPQ SI, $32
	JB   small

	// Y0 = key for the blocks from the start, Y1 = key for the last block.
	VMOVD        AX, X0
	VPBROADCASTD X0, Y0
	VMOVD        DX, X1
	VPBROADCASTD X1, Y1

	// R9 = address of the last 32 bytes; Y2 = those bytes, masked.
	LEAQ  -32(DI)(SI*1), R9
	VPXOR (R9), Y1, Y2

	// R11 = end of the region done 32 bytes at a time: the largest
	// multiple of 32 below n, so the last block is always left to Y2.
	LEAQ -1(SI), R11
	ANDQ $-32, R11
	ADDQ DI, R11

	// 128 bytes per iteration while that fits below R11.
	LEAQ -128(R11), R10
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
	CMPQ    DI, R11
	JAE     last32
	VPXOR   (DI), Y0, Y3
	VMOVDQU Y3, (DI)
	ADDQ    $32, DI
	JMP     loop32

last32:
	VMOVDQU Y2, (R9)
	VZEROUPPER
	RET

small:
	// Fewer than 32 bytes: the same overlap trick with 16-, 8- or 4-byte
	// halves, then single bytes. Only VEX-encoded 128-bit and general
	// purpose instructions are used here, so no VZEROUPPER is needed.
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
