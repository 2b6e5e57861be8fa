package engine

import (
	"fmt"

	"github.com/efmpi/efmpi/internal/par"
)

// The cache blocking (in elements): a kc×nr sliver of packed B stays in L1
// while the micro-kernel runs down the mc rows of a packed A block, which
// stays in L2; B is packed kc×nc at a time. The bits do not depend on these
// (every element is one FMA chain in k order, continued across kc blocks by
// loading the partial C), only the speed does.
const (
	blockK = 256
	blockM = 192
	blockN = 2048
)

// Gemm computes single-precision matrix products on a pool of threads. It
// owns the packing buffers of every thread, so a product allocates nothing
// once the buffers have grown to the largest shape it has seen.
// A Gemm is used by one caller at a time.
type Gemm struct {
	pool   *par.Pool
	kern   kernel
	mr, nr int
	// packAllB packs B even where the kernel could read it in place (B not
	// transposed); tests set it to run both paths.
	packAllB bool
	// kc, mc, nc are the blocking (blockK, blockM, blockN; mc a multiple
	// of mr, nc of nr); tests and tuning benchmarks change them.
	kc, mc, nc int
	bufs       []buffers
	task       gemmTask
}

// buffers are one thread's scratch space.
type buffers struct {
	a    []float32 // packed A block: mc×kc, mr rows at a time
	b    []float32 // packed B panel: kc×nc, nr columns at a time
	edge []float32 // one kc×nr sliver of B at the right edge, read in place otherwise
	tile []float32 // mr×nr: a C tile at the bottom or right edge
}

// NewGemm returns a Gemm running on pool (nil: the calling goroutine only),
// with the fastest micro-kernel the CPU has (the pure-Go twin where there is
// no assembly one).
func NewGemm(pool *par.Pool) *Gemm { return newGemm(pool, bestKernel()) }

func newGemm(pool *par.Pool, k kernel) *Gemm {
	g := &Gemm{pool: pool, kern: k}
	g.mr, g.nr = k.tile()
	g.kc, g.mc, g.nc = blockK, blockM, blockN
	g.bufs = make([]buffers, pool.Threads())
	g.task.g = g
	return g
}

// Pool is the pool the Gemm runs on.
func (g *Gemm) Pool() *par.Pool { return g.pool }

// Threads is the number of threads a product runs on.
func (g *Gemm) Threads() int { return g.pool.Threads() }

// Kernel names the micro-kernel in use ("avx512 8x32", "avx2 4x24", "go
// 4x24"), for benchmark and log lines.
func (g *Gemm) Kernel() string { return fmt.Sprintf("%s %dx%d", g.kern, g.mr, g.nr) }

// Sgemm computes C = op(A)·op(B), or C += op(A)·op(B) when acc is set, for
// row-major float32 matrices: op(A) is m×k (A itself k×m when tA), op(B) is
// k×n (B itself n×k when tB), C is m×n with row stride ldc. The bits follow
// the package's contract whatever the pool's thread count. It panics when a
// slice is too short for its shape and stride.
func (g *Gemm) Sgemm(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, acc bool, c []float32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	checkMat("A", tA, m, k, a, lda)
	checkMat("B", tB, k, n, b, ldb)
	checkMat("C", false, m, n, c, ldc)
	if k == 0 {
		if !acc {
			for i := range m {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	t := &g.task
	t.tA, t.tB, t.m, t.n, t.k = tA, tB, m, n, k
	t.a, t.lda, t.b, t.ldb, t.acc, t.c, t.ldc = a, lda, b, ldb, acc, c, ldc
	threads := g.pool.Threads()
	// Split C among the threads by whole nr-column slivers when there are
	// enough of them, else by mr-row slivers: never along k.
	nsl, msl := (n+g.nr-1)/g.nr, (m+g.mr-1)/g.mr
	t.byRows = nsl < threads && msl > nsl
	if threads == 1 || (nsl == 1 && msl == 1) {
		t.threads = 1
		t.Run(0, 0)
	} else {
		t.threads = threads
		g.pool.For(threads, t)
	}
	t.a, t.b, t.c = nil, nil, nil
}

// checkMat panics unless s holds a rows×cols matrix (cols×rows when trans)
// with row stride ld.
func checkMat(name string, trans bool, rows, cols int, s []float32, ld int) {
	if trans {
		rows, cols = cols, rows
	}
	if rows == 0 || cols == 0 {
		return
	}
	if ld < cols || len(s) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("engine: Sgemm: %s is %d×%d with stride %d but has %d elements",
			name, rows, cols, ld, len(s)))
	}
}

// gemmTask is one product, split among threads by output slivers.
type gemmTask struct {
	g             *Gemm
	tA, tB, acc   bool
	m, n, k       int
	a, b, c       []float32
	lda, ldb, ldc int
	byRows        bool
	threads       int
}

// Run computes the thread's share of C: item is the thread.
func (t *gemmTask) Run(item, thread int) {
	g := t.g
	if t.threads <= 1 {
		g.block(thread, 0, t.m, 0, t.n)
		return
	}
	if t.byRows {
		lo, hi := par.Span((t.m+g.mr-1)/g.mr, t.threads, item)
		g.block(thread, lo*g.mr, min(hi*g.mr, t.m), 0, t.n)
	} else {
		lo, hi := par.Span((t.n+g.nr-1)/g.nr, t.threads, item)
		g.block(thread, 0, t.m, lo*g.nr, min(hi*g.nr, t.n))
	}
}

// grow returns s if it holds n elements, else a new slice that does.
func grow(s []float32, n int) []float32 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float32, n)
}

