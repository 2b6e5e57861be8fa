package rng

import (
	"math"
	"math/rand/v2"
)

// Gamma draws from the Gamma(a, 1) law, a > 0, by Marsaglia and Tsang (2000,
// "A simple method for generating gamma variables"), with their boost
// Gamma(a) = Gamma(a+1)·U^{1/a} for a < 1. It allocates nothing.
func Gamma(r *rand.Rand, a float64) float64 {
	if a < 1 {
		u := 1 - r.Float64() // (0, 1]
		return Gamma(r, a+1) * math.Pow(u, 1/a)
	}
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x {
			return d * v
		}
		if u > 0 && math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
