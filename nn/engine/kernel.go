package engine

// kernel is a micro-kernel: it computes one mr×nr tile of C over kc steps of
// k from a packed sliver of A and a sliver of B.
type kernel int

const (
	kernGo     kernel = iota // kernelGo, the pure-Go twin (FMA32)
	kernAVX2                 // sgemm4x24AVX2: 12 ymm accumulators
	kernAVX512               // sgemm8x32AVX512: 16 zmm accumulators
)

func (k kernel) String() string {
	switch k {
	case kernAVX2:
		return "avx2"
	case kernAVX512:
		return "avx512"
	}
	return "go"
}

// tile is the kernel's mr×nr (the Go twin takes any; 4×24 by default).
func (k kernel) tile() (mr, nr int) {
	if k == kernAVX512 {
		return 8, 32
	}
	return 4, 24
}

// run computes the tile c[i·ldc+j], i < mr, j < nr: starting from c (load)
// or from 0, c[i][j] ← fma(a[l·mr+i], b[l·bstride+j], c[i][j]) for l = 0…kc−1.
func (k kernel) run(mr, nr, kc int, a, b []float32, bstride int, c []float32, ldc int, load bool) {
	if k == kernGo {
		kernelGo(mr, nr, kc, a, b, bstride, c, ldc, load)
		return
	}
	// The assembly reads these without bounds checks.
	_ = a[mr*kc-1]
	_ = b[(kc-1)*bstride+nr-1]
	_ = c[(mr-1)*ldc+nr-1]
	runAsm(k, kc, &a[0], &b[0], bstride, &c[0], ldc, load)
}

// kernelGo is the micro-kernel in Go: every element one FMA32 chain, the
// same bits as the assembly kernels (mr·nr ≤ 512).
func kernelGo(mr, nr, kc int, a, b []float32, bstride int, c []float32, ldc int, load bool) {
	var t [512]float32
	acc := t[:mr*nr]
	if load {
		for i := range mr {
			copy(acc[i*nr:(i+1)*nr], c[i*ldc:i*ldc+nr])
		}
	}
	for l := range kc {
		ar := a[l*mr : (l+1)*mr]
		br := b[l*bstride : l*bstride+nr]
		for i, av := range ar {
			row := acc[i*nr : (i+1)*nr]
			for j, bv := range br {
				row[j] = FMA32(av, bv, row[j])
			}
		}
	}
	for i := range mr {
		copy(c[i*ldc:i*ldc+nr], acc[i*nr:(i+1)*nr])
	}
}