// block computes rows [i0, i1) and columns [j0, j1) of C on thread th.
func (g *Gemm) block(th, i0, i1, j0, j1 int) {
	t := &g.task
	if i0 >= i1 || j0 >= j1 {
		return
	}
	mr, nr := g.mr, g.nr
	buf := &g.bufs[th]
	direct := !t.tB && !g.packAllB
	kcB, mcB, ncB := g.kc, max(g.mc/mr, 1)*mr, max(g.nc/nr, 1)*nr
	kcMax := min(kcB, t.k)
	mcMax := min(mcB, (i1-i0+mr-1)/mr*mr)
	ncMax := min(ncB, (j1-j0+nr-1)/nr*nr)
	buf.a = grow(buf.a, mcMax*kcMax)
	if !direct {
		buf.b = grow(buf.b, kcMax*ncMax)
	}
	buf.edge = grow(buf.edge, kcMax*nr)
	buf.tile = grow(buf.tile, mr*nr)

	for jc := j0; jc < j1; jc += ncB {
		nc := min(ncB, j1-jc)
		for pc := 0; pc < t.k; pc += kcB {
			kc := min(kcB, t.k-pc)
			load := t.acc || pc > 0
			if !direct {
				packB(buf.b, nr, t.tB, t.b, t.ldb, pc, kc, jc, nc)
			}
			for ic := i0; ic < i1; ic += mcB {
				mc := min(mcB, i1-ic)
				packA(buf.a, mr, t.tA, t.a, t.lda, ic, mc, pc, kc)
				for jr := 0; jr < nc; jr += nr {
					cols := min(nr, nc-jr)
					var bp []float32
					bstride := nr
					switch {
					case !direct:
						bp = buf.b[jr*kc : (jr+nr)*kc]
					case cols == nr:
						bp, bstride = t.b[pc*t.ldb+jc+jr:], t.ldb
					default:
						bp = buf.edge[:kc*nr]
						packB(bp, nr, false, t.b, t.ldb, pc, kc, jc+jr, cols)
					}
					for ir := 0; ir < mc; ir += mr {
						rows := min(mr, mc-ir)
						ap := buf.a[ir*kc : (ir+mr)*kc]
						off := (ic+ir)*t.ldc + jc + jr
						if rows == mr && cols == nr {
							g.kern.run(mr, nr, kc, ap, bp, bstride, t.c[off:], t.ldc, load)
							continue
						}
						tile := buf.tile
						if load {
							for i := range rows {
								copy(tile[i*nr:i*nr+cols], t.c[off+i*t.ldc:])
							}
						}
						g.kern.run(mr, nr, kc, ap, bp, bstride, tile, nr, load)
						for i := range rows {
							copy(t.c[off+i*t.ldc:off+i*t.ldc+cols], tile[i*nr:])
						}
					}
				}
			}
		}
	}
}

// sgemmRef is the naive definition: one FMA32 chain per element.
func sgemmRef(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, acc bool, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			if acc {
				s = c[i*ldc+j]
			}
			for l := 0; l < k; l++ {
				var av, bv float32
				if tA {
					av = a[l*lda+i]
				} else {
					av = a[i*lda+l]
				}
				if tB {
					bv = b[j*ldb+l]
				} else {
					bv = b[l*ldb+j]
				}
				s = FMA32(av, bv, s)
			}
			c[i*ldc+j] = s
		}
	}
}
