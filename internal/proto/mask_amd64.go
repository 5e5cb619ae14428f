//go:build amd64 && !purego

package proto

// haveVector reports whether maskVector exists: SSE2 is part of every amd64
// CPU, so it always does here.
const haveVector = true

// vectorMin is the length from which Mask calls the vector kernel: below it
// the call into assembly costs more than the word loop it saves (measured
// with BenchmarkMaskSizes).
const vectorMin = 128

// cpuKernel is the best kernel this machine runs: AVX2 when the CPU has it and
// the operating system saves the YMM registers, SSE2 otherwise. It is set once
// at initialisation and never changed.
var cpuKernel = detectKernel()

func detectKernel() kernel {
	if hasAVX2() {
		return kernelAVX2
	}
	return kernelSSE2
}

// hasAVX2 follows the detection order of Intel's Software Developer's Manual
// (volume 1, "Detection of Intel AVX2"): CPUID leaf 1 must report OSXSAVE
// (ECX bit 27) and AVX (ECX bit 28), XCR0 must have the SSE and AVX state bits
// (1 and 2) set, and CPUID leaf 7 must report AVX2 (EBX bit 5).
func hasAVX2() bool {
	if maxLeaf, _, _, _ := cpuid(0, 0); maxLeaf < 7 {
		return false
	}
	const osxsave, avx = 1 << 27, 1 << 28
	if _, _, ecx, _ := cpuid(1, 0); ecx&(osxsave|avx) != osxsave|avx {
		return false
	}
	if xcr0 := xgetbv0(); xcr0&6 != 6 {
		return false
	}
	_, ebx, _, _ := cpuid(7, 0)
	return ebx&(1<<5) != 0
}

// maskVector XORs b, whose length is a multiple of vectorBlock, with the
// rotated 32-bit key repeated, using kern (kernelSSE2 or kernelAVX2).
func maskVector(b []byte, key uint32, kern kernel) {
	if kern == kernelAVX2 {
		maskAVX2(b, key)
		return
	}
	maskSSE2(b, key)
}

// maskAVX2 XORs b (len a multiple of 32) with key broadcast to every 32-bit
// lane, 128 bytes per iteration with 256-bit registers.
//
//go:noescape
func maskAVX2(b []byte, key uint32)

// maskSSE2 is maskAVX2 with 128-bit registers, 64 bytes per iteration
// (len a multiple of 16).
//
//go:noescape
func maskSSE2(b []byte, key uint32)

// cpuid runs the CPUID instruction for leaf and subleaf.
func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

// xgetbv0 returns the low half of extended control register 0 (XCR0).
func xgetbv0() uint32
