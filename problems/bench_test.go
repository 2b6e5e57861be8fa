package problems

import (
	"math"
	"testing"
	"time"

	"github.com/efmpi/efmpi/datasets"
)

// csrBytes is the number of bytes one full gradient on a CSR dataset must
// stream: ColIdx (4 B) and Val (8 B) per stored entry, RowPtr and labels.
func csrBytes(ds *datasets.Dataset) int64 {
	s := ds.Sparse
	return int64(len(s.ColIdx))*4 + int64(len(s.Val))*8 + int64(len(s.RowPtr))*8 + int64(len(ds.Labels))*8
}

// a9aBench is the setup of the a9a benchmarks: the data, its logistic
// regression, a point x (N(0, 0.1²), seed 1) and a gradient buffer.
func a9aBench(b *testing.B) (*datasets.Dataset, *LogReg, []float64, []float64) {
	b.Helper()
	ds := loadLIBSVM(b, "a9a")
	p, err := NewLogReg(ds, lambda)
	if err != nil {
		b.Fatal(err)
	}
	return ds, p, randVec(p.Dim(), 0.1, 1), make([]float64, p.Dim())
}

func BenchmarkLogRegGradA9A(b *testing.B) {
	ds, p, x, g := a9aBench(b)
	b.SetBytes(csrBytes(ds))
	b.ReportAllocs()
	for b.Loop() {
		p.Grad(g, x)
	}
}

// BenchmarkStreamSumA9A is the memory-bandwidth bound for the gradient: it
// sums the very arrays the gradient reads (ColIdx, Val, RowPtr, labels), the
// same number of bytes, with no other work.
func BenchmarkStreamSumA9A(b *testing.B) {
	ds := loadLIBSVM(b, "a9a")
	s := ds.Sparse
	b.SetBytes(csrBytes(ds))
	var total float64
	for b.Loop() {
		total += streamSum(s.ColIdx, s.Val, s.RowPtr, ds.Labels)
	}
	if total == 0.5 {
		b.Log(total) // keep the sums live
	}
}

// streamSum adds up its arrays with independent accumulators, so the loop is
// bound by loads, not by addition latency.
func streamSum(idx []int32, vals []float64, ptr []int, labels []float64) float64 {
	var i0, i1, i2, i3 int64
	k := 0
	for ; k+4 <= len(idx); k += 4 {
		i0 += int64(idx[k])
		i1 += int64(idx[k+1])
		i2 += int64(idx[k+2])
		i3 += int64(idx[k+3])
	}
	for ; k < len(idx); k++ {
		i0 += int64(idx[k])
	}
	var p0, p1 int
	k = 0
	for ; k+2 <= len(ptr); k += 2 {
		p0 += ptr[k]
		p1 += ptr[k+1]
	}
	for ; k < len(ptr); k++ {
		p0 += ptr[k]
	}
	return floatSum(vals) + floatSum(labels) + float64(i0+i1+i2+i3) + float64(p0+p1)
}

// floatSum is Σ v with four accumulators.
func floatSum(v []float64) float64 {
	var s0, s1, s2, s3 float64
	k := 0
	for ; k+4 <= len(v); k += 4 {
		s0 += v[k]
		s1 += v[k+1]
		s2 += v[k+2]
		s3 += v[k+3]
	}
	for ; k < len(v); k++ {
		s0 += v[k]
	}
	return (s0 + s1) + (s2 + s3)
}

func BenchmarkLogRegMinibatchGradA9A(b *testing.B) {
	_, p, x, g := a9aBench(b)
	batch := make([]int32, 256)
	for i := range batch {
		batch[i] = int32((i * 7919) % p.Samples())
	}
	b.ReportAllocs()
	for b.Loop() {
		p.MinibatchGrad(g, x, batch)
	}
}

// Dense synthetic data, 16000×100 (12.8 MB): larger than the L2 cache.
const benchM, benchD = 16000, 100

func BenchmarkLogRegGradDense(b *testing.B) {
	ds := randomDense(benchM, benchD, 3)
	p, err := NewLogReg(ds, lambda)
	if err != nil {
		b.Fatal(err)
	}
	x, g := randVec(benchD, 0.1, 1), make([]float64, benchD)
	b.SetBytes(int64(len(ds.Dense.Data)+len(ds.Labels)) * 8)
	b.ReportAllocs()
	for b.Loop() {
		p.Grad(g, x)
	}
}

