//go:build !amd64

package engine

// bestKernel is the Go twin off amd64.
func bestKernel() kernel { return kernGo }

// asmKernels lists none off amd64.
func asmKernels() []kernel { return nil }

func runAsm(k kernel, kc int, a, b *float32, bstride int, c *float32, ldc int, load bool) {
	panic("engine: no assembly kernels on this architecture")
}
