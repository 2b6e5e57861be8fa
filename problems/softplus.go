package problems

import "math"

// Softplus returns log(1 + e^z), computed as max(z, 0) + log1p(e^{-|z|}) so that
// it neither overflows for large positive z nor loses the tiny value e^z for
// large negative z. It is finite for every finite z.
func Softplus(z float64) float64 {
	return math.Max(z, 0) + math.Log1p(expNonPos(-math.Abs(z)))
}

// Sigmoid returns the logistic function σ(z) = 1/(1 + e^{-z}), evaluated through
// e^{-|z|} ≤ 1 so that no intermediate overflows: σ(z) = 1/(1+e^{-|z|}) for
// z ≥ 0 and e^{-|z|}/(1+e^{-|z|}) for z < 0.
func Sigmoid(z float64) float64 {
	e := expNonPos(-math.Abs(z))
	num := e
	if z >= 0 {
		num = 1
	}
	return num / (1 + e)
}
