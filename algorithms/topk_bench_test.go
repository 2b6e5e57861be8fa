package algorithms

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/efmpi/efmpi/sparse"
)

// topKBefore is the top-k of before the sampled threshold (a quickselect on a
// copy of all d magnitudes, then one pass in index order), kept to measure the
// current one against in the same run.
func topKBefore(out *sparse.Vector, v []float64, k int, keys []float64) {
	d := len(v)
	out.Reset(d)
	for i, x := range v {
		keys[i] = magnitude(x)
	}
	t := selectDescending(keys, k-1)
	above := 0
	for _, x := range v {
		if magnitude(x) > t {
			above++
		}
	}
	ties := k - above
	for i, x := range v {
		m := magnitude(x)
		if m > t {
			out.Append(int32(i), x)
		} else if m == t && ties > 0 {
			out.Append(int32(i), x)
			ties--
		}
	}
}

// BenchmarkTopKGrowth is top-k at d = 10⁶ on N(0,1) data ("normal") and on
// integers in [−20, 20) ("ties"), for several k. Its bound is a streaming
// read of the 8 MB of v (BenchmarkStreamRead1e6); BenchmarkTopKInterleaved
// compares it with the previous algorithm.
func BenchmarkTopKGrowth(b *testing.B) {
	const d = 1_000_000
	r := rand.New(rand.NewPCG(1, 2))
	normal, ties := make([]float64, d), make([]float64, d)
	for i := range normal {
		normal[i] = r.NormFloat64()
		ties[i] = float64(r.IntN(40) - 20)
	}
	for _, data := range []struct {
		name string
		v    []float64
	}{{"normal", normal}, {"ties", ties}} {
		for _, k := range []int{1, 10, 100, 1000, 10_000, 100_000, d / 2} {
			b.Run(fmt.Sprintf("%s/k=%d", data.name, k), func(b *testing.B) {
				c := NewTopK(k)
				var out sparse.Vector
				c.Compress(&out, data.v)
				b.SetBytes(8 * d)
				b.ReportAllocs()
				for b.Loop() {
					c.Compress(&out, data.v)
				}
			})
		}
	}
}

// BenchmarkStreamRead1e6 is the bound for top-k at d = 10⁶: the sum of the
// 8 MB of v with eight accumulators.
func BenchmarkStreamRead1e6(b *testing.B) {
	const d = 1_000_000
	r := rand.New(rand.NewPCG(1, 2))
	v := make([]float64, d)
	for i := range v {
		v[i] = r.NormFloat64()
	}
	b.SetBytes(8 * d)
	var total float64
	for b.Loop() {
		total += streamSum(v)
	}
	if total == 0.5 {
		b.Log(total)
	}
}

// streamSum is the sum of v with eight accumulators (the tail ignored):
// one streaming read, as fast as one core reads memory (eight independent
// chains of additions keep up with the loads).
func streamSum(v []float64) float64 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float64
	for k := 0; k+8 <= len(v); k += 8 {
		c := v[k : k+8 : k+8]
		s0 += c[0]
		s1 += c[1]
		s2 += c[2]
		s3 += c[3]
		s4 += c[4]
		s5 += c[5]
		s6 += c[6]
		s7 += c[7]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// The top-k compression allocates nothing once warmed up, on every path.
func TestTopKAllocatesNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	v := make([]float64, 3*topkSampleMin)
	for i := range v {
		v[i] = r.NormFloat64()
	}
	for _, k := range []int{1, 5, 1000, len(v) - 1, len(v)} {
		c := NewTopK(k)
		out := sparse.NewVector(len(v), k)
		c.Compress(out, v)
		if a := testing.AllocsPerRun(10, func() { c.Compress(out, v) }); a != 0 {
			t.Errorf("k=%d: %v allocations per Compress", k, a)
		}
	}
}

// BenchmarkTopKInterleaved times the current top-k and the previous
// algorithm alternately, call by call (d = 10⁶, N(0,1) data and integers in
// [−20, 20)), so both see the same machine load; it reports each one's ns
// per call and the ratio.
func BenchmarkTopKInterleaved(b *testing.B) {
	const d = 1_000_000
	r := rand.New(rand.NewPCG(1, 2))
	normal, ties := make([]float64, d), make([]float64, d)
	for i := range normal {
		normal[i] = r.NormFloat64()
		ties[i] = float64(r.IntN(40) - 20)
	}
	keys := make([]float64, d)
	for _, data := range []struct {
		name string
		v    []float64
	}{{"normal", normal}, {"ties", ties}} {
		v := data.v
		for _, k := range []int{1, 10_000} {
			b.Run(fmt.Sprintf("%s/k=%d", data.name, k), func(b *testing.B) {
				c := NewTopK(k)
				var out, old sparse.Vector
				c.Compress(&out, v)
				var now, before time.Duration
				for b.Loop() {
					t0 := time.Now()
					c.Compress(&out, v)
					t1 := time.Now()
					topKBefore(&old, v, k, keys)
					now += t1.Sub(t0)
					before += time.Since(t1)
				}
				if !slices.Equal(out.Idx, old.Idx) {
					b.Fatal("the two algorithms disagree")
				}
				b.ReportMetric(float64(now.Nanoseconds())/float64(b.N), "ns/now")
				b.ReportMetric(float64(before.Nanoseconds())/float64(b.N), "ns/before")
				b.ReportMetric(float64(now)/float64(before), "now/before")
			})
		}
	}
}
