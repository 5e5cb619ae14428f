//go:build amd64 && !purego

package proto

// testKernels lists the kernels this machine runs, pure Go first and the one
// Mask picks last.
func testKernels() []kernel {
	ks := []kernel{kernelGo, kernelSSE2}
	if hasAVX2() {
		ks = append(ks, kernelAVX2)
	}
	return ks
}
