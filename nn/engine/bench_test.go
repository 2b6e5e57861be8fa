package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/efmpi/efmpi/internal/par"
	"github.com/efmpi/efmpi/nn/engine/internal/openblas"
)

// benchShape is one product of a network's training step.
type benchShape struct {
	name    string
	tA, tB  bool
	m, n, k int
}

// benchShapes are ResNet-20's convolution products over a whole batch of 128
// CIFAR images (im2col of all images: n or k = 128·H·W) — forward W·col,
// the weight gradient dY·colᵀ and the column gradient Wᵀ·dY for the three
// stages (16, 32, 64 channels at 32², 16², 8²) — then LeNet-5's two
// convolutions (MNIST, batch 128) and an MLP layer (batch 128, 784 → 256).
var benchShapes = []benchShape{
	{"resnet16/fwd", false, false, 16, 128 * 1024, 144},
	{"resnet32/fwd", false, false, 32, 128 * 256, 288},
	{"resnet64/fwd", false, false, 64, 128 * 64, 576},
	{"resnet16/dW", false, true, 16, 144, 128 * 1024},
	{"resnet32/dW", false, true, 32, 288, 128 * 256},
	{"resnet64/dW", false, true, 64, 576, 128 * 64},
	{"resnet16/dcol", true, false, 144, 128 * 1024, 16},
	{"resnet32/dcol", true, false, 288, 128 * 256, 32},
	{"resnet64/dcol", true, false, 576, 128 * 64, 64},
	{"lenet1/fwd", false, false, 6, 128 * 576, 25},
	{"lenet2/fwd", false, false, 16, 128 * 64, 150},
	{"mlp/fwd", false, true, 128, 256, 784},
	{"mlp/dW", true, false, 256, 784, 128},
}

// BenchmarkSgemm runs every shape with every implementation side by side,
// interleaved (each b.N step is one round: every variant once, in turn, so
// that the load of a shared machine falls on all alike): the best kernel on
// 1 and 2 threads, the AVX2 kernel, the Go twin (on a sixteenth of n: it is
// slow), gonum's Sgemm on 1 thread (GOMAXPROCS 1) and on all, and OpenBLAS's
// cblas_sgemm with -tags openblas (threads: OPENBLAS_NUM_THREADS). Metrics,
// per variant, the median over the rounds of GFLOPS (2·m·n·k per product)
// per wall-clock second (…/wall) and per CPU-second of the process (…/cpu).
// Run it with -benchtime=Nx for N rounds.
func BenchmarkSgemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	big := randVals(rng, 128*1024*144)
	big2 := randVals(rng, 128*1024*144)
	out := make([]float32, 144*128*1024)
	pool2 := par.New(2)
	defer pool2.Close()
	for _, s := range benchShapes {
		lda, ldb := s.k, s.n
		if s.tA {
			lda = s.m
		}
		if s.tB {
			ldb = s.k
		}
		a, bm := big[:s.m*s.k], big2[:s.k*s.n]
		own := func(g *Gemm) func(n int) {
			return func(n int) { g.Sgemm(s.tA, s.tB, s.m, n, s.k, a, lda, bm, ldb, false, out, n) }
		}
		best := NewGemm(nil).Kernel()
		vs := []variant{
			{best + "/1t", s.n, own(NewGemm(nil))},
			{best + "/2t", s.n, own(NewGemm(pool2))},
		}
		for _, k := range asmKernels() {
			if k != bestKernel() {
				g := newGemm(nil, k)
				vs = append(vs, variant{g.Kernel() + "/1t", s.n, own(g)})
			}
		}
		if s.n >= 64 {
			vs = append(vs, variant{"go-twin/1t", s.n / 16, own(newGemm(nil, kernGo))})
		}
		gonumRun := func(n int) {
			ta, tb := blas.NoTrans, blas.NoTrans
			if s.tA {
				ta = blas.Trans
			}
			if s.tB {
				tb = blas.Trans
			}
			gonum.Implementation{}.Sgemm(ta, tb, s.m, n, s.k, 1, a, lda, bm, ldb, 0, out, n)
		}
		vs = append(vs, variant{"gonum/1t", s.n, func(n int) {
			old := runtime.GOMAXPROCS(1)
			gonumRun(n)
			runtime.GOMAXPROCS(old)
		}}, variant{fmt.Sprintf("gonum/%dt", runtime.GOMAXPROCS(0)), s.n, gonumRun})
		if openblas.Available {
			vs = append(vs, variant{"openblas", s.n, func(n int) {
				openblas.Sgemm(s.tA, s.tB, s.m, n, s.k, a, lda, bm, ldb, false, out, n)
			}})
		}
		b.Run(s.name, func(b *testing.B) { sideBySide(b, s, vs) })
	}
}

// variant is one implementation of a benchmark shape: f computes the
// product with n columns (n < the shape's for the slow Go twin).
type variant struct {
	name string
	n    int
	f    func(n int)
}

// sideBySide runs the variants in turn, once each per b.N step, and reports
// each one's median GFLOPS per wall-clock second (name/wall) and per
// CPU-second of the process (name/cpu).
func sideBySide(b *testing.B, s benchShape, vs []variant) {
	wall := make([][]float64, len(vs))
	cpu := make([][]float64, len(vs))
	for _, v := range vs {
		v.f(v.n) // grow buffers, warm up
	}
	for b.Loop() {
		for i, v := range vs {
			flop := 2 * float64(s.m) * float64(v.n) * float64(s.k)
			c0, t0 := cpuTime(), time.Now()
			v.f(v.n)
			wall[i] = append(wall[i], flop/time.Since(t0).Seconds()/1e9)
			cpu[i] = append(cpu[i], flop/(cpuTime()-c0)/1e9)
		}
	}
	for i, v := range vs {
		b.ReportMetric(median(wall[i]), v.name+"/wall")
		b.ReportMetric(median(cpu[i]), v.name+"/cpu")
	}
}

// cpuTime is the process's user + system CPU time in seconds.
func cpuTime() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return math.NaN()
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func median(x []float64) float64 {
	x = slices.Clone(x)
	slices.Sort(x)
	if len(x) == 0 {
		return math.NaN()
	}
	return x[len(x)/2]
}

// BenchmarkSgemmBlocking compares depths kc of the cache blocking on the
// products most sensitive to it (the best kernel, one thread), side by side.
func BenchmarkSgemmBlocking(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	big := randVals(rng, 128*1024*144)
	big2 := randVals(rng, 128*1024*144)
	out := make([]float32, 144*128*1024)
	for _, s := range benchShapes {
		lda, ldb := s.k, s.n
		if s.tA {
			lda = s.m
		}
		if s.tB {
			ldb = s.k
		}
		a, bm := big[:s.m*s.k], big2[:s.k*s.n]
		var vs []variant
		for _, kc := range []int{128, 256, 512, 1024} {
			g := NewGemm(nil)
			g.kc = kc
			vs = append(vs, variant{fmt.Sprintf("kc=%d", kc), s.n, func(n int) {
				g.Sgemm(s.tA, s.tB, s.m, n, s.k, a, lda, bm, ldb, false, out, n)
			}})
		}
		b.Run(s.name, func(b *testing.B) { sideBySide(b, s, vs) })
	}
}
