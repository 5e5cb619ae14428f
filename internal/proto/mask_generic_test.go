//go:build !amd64 || purego

package proto

// testKernels lists the kernels available here: only the pure-Go words.
func testKernels() []kernel { return []kernel{kernelGo} }
