package rng

import (
	"math"
	"testing"
)

// Gamma(a) has mean a and variance a.
func TestGammaMoments(t *testing.T) {
	r, _ := New(3, Shuffle, 9)
	const N = 200_000
	for _, a := range []float64{0.3, 1, 4.5} {
		s, s2 := 0.0, 0.0
		for range N {
			x := Gamma(r, a)
			s += x
			s2 += x * x
		}
		m, v := s/N, s2/N-(s/N)*(s/N)
		if math.Abs(m-a) > 5*math.Sqrt(a/N) || math.Abs(v-a) > 0.05*a {
			t.Errorf("Gamma(%v): mean %v variance %v, want %v and %v", a, m, v, a, a)
		}
	}
}