// BenchmarkStreamSumDense is the bandwidth bound for BenchmarkLogRegGradDense.
func BenchmarkStreamSumDense(b *testing.B) {
	ds := randomDense(benchM, benchD, 3)
	b.SetBytes(int64(len(ds.Dense.Data)+len(ds.Labels)) * 8)
	var total float64
	for b.Loop() {
		total += floatSum(ds.Dense.Data) + floatSum(ds.Labels)
	}
	if total == 0.5 {
		b.Log(total)
	}
}

func BenchmarkLambdaMaxA9A(b *testing.B) {
	ds := loadLIBSVM(b, "a9a")
	for b.Loop() {
		if _, err := LambdaMaxAtA(ds); err != nil {
			b.Fatal(err)
		}
	}
}

// naiveSparseGrad is the first version of the sparse gradient, before
// optimisation (one row at a time: unrolled dot, math.Exp-based coefficient,
// axpy), kept to measure the optimised kernel against in the same run.
func naiveSparseGrad(p *LogReg, dst, x []float64) {
	clear(dst)
	inv := 1 / float64(p.m)
	for r := range p.m {
		lo, hi := p.rowPtr[r], p.rowPtr[r+1]
		cols, vals := p.colIdx[lo:hi], p.val[lo:hi]
		var s0, s1, s2, s3 float64
		k := 0
		for ; k+4 <= len(cols); k += 4 {
			s0 += vals[k] * x[cols[k]]
			s1 += vals[k+1] * x[cols[k+1]]
			s2 += vals[k+2] * x[cols[k+2]]
			s3 += vals[k+3] * x[cols[k+3]]
		}
		for ; k < len(cols); k++ {
			s0 += vals[k] * x[cols[k]]
		}
		b := p.labels[r]
		t := -b * ((s0 + s1) + (s2 + s3))
		e := math.Exp(-math.Abs(t))
		num := e
		if t >= 0 {
			num = 1
		}
		c := -b * inv * num / (1 + e)
		for k, col := range cols {
			dst[col] += c * vals[k]
		}
	}
	p.addRegGrad(dst, x)
}

func BenchmarkLogRegGradA9ABefore(b *testing.B) {
	ds, p, x, g := a9aBench(b)
	b.SetBytes(csrBytes(ds))
	for b.Loop() {
		naiveSparseGrad(p, g, x)
	}
}

// BenchmarkLogRegGradA9AValued is BenchmarkLogRegGradA9A with the stored values
// halved, so the general kernel (which reads the values) runs instead of the
// one for 0/1 data.
func BenchmarkLogRegGradA9AValued(b *testing.B) {
	ds := valued(loadLIBSVM(b, "a9a"), 0.5)
	p, err := NewLogReg(ds, lambda)
	if err != nil {
		b.Fatal(err)
	}
	if p.binary {
		b.Fatal("binary kernel selected")
	}
	x, g := randVec(p.Dim(), 0.1, 1), make([]float64, p.Dim())
	b.SetBytes(csrBytes(ds))
	b.ReportAllocs()
	for b.Loop() {
		p.Grad(g, x)
	}
}

// BenchmarkLogRegGradA9AKernelBefore is the gradient with the kernels of
// before issue 12 (before_test.go), for the ratio in the same run.
func BenchmarkLogRegGradA9AKernelBefore(b *testing.B) {
	ds, p, x, g := a9aBench(b)
	b.SetBytes(csrBytes(ds))
	for b.Loop() {
		gradBefore(p, g, x)
	}
}

// BenchmarkLogRegValueGradA9A is one metric evaluation of f_i and ∇f_i: the
// fused pass.
func BenchmarkLogRegValueGradA9A(b *testing.B) {
	_, p, x, g := a9aBench(b)
	b.ReportAllocs()
	for b.Loop() {
		p.ValueGrad(g, x)
	}
}

// BenchmarkLogRegValueGradA9ABefore is the same metric evaluation as before
// issue 12: the gradient, then a second pass for the value.
func BenchmarkLogRegValueGradA9ABefore(b *testing.B) {
	_, p, x, g := a9aBench(b)
	for b.Loop() {
		gradBefore(p, g, x)
		valueBefore(p, x)
	}
}

// BenchmarkLogRegValueCachedA9A is Value right after Grad at the same point:
// the loss from the cached margins, no pass over the matrix. "library" is the
// same sum with math.Log1p, for the ratio.
func BenchmarkLogRegValueCachedA9A(b *testing.B) {
	_, p, x, g := a9aBench(b)
	p.Grad(g, x)
	b.Run("log1pUnit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.Value(x)
		}
	})
	b.Run("library", func(b *testing.B) {
		var s float64
		for b.Loop() {
			for j, t := range p.t {
				s += math.Max(t, 0) + math.Log1p(p.e[j])
			}
		}
	})
}

