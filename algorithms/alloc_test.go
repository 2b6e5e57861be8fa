package algorithms

import (
	"math/rand/v2"
	"testing"
)

// The iteration core allocates nothing per round, for every method.
func TestRoundAllocatesNothingEveryMethod(t *testing.T) {
	const n, d = 4, 64
	for name, c := range methodCases(n) {
		l, err := NewLoop(caseProblem(t, c, n, d, 1<<30))
		if err != nil {
			t.Fatal(err)
		}
		l.Iterate()
		if a := testing.AllocsPerRun(20, func() {
			if err := l.Iterate(); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%s: %v allocations per round", name, a)
		}
	}
}

// One round of each method over 8 clients, d = 4096, top-64 (signsgd: no
// compressor), quartic oracles: the method's own cost plus the aggregation.
func BenchmarkRound(b *testing.B) {
	const n, d = 8, 4096
	for _, name := range []string{"ef21", "ef21-w", "ef21-pp", "ef14", "signsgd", "signum", "ef21-sgdm",
		"ef21-igt", "ef21-storm", "ef21-hm", "ef21-rhm", "econtrol"} {
		b.Run(name, func(b *testing.B) {
			c := methodCases(n)[name]
			p := caseProblem(b, c, n, d, 1<<30)
			p.Compressors = mustCompressors(b, "top-k", 64, d, n)
			l, err := NewLoop(p)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := l.Iterate(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Drawing heavy-tailed noise for a d = 4096 gradient.
func BenchmarkNoise(b *testing.B) {
	dst := make([]float64, 4096)
	for _, nz := range []Noise{{Kind: NoiseGaussian, Scale: 1}, {Kind: NoiseStudentT, Nu: 1.5, Scale: 1}, {Kind: NoisePareto, Nu: 1.5, Scale: 1}} {
		b.Run(nz.Kind, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			for range b.N {
				nz.Add(dst, r)
			}
		})
	}
}
