//go:build !amd64 || purego

package proto

import "encoding/binary"

// haveVector reports whether maskVector exists: not on this platform (or with
// the purego build tag), so Mask uses 64-bit words for every length.
const haveVector = false

// vectorMin is unused without a vector kernel.
const vectorMin = 1 << 62

// cpuKernel is the only kernel available here.
const cpuKernel = kernelGo

// maskVector is never called when haveVector is false; it keeps mask
// compiling on every platform, and would mask correctly through the words.
func maskVector(b []byte, key uint32, _ kernel) {
	var k [4]byte
	binary.LittleEndian.PutUint32(k[:], key)
	mask(k, 0, b, kernelGo)
}
