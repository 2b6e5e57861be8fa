package problems

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// bigExp returns e^x correctly rounded to float64 (up to a negligible chance of
// a tie), computed in 256-bit arithmetic: Taylor series of e^{x/2^12}, then
// twelve squarings.
func bigExp(x float64) float64 {
	const prec, halvings = 256, 12
	r := new(big.Float).SetPrec(prec).SetFloat64(x)
	r.SetMantExp(r, -halvings)
	sum := new(big.Float).SetPrec(prec).SetInt64(1)
	term := new(big.Float).SetPrec(prec).SetInt64(1)
	for n := int64(1); n < 60; n++ {
		term.Mul(term, r)
		term.Quo(term, new(big.Float).SetPrec(prec).SetInt64(n))
		sum.Add(sum, term)
	}
	for range halvings {
		sum.Mul(sum, sum)
	}
	f, _ := sum.Float64()
	return f
}

// TestExpNonPos checks expNonPos against a 256-bit reference: at most one ulp
// off (the error bound of the algorithm), subnormals included.
func TestExpNonPos(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	xs := []float64{-1e-300, -0x1p-28, -1e-10, -0.5, -math.Ln2 / 2, -math.Ln2, -1, -10, -700,
		-708.39, -708.4, -709, -720, -744, -745.13, -0.40032151303029007}
	for range 3000 {
		xs = append(xs, -750*r.Float64(), -r.Float64(), -1e-8*r.Float64())
	}
	for _, x := range xs {
		got, want := expNonPos(x), bigExp(x)
		ulp := math.Nextafter(want, math.Inf(1)) - want
		if math.Abs(got-want) > ulp {
			t.Fatalf("expNonPos(%v) = %v, want %v (%.2g ulp)", x, got, want, math.Abs(got-want)/ulp)
		}
	}
	for _, c := range []struct{ x, want float64 }{
		{0, 1}, {math.Copysign(0, -1), 1}, {-745.14, 0}, {-800, 0}, {-1e4, 0}, {math.Inf(-1), 0},
	} {
		if got := expNonPos(c.x); got != c.want {
			t.Errorf("expNonPos(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if !math.IsNaN(expNonPos(math.NaN())) {
		t.Error("expNonPos(NaN) is not NaN")
	}
}
