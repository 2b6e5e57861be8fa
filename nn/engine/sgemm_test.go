package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/efmpi/efmpi/internal/par"
)

// gemmCase is one product's shape and layout.
type gemmCase struct {
	tA, tB, acc bool
	m, n, k     int
	lda, ldb    int
	ldc         int
}

func (c gemmCase) String() string {
	return fmt.Sprintf("tA=%v tB=%v acc=%v m=%d n=%d k=%d", c.tA, c.tB, c.acc, c.m, c.n, c.k)
}

// randVals fills a slice with values of mixed sign and magnitude (so that the
// order of a sum shows in its bits).
func randVals(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32((rng.Float64()*2 - 1) * math.Ldexp(1, rng.IntN(9)-4))
	}
	return s
}

// operands returns A, B and C for the case, with random padding in the strides.
func (c *gemmCase) operands(rng *rand.Rand) (a, b, cm []float32) {
	ar, ac := c.m, c.k
	if c.tA {
		ar, ac = c.k, c.m
	}
	br, bc := c.k, c.n
	if c.tB {
		br, bc = c.n, c.k
	}
	c.lda, c.ldb, c.ldc = ac+rng.IntN(3), bc+rng.IntN(3), c.n+rng.IntN(3)
	a = randVals(rng, max(ar*c.lda, 1))
	b = randVals(rng, max(br*c.ldb, 1))
	cm = randVals(rng, c.m*c.ldc)
	return a, b, cm
}

// requireBits fails unless got and want hold the same float32 bits.
func requireBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d: %v (%#x), want %v (%#x)", what, i,
				got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// kernels are all the kernels this machine runs: the Go twin and the
// assembly ones.
func kernels() []kernel { return append([]kernel{kernGo}, asmKernels()...) }

// run computes the case with g on copies of the operands and returns C.
func (c gemmCase) run(g *Gemm, a, b, cm []float32) []float32 {
	out := append([]float32(nil), cm...)
	g.Sgemm(c.tA, c.tB, c.m, c.n, c.k, a, c.lda, b, c.ldb, c.acc, out, c.ldc)
	return out
}

func (c gemmCase) ref(a, b, cm []float32) []float32 {
	out := append([]float32(nil), cm...)
	sgemmRef(c.tA, c.tB, c.m, c.n, c.k, a, c.lda, b, c.ldb, c.acc, out, c.ldc)
	return out
}

// testShapes are edge shapes, primes, and ResNet-20's convolution products
// at a reduced image count (forward W·col, dW = dY·colᵀ, dcol = Wᵀ·dY).
func testShapes(rng *rand.Rand) [][3]int {
	s := [][3]int{
		{1, 1, 1}, {1, 1, 0}, {3, 2, 0}, {1, 1, 2}, {2, 3, 1}, {4, 24, 1}, {8, 32, 1},
		{5, 25, 3}, {9, 33, 7}, {7, 13, 11}, {13, 29, 31}, {31, 37, 41}, {4, 24, 257},
		{8, 32, 513}, {17, 67, 300}, {3, 2100, 5}, {200, 5, 9},
		{16, 300, 144}, {32, 160, 288}, {64, 70, 576}, // forward
		{16, 144, 600}, {32, 288, 300}, // dW
		{144, 200, 16}, {288, 100, 32}, // dcol
		{6, 120, 400}, {10, 84, 120}, // LeNet/MLP-ish
	}
	for range 20 {
		s = append(s, [3]int{1 + rng.IntN(70), 1 + rng.IntN(90), rng.IntN(300)})
	}
	return s
}

// TestSgemmMatchesRef: every kernel, all four transposes, acc on and off,
// many shapes, B packed or read in place, the default cache blocking and
// odd small ones: the bits of the naive FMA32 chain.
func TestSgemmMatchesRef(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sh := range testShapes(rng) {
		for tr := range 8 {
			c := gemmCase{tA: tr&1 != 0, tB: tr&2 != 0, acc: tr&4 != 0, m: sh[0], n: sh[1], k: sh[2]}
			a, b, cm := c.operands(rng)
			want := c.ref(a, b, cm)
			for _, k := range kernels() {
				for _, packAll := range []bool{false, true} {
					for _, blk := range [][3]int{{blockK, blockM, blockN}, {7, 1, 1}, {33, 17, 50}} {
						g := newGemm(nil, k)
						g.packAllB = packAll
						g.kc, g.mc, g.nc = blk[0], blk[1], blk[2]
						requireBits(t, fmt.Sprintf("%v %v packAllB=%v blocks %v", g.Kernel(), c, packAll, blk), c.run(g, a, b, cm), want)
					}
				}
			}
		}
	}
}

// TestSgemmGoTiles: the Go twin with other tile shapes (the packing and edge
// code for mr×nr other than the assembly kernels') gives the same bits.
func TestSgemmGoTiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tile := range [][2]int{{1, 1}, {3, 5}, {6, 16}, {8, 32}, {16, 8}} {
		for _, sh := range [][3]int{{1, 1, 1}, {7, 11, 13}, {20, 40, 300}, {33, 65, 9}} {
			for tr := range 8 {
				c := gemmCase{tA: tr&1 != 0, tB: tr&2 != 0, acc: tr&4 != 0, m: sh[0], n: sh[1], k: sh[2]}
				a, b, cm := c.operands(rng)
				g := newGemm(nil, kernGo)
				g.mr, g.nr = tile[0], tile[1]
				requireBits(t, fmt.Sprintf("go %v %v", tile, c), c.run(g, a, b, cm), c.ref(a, b, cm))
			}
		}
	}
}

