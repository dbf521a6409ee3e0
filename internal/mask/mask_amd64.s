//go:build amd64 && !purego

#include "textflag.h"

// func xorKey(b []byte, key uint32, pos int) int
//
// XORs b in place as RFC 6455 §5.3 describes: b[i] ^= key[(pos+i)&3], with
// key the little-endian bytes of the uint32. Returns (pos+len(b))&3.
//
// After the prologue, AX holds the key rotated so that its low byte applies
// to b[0]. A block that starts at offset o from b[0] uses AX rotated right
// by 8*o bits; for o a multiple of 4 that is AX itself.
//
// Masking is not idempotent, so the ragged ends of the buffer cannot simply
// be masked twice by overlapping blocks. Instead the first and last blocks
// are loaded and masked from the original bytes before anything is written,
// and stored only after the body: bytes that a body block also covered get
// the same value from either store. The last block starts at n-width, and
// n-width ≡ n (mod 4) for every width used here, so its key is AX rotated
// by 8*n bits (DX).
//
// Opmasked loads and stores (AVX-512BW) could replace the overlapping
// blocks, but masking the same buffer over and over (BenchmarkMask)
// measured them two to three times slower for 7 to 200 bytes, most likely because a load cannot
// take its data from an opmasked store still in the store buffer; the same
// would happen to a payload masked just after it was copied in.
//
// Register use: DI = current pointer, SI = n, R8 = start of b,
// R9 = end of b, AX = key for b[0], DX = key for the last block.
TEXT ·xorKey(SB), NOSPLIT, $0-48
	MOVQ b_base+0(FP), DI
	MOVQ b_len+8(FP), SI
	MOVL key+24(FP), AX
	MOVQ pos+32(FP), CX

	LEAQ (CX)(SI*1), BX
	ANDQ $3, BX
	MOVQ BX, ret+40(FP)

	CMPB ·useAVX2(SB), $0
	JEQ  generic

	// A 32-bit rotate uses only the low 5 bits of CL, so rotating by 8*pos
	// or 8*n rotates by 8*(pos mod 4) or 8*(n mod 4) bits, as needed,
	// without masking first.
	SHLL $3, CX
	RORL CX, AX
	MOVL SI, CX
	SHLL $3, CX
	MOVL AX, DX
	RORL CX, DX

	// The AVX-512 kernel takes 128 bytes to 48 KiB. Below that it would
	// have no more than one body block, and measured no faster than the
	// AVX2 code, which it shares. Above, the buffer no longer fits a
	// typical L1 data cache, and masking it with ZMM registers measured
	// about 10% slower than with YMM (while 25-30% faster within L1), in
	// BenchmarkMask on a 48 KiB-L1 Xeon.
	CMPQ SI, $32
	JB   small
	CMPQ SI, $128
	JB   ymm
	CMPQ SI, $(48*1024)
	JA   ymm
	CMPB ·useAVX512(SB), $0
	JNE  zmm

ymm:
	// AVX2, 32 bytes and up. Y0 = body key, Y1 = last block masked,
	// Y2 = first block masked. Up to 64 bytes these two are all there is.
	VMOVD        AX, X0
	VPBROADCASTD X0, Y0
	VMOVD        DX, X1
	VPBROADCASTD X1, Y1
	MOVQ         DI, R8
	LEAQ         (DI)(SI*1), R9
	VPXOR        (DI), Y0, Y2
	VPXOR        -32(R9), Y1, Y1
	CMPQ         SI, $64
	JBE          yends
	ADDQ         $32, DI

	// For long buffers start the body at the first 32-byte boundary after
	// b[0]: unaligned 32-byte accesses that straddle cache lines are much
	// slower. Short ones just start at b[32] with the same key.
	CMPQ         SI, $256
	JB           ybody
	ANDQ         $-32, DI
	MOVQ         DI, CX
	SUBQ         R8, CX
	SHLL         $3, CX
	RORL         CX, AX
	VMOVD        AX, X0
	VPBROADCASTD X0, Y0

ybody:
	// 128 bytes per iteration while four whole blocks fit before the end.
	LEAQ -128(R9), R10
	CMPQ DI, R10
	JA   yloop32

yloop128:
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
	JBE     yloop128

yloop32:
	// Blocks starting before the last block's start; each ends before R9.
	LEAQ -32(R9), R11

yloop32next:
	CMPQ    DI, R11
	JAE     yends
	VPXOR   (DI), Y0, Y3
	VMOVDQU Y3, (DI)
	ADDQ    $32, DI
	JMP     yloop32next

yends:
	VMOVDQU Y2, (R8)
	VMOVDQU Y1, -32(R9)
	VZEROUPPER
	RET

zmm:
	// AVX-512, 128 bytes to 48 KiB: the AVX2 code with 64-byte blocks. Only
	// AVX512F instructions are used. Z0 = body key, Z1 = last block masked,
	// Z2 = first block masked.
	VPBROADCASTD AX, Z0
	VPBROADCASTD DX, Z1
	MOVQ         DI, R8
	LEAQ         (DI)(SI*1), R9
	VPXORD       (DI), Z0, Z2
	VPXORD       -64(R9), Z1, Z1
	CMPQ         SI, $128
	JBE          zends
	ADDQ         $64, DI

	// Every unaligned 64-byte access straddles two cache lines, so all but
	// short buffers start the body at the first 64-byte boundary after b[0].
	CMPQ         SI, $256
	JB           zbody
	ANDQ         $-64, DI
	MOVQ         DI, CX
	SUBQ         R8, CX
	SHLL         $3, CX
	RORL         CX, AX
	VPBROADCASTD AX, Z0

zbody:
	// 256 bytes per iteration while four whole blocks fit before the end.
	LEAQ -256(R9), R10
	CMPQ DI, R10
	JA   zloop64

zloop256:
	VPXORD    (DI), Z0, Z3
	VPXORD    64(DI), Z0, Z4
	VPXORD    128(DI), Z0, Z5
	VPXORD    192(DI), Z0, Z6
	VMOVDQU64 Z3, (DI)
	VMOVDQU64 Z4, 64(DI)
	VMOVDQU64 Z5, 128(DI)
	VMOVDQU64 Z6, 192(DI)
	ADDQ      $256, DI
	CMPQ      DI, R10
	JBE       zloop256

zloop64:
	LEAQ -64(R9), R11

zloop64next:
	CMPQ      DI, R11
	JAE       zends
	VPXORD    (DI), Z0, Z3
	VMOVDQU64 Z3, (DI)
	ADDQ      $64, DI
	JMP       zloop64next

zends:
	VMOVDQU64 Z2, (R8)
	VMOVDQU64 Z1, -64(R9)
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

generic:
	// No AVX2: the portable code, with the same arguments and frame. It
	// writes the result again.
	JMP ·maskGeneric(SB)

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
