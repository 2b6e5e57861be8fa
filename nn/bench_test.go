package nn

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
)

// cpuSeconds is the user+system CPU time of this process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// benchNet measures one forward+backward pass (Load, LossGrad, Grad: a
// training step's oracle) at batch 128 in each precision on 1 and 2 threads,
// and reports images per second of wall time and per second of CPU time (the
// process's user+system time: robust when other jobs share the cores), after
// one untimed warm-up step.
func benchNet(b *testing.B, model string, in Shape, widths []int) {
	const batch = 128
	for _, prec := range []string{Float32, Float64} {
		for _, threads := range []int{1, 2} {
			if prec == Float64 && threads > 1 {
				continue // the reference: serial GEMM
			}
			b.Run(fmt.Sprintf("%s/threads=%d", prec, threads), func(b *testing.B) {
				net, err := New(model, prec, in, 10, batch, widths, threads)
				if err != nil {
					b.Fatal(err)
				}
				defer net.Close()
				r := rand.New(rand.NewPCG(1, 1))
				x := make([]float64, net.Dim())
				net.Init(x, r)
				copy(net.Input(), randVec(batch*in.Size(), r))
				labels := make([]int32, batch)
				for i := range labels {
					labels[i] = int32(r.IntN(10))
				}
				g := make([]float64, len(x))
				// one untimed step, as PyTorch's benchmark warms up: the
				// first touches of a fresh net's buffers (page faults) are
				// not a training step's cost
				net.Load(x)
				net.LossGrad(labels, batch)
				net.Grad(g)
				b.ResetTimer()
				cpu0 := cpuSeconds()
				for i := 0; i < b.N; i++ {
					net.Load(x)
					net.LossGrad(labels, batch)
					net.Grad(g)
				}
				b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
				b.ReportMetric(float64(batch*b.N)/(cpuSeconds()-cpu0), "images/cpu-s")
			})
		}
	}
}

func BenchmarkMLP(b *testing.B)      { benchNet(b, ModelMLP, Shape{1, 28, 28}, []int{256, 128}) }
func BenchmarkLeNet(b *testing.B)    { benchNet(b, ModelLeNet, Shape{1, 28, 28}, nil) }
func BenchmarkResNet20(b *testing.B) { benchNet(b, ModelResNet20, Shape{3, 32, 32}, nil) }