// TestSgemmThreads: 1, 2, 3 and 5 threads give the reference's bits, C split
// by columns and by rows.
func TestSgemmThreads(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	shapes := [][3]int{{16, 300, 144}, {144, 50, 16}, {200, 30, 40}, {5, 7, 600}, {64, 97, 70}, {1, 1, 3}}
	for _, threads := range []int{1, 2, 3, 5} {
		pool := par.New(threads)
		for _, k := range kernels() {
			g := newGemm(pool, k)
			for _, sh := range shapes {
				for tr := range 8 {
					c := gemmCase{tA: tr&1 != 0, tB: tr&2 != 0, acc: tr&4 != 0, m: sh[0], n: sh[1], k: sh[2]}
					a, b, cm := c.operands(rng)
					requireBits(t, fmt.Sprintf("%d threads %v %v", threads, g.Kernel(), c), c.run(g, a, b, cm), c.ref(a, b, cm))
				}
			}
		}
		pool.Close()
	}
}

// TestSgemmSplitK: a product over k computed as two calls, the second with
// acc over the rest of k, gives the bits of one call.
func TestSgemmSplitK(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, k := range kernels() {
		g := newGemm(nil, k)
		for _, sh := range [][3]int{{16, 50, 300}, {9, 33, 7}, {4, 24, 600}} {
			for tr := range 4 {
				c := gemmCase{tA: tr&1 != 0, tB: tr&2 != 0, m: sh[0], n: sh[1], k: sh[2]}
				a, b, cm := c.operands(rng)
				want := c.run(g, a, b, cm)
				for _, k1 := range []int{0, 1, sh[2] / 3, 256, sh[2] - 1, sh[2]} {
					if k1 > sh[2] {
						continue
					}
					got := append([]float32(nil), cm...)
					// The first k1 columns of op(A) and rows of op(B), then the rest.
					a2, b2 := a[min(k1, len(a)):], b[min(k1*c.ldb, len(b)):]
					if c.tA {
						a2 = a[min(k1*c.lda, len(a)):]
					} else {
						a2 = a[min(k1, len(a)):]
					}
					if c.tB {
						b2 = b[min(k1, len(b)):]
					}
					g.Sgemm(c.tA, c.tB, c.m, c.n, k1, a, c.lda, b, c.ldb, false, got, c.ldc)
					g.Sgemm(c.tA, c.tB, c.m, c.n, c.k-k1, a2, c.lda, b2, c.ldb, true, got, c.ldc)
					requireBits(t, fmt.Sprintf("%v %v split at %d", g.Kernel(), c, k1), got, want)
				}
			}
		}
	}
}

// TestSgemmNearFloat64: C against the float64 product within the standard
// error bound of a length-k chain, k·2⁻²⁴·Σ|a||b| (plus a rounding of C).
func TestSgemmNearFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	c := gemmCase{m: 19, n: 45, k: 5000}
	a, b, cm := c.operands(rng)
	for _, k := range kernels() {
		got := c.run(newGemm(nil, k), a, b, cm)
		worst := 0.0
		for i := range c.m {
			for j := range c.n {
				var s, abs float64
				for l := range c.k {
					p := float64(a[i*c.lda+l]) * float64(b[l*c.ldb+j])
					s += p
					abs += math.Abs(p)
				}
				bound := float64(c.k)*0x1p-24*abs + 0x1p-24*math.Abs(s)
				e := math.Abs(float64(got[i*c.ldc+j]) - s)
				if e > bound {
					t.Fatalf("%v: c[%d][%d] = %v, float64 %v, error %g > bound %g", k, i, j, got[i*c.ldc+j], s, e, bound)
				}
				worst = max(worst, e/abs)
			}
		}
		if worst == 0 {
			t.Fatalf("%v: no rounding error at all: float32 was not used", k)
		}
		t.Logf("%v: worst |c − c64| / Σ|a||b| = %.3g", k, worst)
	}
}

// TestSgemmZeroK: k = 0 sets C to 0, or leaves it with acc.
func TestSgemmZeroK(t *testing.T) {
	g := NewGemm(nil)
	c := []float32{1, 2, 3, 4, 5, 6}
	g.Sgemm(false, false, 2, 2, 0, nil, 0, nil, 2, true, c, 3)
	requireBits(t, "acc", c, []float32{1, 2, 3, 4, 5, 6})
	g.Sgemm(false, false, 2, 2, 0, nil, 0, nil, 2, false, c, 3)
	requireBits(t, "no acc", c, []float32{0, 0, 3, 0, 0, 6})
}

// TestSgemmShortSlice: a slice too short for its shape panics (naming it)
// instead of the assembly reading past it.
func TestSgemmShortSlice(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || fmt.Sprint(r) != "engine: Sgemm: B is 3×4 with stride 4 but has 11 elements" {
			t.Fatalf("recovered %v", r)
		}
	}()
	NewGemm(nil).Sgemm(false, false, 2, 4, 3, make([]float32, 6), 3, make([]float32, 11), 4, false, make([]float32, 8), 4)
}

// TestSgemmAllocs: once the buffers have grown, a product allocates nothing,
// on one thread and on three.
func TestSgemmAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, threads := range []int{1, 3} {
		pool := par.New(threads)
		g := NewGemm(pool)
		for tr := range 4 {
			c := gemmCase{tA: tr&1 != 0, tB: tr&2 != 0, m: 40, n: 300, k: 300}
			a, b, cm := c.operands(rng)
			allocs := testing.AllocsPerRun(5, func() {
				g.Sgemm(c.tA, c.tB, c.m, c.n, c.k, a, c.lda, b, c.ldb, true, cm, c.ldc)
			})
			if allocs != 0 {
				t.Fatalf("%d threads %v: %v allocations per product", threads, c, allocs)
			}
		}
		pool.Close()
	}
}
