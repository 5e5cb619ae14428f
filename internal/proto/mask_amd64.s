//go:build amd64 && !purego

#include "textflag.h"

// func maskAVX2(b []byte, key uint32)
//
// Y0 holds the key in all eight 32-bit lanes. Four independent 256-bit
// load-xor-store chains per iteration; VPXOR takes an unaligned memory
// operand, so b needs no alignment. The caller guarantees len(b)%32 == 0.
TEXT ·maskAVX2(SB), NOSPLIT, $0-28
	MOVQ         b_base+0(FP), DI
	MOVQ         b_len+8(FP), CX
	MOVL         key+24(FP), AX
	MOVL         AX, X0
	VPBROADCASTD X0, Y0
	CMPQ         CX, $128
	JB           avx32

avx128:
	VPXOR   (DI), Y0, Y1
	VPXOR   32(DI), Y0, Y2
	VPXOR   64(DI), Y0, Y3
	VPXOR   96(DI), Y0, Y4
	VMOVDQU Y1, (DI)
	VMOVDQU Y2, 32(DI)
	VMOVDQU Y3, 64(DI)
	VMOVDQU Y4, 96(DI)
	ADDQ    $128, DI
	SUBQ    $128, CX
	CMPQ    CX, $128
	JAE     avx128

avx32:
	TESTQ CX, CX
	JZ    avxdone

avx32loop:
	VPXOR   (DI), Y0, Y1
	VMOVDQU Y1, (DI)
	ADDQ    $32, DI
	SUBQ    $32, CX
	JNZ     avx32loop

avxdone:
	VZEROUPPER
	RET

// func maskSSE2(b []byte, key uint32)
//
// X0 holds the key in all four 32-bit lanes. Legacy PXOR needs an aligned
// memory operand, so every block is loaded with MOVOU first. The caller
// guarantees len(b)%16 == 0.
TEXT ·maskSSE2(SB), NOSPLIT, $0-28
	MOVQ   b_base+0(FP), DI
	MOVQ   b_len+8(FP), CX
	MOVL   key+24(FP), AX
	MOVL   AX, X0
	PSHUFL $0, X0, X0
	CMPQ   CX, $64
	JB     sse16

sse64:
	MOVOU (DI), X1
	MOVOU 16(DI), X2
	MOVOU 32(DI), X3
	MOVOU 48(DI), X4
	PXOR  X0, X1
	PXOR  X0, X2
	PXOR  X0, X3
	PXOR  X0, X4
	MOVOU X1, (DI)
	MOVOU X2, 16(DI)
	MOVOU X3, 32(DI)
	MOVOU X4, 48(DI)
	ADDQ  $64, DI
	SUBQ  $64, CX
	CMPQ  CX, $64
	JAE   sse64

sse16:
	TESTQ CX, CX
	JZ    ssedone

sse16loop:
	MOVOU (DI), X1
	PXOR  X0, X1
	MOVOU X1, (DI)
	ADDQ  $16, DI
	SUBQ  $16, CX
	JNZ   sse16loop

ssedone:
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

// func xgetbv0() uint32
TEXT ·xgetbv0(SB), NOSPLIT, $0-4
	MOVL   $0, CX
	XGETBV
	MOVL   AX, ret+0(FP)
	RET