// BenchmarkLogRegGradA9AInterleaved times, call by call alternately so that
// all see the same machine load: the current gradient (ns/now), the same code
// with the assembly kernels switched off (ns/go: the Go kernels as they were
// before the AVX2 work, the same bits), the kernels of before issue 12
// (ns/before, before_test.go) and the streaming-sum bound (ns/stream,
// BenchmarkStreamSumA9A's loop); it reports each one's ns per call and the
// ratios now/before, now/go and now/stream.
func BenchmarkLogRegGradA9AInterleaved(b *testing.B) {
	ds := loadLIBSVM(b, "a9a")
	p, err := NewLogReg(ds, lambda)
	if err != nil {
		b.Fatal(err)
	}
	s := ds.Sparse
	x, g := randVec(p.Dim(), 0.1, 1), make([]float64, p.Dim())
	interleave(b, func() { p.Grad(g, x) }, func() { gradBefore(p, g, x) },
		func() float64 { return streamSum(s.ColIdx, s.Val, s.RowPtr, ds.Labels) })
}

// BenchmarkLogRegGradDenseInterleaved is BenchmarkLogRegGradA9AInterleaved for
// the dense data of BenchmarkLogRegGradDense (bound: BenchmarkStreamSumDense's
// loop).
func BenchmarkLogRegGradDenseInterleaved(b *testing.B) {
	ds := randomDense(benchM, benchD, 3)
	p, err := NewLogReg(ds, lambda)
	if err != nil {
		b.Fatal(err)
	}
	x, g := randVec(benchD, 0.1, 1), make([]float64, benchD)
	interleave(b, func() { p.Grad(g, x) }, func() { gradBefore(p, g, x) },
		func() float64 { return floatSum(ds.Dense.Data) + floatSum(ds.Labels) })
}

// interleave times grad (with and without the assembly kernels), before and
// stream call by call in turn and reports ns/now, ns/go, ns/before,
// ns/stream and the ratios now/before, now/go, now/stream.
func interleave(b *testing.B, grad, before func(), stream func() float64) {
	var now, gok, bef, str time.Duration
	var total float64
	for b.Loop() {
		t0 := time.Now()
		grad()
		t1 := time.Now()
		withGo(grad)
		t2 := time.Now()
		before()
		t3 := time.Now()
		total += stream()
		t4 := time.Now()
		now += t1.Sub(t0)
		gok += t2.Sub(t1)
		bef += t3.Sub(t2)
		str += t4.Sub(t3)
	}
	if total == 0.5 {
		b.Log(total) // keep the sums live
	}
	n := float64(b.N)
	b.ReportMetric(float64(now.Nanoseconds())/n, "ns/now")
	b.ReportMetric(float64(gok.Nanoseconds())/n, "ns/go")
	b.ReportMetric(float64(bef.Nanoseconds())/n, "ns/before")
	b.ReportMetric(float64(str.Nanoseconds())/n, "ns/stream")
	b.ReportMetric(float64(now)/float64(bef), "now/before")
	b.ReportMetric(float64(now)/float64(gok), "now/go")
	b.ReportMetric(float64(now)/float64(str), "now/stream")
}

// BenchmarkSoftplusSumInterleaved times the loss sum of a9a's margins (the
// metric row's f_i after Grad) and the one-term-at-a-time loop of before,
// alternately call by call, so both see the same load; it reports each
// one's ns per call and their ratio (the two give the same bits).
func BenchmarkSoftplusSumInterleaved(b *testing.B) {
	_, p, x, g := a9aBench(b)
	p.Grad(g, x)
	var now, before time.Duration
	var s float64
	for b.Loop() {
		t0 := time.Now()
		s += softplusSum(p.t, p.e)
		t1 := time.Now()
		s -= softplusSumBefore(p.t, p.e)
		now += t1.Sub(t0)
		before += time.Since(t1)
	}
	if math.Abs(s) > 1e-14*float64(b.N)*softplusSum(p.t, p.e) {
		b.Fatalf("the two sums differ by %v in all", s)
	}
	b.ReportMetric(float64(now.Nanoseconds())/float64(b.N), "ns/now")
	b.ReportMetric(float64(before.Nanoseconds())/float64(b.N), "ns/before")
	b.ReportMetric(float64(now)/float64(before), "now/before")
}
