package rng

import (
	"math"
	"testing"
)

// Gamma(a) has mean a and variance a; a Dirichlet(α) component of dimension n
// has mean 1/n and variance (1/n)(1 − 1/n)/(nα + 1).
func TestGammaDirichletMoments(t *testing.T) {
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
	const n, alpha, M = 5, 0.4, 50_000
	p := make([]float64, n)
	s, s2 := 0.0, 0.0
	for range M {
		Dirichlet(r, alpha, p)
		sum := 0.0
		for _, x := range p {
			sum += x
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Fatalf("Dirichlet sums to %v", sum)
		}
		s += p[2]
		s2 += p[2] * p[2]
	}
	m, v := s/M, s2/M-(s/M)*(s/M)
	wantV := (1.0 / n) * (1 - 1.0/n) / (n*alpha + 1)
	if math.Abs(m-1.0/n) > 5*math.Sqrt(wantV/M) || math.Abs(v-wantV) > 0.05*wantV {
		t.Errorf("Dirichlet component: mean %v variance %v, want %v and %v", m, v, 1.0/n, wantV)
	}
}
