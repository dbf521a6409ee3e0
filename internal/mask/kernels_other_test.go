//go:build !amd64 || purego

package mask

// archKernels is empty: this build has only the portable kernel.
var archKernels []kernel

// useKernel has nothing to switch: generic is the only kernel.
func useKernel(string) (restore func()) { return func() {} }
