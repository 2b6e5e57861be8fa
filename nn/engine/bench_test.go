package engine

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

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

// BenchmarkSgemm runs every shape with every implementation side by side:
// the best kernel on 1 and 2 threads, the AVX2 kernel, the Go twin (on a
// sixteenth of the shape: it is slow), gonum's Sgemm on 1 thread
// (GOMAXPROCS 1) and on all, and OpenBLAS's cblas_sgemm with -tags openblas
// (its threads: OPENBLAS_NUM_THREADS). The metric is GFLOPS (2·m·n·k per op).
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
		run := func(name string, n int, f func(n int)) {
			b.Run(s.name+"/"+name, func(b *testing.B) {
				f(n) // grow buffers, warm caches
				for b.Loop() {
					f(n)
				}
				b.ReportMetric(2*float64(s.m)*float64(n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
			})
		}
		own := func(g *Gemm) func(n int) {
			return func(n int) { g.Sgemm(s.tA, s.tB, s.m, n, s.k, a, lda, bm, ldb, false, out, n) }
		}
		run(NewGemm(nil).Kernel()+"/1thread", s.n, own(NewGemm(nil)))
		run(NewGemm(nil).Kernel()+"/2threads", s.n, own(NewGemm(pool2)))
		for _, k := range asmKernels() {
			if k != bestKernel() {
				g := newGemm(nil, k)
				run(g.Kernel()+"/1thread", s.n, own(g))
			}
		}
		if s.n >= 64 {
			run("go-twin/1thread/n÷16", s.n/16, own(newGemm(nil, kernGo)))
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
		b.Run(s.name+"/gonum/1thread", func(b *testing.B) {
			old := runtime.GOMAXPROCS(1)
			defer runtime.GOMAXPROCS(old)
			gonumRun(s.n)
			for b.Loop() {
				gonumRun(s.n)
			}
			b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
		run(fmt.Sprintf("gonum/%dthreads", runtime.GOMAXPROCS(0)), s.n, gonumRun)
		if openblas.Available {
			run("openblas", s.n, func(n int) {
				openblas.Sgemm(s.tA, s.tB, s.m, n, s.k, a, lda, bm, ldb, false, out, n)
			})
		}
	}
}

// BenchmarkSgemmBlocking compares depths kc of the cache blocking on the
// products most sensitive to it (the best kernel, one thread).
func BenchmarkSgemmBlocking(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	big := randVals(rng, 128*1024*144)
	big2 := randVals(rng, 128*1024*144)
	out := make([]float32, 144*128*1024)
	for _, s := range benchShapes {
		if s.name != "resnet16/dW" && s.name != "resnet16/fwd" && s.name != "resnet64/fwd" && s.name != "resnet64/dW" {
			continue
		}
		lda, ldb := s.k, s.n
		if s.tB {
			ldb = s.k
		}
		a, bm := big[:s.m*s.k], big2[:s.k*s.n]
		for _, kc := range []int{128, 256, 512, 1024} {
			g := NewGemm(nil)
			g.kc = kc
			b.Run(fmt.Sprintf("%s/kc=%d", s.name, kc), func(b *testing.B) {
				for b.Loop() {
					g.Sgemm(s.tA, s.tB, s.m, s.n, s.k, a, lda, bm, ldb, false, out, s.n)
				}
				b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
			})
		}
	}
}
