package algorithms

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// sampleMoments returns the mean of ξ, |ξ| and ξ² over n draws.
func sampleMoments(nz Noise, n int, seed uint64) (m1, abs, m2 float64) {
	r := rand.New(rand.NewPCG(seed, 99))
	for range n {
		x := nz.Sample(r)
		m1 += x
		abs += math.Abs(x)
		m2 += x * x
	}
	return m1 / float64(n), abs / float64(n), m2 / float64(n)
}

// The sample moments against the laws' known values, within 5 standard
// errors of the sample mean (the standard errors from the known higher
// moments).
func TestNoiseMoments(t *testing.T) {
	const n = 400_000
	within := func(what string, got, want, sd float64) {
		t.Helper()
		if se := sd / math.Sqrt(n); math.Abs(got-want) > 5*se {
			t.Errorf("%s = %.5f, want %.5f ± %.5f", what, got, want, 5*se)
		}
	}
	// N(0,1): E ξ = 0, E|ξ| = √(2/π), E ξ² = 1 (Var ξ² = 2).
	m1, abs, m2 := sampleMoments(Noise{Kind: NoiseGaussian}, n, 1)
	within("gaussian mean", m1, 0, 1)
	within("gaussian E|ξ|", abs, math.Sqrt(2/math.Pi), math.Sqrt(1-2/math.Pi))
	within("gaussian E ξ²", m2, 1, math.Sqrt2)
	// t_6: Var = ν/(ν−2) = 3/2, E ξ⁴ = 3ν²/((ν−2)(ν−4)) = 27/2.
	m1, _, m2 = sampleMoments(Noise{Kind: NoiseStudentT, Nu: 6}, n, 2)
	within("t6 mean", m1, 0, math.Sqrt(1.5))
	within("t6 E ξ²", m2, 1.5, math.Sqrt(13.5-2.25))
	// t_3: E|ξ| = 2√ν Γ((ν+1)/2) / (√π (ν−1) Γ(ν/2)) = 2√3/π, Var|ξ| = 3 − (2√3/π)².
	_, abs, _ = sampleMoments(Noise{Kind: NoiseStudentT, Nu: 3}, n, 3)
	e := 2 * math.Sqrt(3) / math.Pi
	within("t3 E|ξ|", abs, e, math.Sqrt(3-e*e))
	// symmetric Pareto, ν = 5: E|ξ| = ν/(ν−1) = 5/4, E ξ² = ν/(ν−2) = 5/3, E ξ⁴ = ν/(ν−4) = 5.
	m1, abs, m2 = sampleMoments(Noise{Kind: NoisePareto, Nu: 5}, n, 4)
	within("pareto mean", m1, 0, math.Sqrt(5.0/3))
	within("pareto E|ξ|", abs, 1.25, math.Sqrt(5.0/3-1.5625))
	within("pareto E ξ²", m2, 5.0/3, math.Sqrt(5-25.0/9))
	// Gamma(a, 1): mean a, variance a (Var of the sample mean a/n).
	for _, a := range []float64{0.75, 2.5} {
		r := rand.New(rand.NewPCG(5, uint64(a*4)))
		s, s2 := 0.0, 0.0
		for range n {
			x := Gamma(r, a)
			s += x
			s2 += x * x
		}
		mean := s / n
		within("gamma mean", mean, a, math.Sqrt(a))
		if v := s2/n - mean*mean; math.Abs(v-a) > 0.05*a {
			t.Errorf("gamma(%v) variance %v, want %v", a, v, a)
		}
	}
}

// Infinite variance shows as a sample variance that keeps growing with the
// sample size: for t_1.5 and Pareto(1.5) the median over 15 streams of the
// sample second moment grows by more than 2× from 10³ to 10⁵ draws (its
// scale grows like N^{2/ν − 1} = N^{1/3}, about 4.6×), while for t_6 it
// stays within 10%.
func TestNoiseInfiniteVarianceGrows(t *testing.T) {
	median := func(nz Noise, n int) float64 {
		v := make([]float64, 15)
		for s := range v {
			_, _, v[s] = sampleMoments(nz, n, uint64(100+s))
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	for _, nz := range []Noise{{Kind: NoiseStudentT, Nu: 1.5}, {Kind: NoisePareto, Nu: 1.5}} {
		small, large := median(nz, 1000), median(nz, 100_000)
		if !(large > 2*small) {
			t.Errorf("%s ν=%v: median sample variance %v at 10³, %v at 10⁵: not growing", nz.Kind, nz.Nu, small, large)
		}
	}
	nz := Noise{Kind: NoiseStudentT, Nu: 6}
	small, large := median(nz, 1000), median(nz, 100_000)
	if math.Abs(large/small-1) > 0.1 {
		t.Errorf("t6: sample variance %v → %v, want stable", small, large)
	}
}

func TestNoiseAddScaleAndValidate(t *testing.T) {
	r1 := rand.New(rand.NewPCG(1, 2))
	r2 := rand.New(rand.NewPCG(1, 2))
	nz := Noise{Kind: NoiseStudentT, Nu: 3, Scale: 0.5}
	dst := []float64{1, 2, 3}
	nz.Add(dst, r1)
	for j, base := range []float64{1, 2, 3} {
		if want := base + 0.5*nz.Sample(r2); dst[j] != want {
			t.Fatalf("Add[%d] = %v, want %v", j, dst[j], want)
		}
	}
	for _, bad := range []Noise{{Kind: "cauchy"}, {Kind: NoiseStudentT, Nu: 0, Scale: 1}, {Kind: NoisePareto, Nu: math.Inf(1), Scale: 1}, {Kind: NoiseGaussian, Scale: -1}} {
		if bad.Validate() == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	if a := testing.AllocsPerRun(10, func() { nz.Add(dst, r1) }); a != 0 {
		t.Errorf("Add allocates %v", a)
	}
}
