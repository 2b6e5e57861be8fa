package algorithms

import (
	"math"
	"testing"
)

// PPConstants against FL_PyTorch's EF21PP.theoreticalStepSize (the source of
// the rule, see EF21PPTheory) evaluated literally in Python/numpy with that
// code's own ρ = s = 10⁻³ and p_min = p_max = p:
//
//	theta = 1 - (1 + s)*(1 - a); beta = (1 + 1/s)*(1 - a)
//	thetap = rho*pmin + theta*pmax - rho - (pmax - pmin)
//	B = (beta*p + (1 + 1/rho)*(1 - p)) * mean(Li**2)
//	gamma = 1/(Ltask + (B/thetap)**0.5)
//
// with Li = [1, 3], Ltask = 2, (a, p) = (0.5, 0.9) → 0.012459426885559247 and
// (0.25, 0.5) → 0.0052677334949515625.
func TestPPConstantsMatchFLPyTorch(t *testing.T) {
	for _, c := range []struct{ alpha, p, want float64 }{
		{0.5, 0.9, 0.012459426885559247},
		{0.25, 0.5, 0.0052677334949515625},
	} {
		const s, rho, l = 1e-3, 1e-3, 2.0
		theta := 1 - (1+s)*(1-c.alpha)
		beta := (1 + 1/s) * (1 - c.alpha)
		thetaP, bP := PPConstants(theta, beta, c.p, rho)
		lt := math.Sqrt((1 + 9) / 2.0)
		got := 1 / (l + lt*math.Sqrt(bP/thetaP))
		if math.Abs(got-c.want) > 1e-13*c.want {
			t.Errorf("α = %v, p = %v: γ = %.17g, FL_PyTorch's formula gives %.17g", c.alpha, c.p, got, c.want)
		}
	}
}

// EF21PPTheory against a second evaluation: θ, β from EF21's s, ρ found by a
// golden-section search of B_p/θ_p (not the closed form), γ from the
// theorem's expression; and against scipy's bounded minimiser run on the same
// expression (α = 0.25, L = 2, L_i = {1, 3}: p = 0.5 → ρ = 0.056467905476329,
// γ = 0.024039086415127812; p = 0.1 → ρ = 0.007398638864376282,
// γ = 0.003287019891580402).
func TestEF21PPTheoryHandComputed(t *testing.T) {
	const alpha, l = 0.25, 2.0
	li := []float64{1, 3}
	for _, c := range []struct{ p, scipyRho, scipyGamma float64 }{
		{0.5, 0.056467905476329, 0.024039086415127812},
		{0.1, 0.007398638864376282, 0.003287019891580402},
	} {
		th, err := EF21PPTheory(alpha, l, li, c.p, 1)
		if err != nil {
			t.Fatal(err)
		}
		s := 1/math.Sqrt(1-alpha) - 1
		theta, beta := 1-(1-alpha)*(1+s), (1-alpha)*(1+1/s)
		ratio := func(rho float64) float64 {
			return (beta*c.p + (1+1/rho)*(1-c.p)) / (c.p*theta - rho*(1-c.p))
		}
		lo, hi := 0.0, c.p*theta/(1-c.p)
		g := (math.Sqrt(5) - 1) / 2
		for range 200 {
			m1, m2 := hi-g*(hi-lo), lo+g*(hi-lo)
			if ratio(m1) < ratio(m2) {
				hi = m2
			} else {
				lo = m1
			}
		}
		rho := (lo + hi) / 2
		lt := math.Sqrt(5)
		want := 1 / (l + math.Sqrt(lt*lt*ratio(rho)))
		if math.Abs(th.Rho-rho) > 1e-7*rho || math.Abs(th.Rho-c.scipyRho) > 1e-6*rho {
			t.Errorf("p = %v: ρ = %v, golden section %v, scipy %v", c.p, th.Rho, rho, c.scipyRho)
		}
		if math.Abs(th.Gamma-want) > 1e-12*want || math.Abs(th.Gamma-c.scipyGamma) > 1e-12*want {
			t.Errorf("p = %v: γ = %.17g, hand %.17g, scipy %.17g", c.p, th.Gamma, want, c.scipyGamma)
		}
		if math.Abs(th.Theta-theta) > 1e-15 || th.P != c.p || !(th.ThetaP > 0) {
			t.Errorf("p = %v: θ %v (want %v), P %v, θ_p %v", c.p, th.Theta, theta, th.P, th.ThetaP)
		}
		// the chosen ρ is the best on a grid too
		for i := 1; i < 100; i++ {
			r := float64(i) / 100 * c.p * theta / (1 - c.p)
			if ratio(r) < th.BP/th.ThetaP*(1-1e-12) {
				t.Errorf("p = %v: ρ = %v gives B_p/θ_p = %v below the chosen %v", c.p, r, ratio(r), th.BP/th.ThetaP)
			}
		}
	}
}

// Without compression (α = 1: θ = 1, β = 0) the optimum has a closed form,
// worked by hand: with q = √(1−p), ρ* = 1/q − 1, θ_p = 1 − q, B_p = q²/(1−q),
// so γ = 1/(L + L̃·q/(1−q)).
func TestEF21PPTheoryNoCompression(t *testing.T) {
	for _, p := range []float64{0.1, 0.5, 0.9} {
		th, err := EF21PPTheory(1, 4, []float64{2, 2}, p, 1)
		if err != nil {
			t.Fatal(err)
		}
		q := math.Sqrt(1 - p)
		want := 1 / (4 + 2*q/(1-q))
		if math.Abs(th.Gamma-want) > 1e-14*want || math.Abs(th.Rho-(1/q-1)) > 1e-14 || math.Abs(th.ThetaP-(1-q)) > 1e-14 {
			t.Errorf("p = %v: γ %v ρ %v θ_p %v, want %v %v %v", p, th.Gamma, th.Rho, th.ThetaP, want, 1/q-1, 1-q)
		}
	}
}

// p = 1 is ef21-theory bit for bit; γ grows with p, stays below EF21's for
// p < 1 and tends to it as p → 1; the factor multiplies.
func TestEF21PPTheoryLimits(t *testing.T) {
	li := []float64{1, 3, 0.5}
	ef, _ := EF21Theory(0.1, 2, li, 1)
	one, err := EF21PPTheory(0.1, 2, li, 1, 1)
	if err != nil || one.Gamma != ef.Gamma || one.ThetaP != ef.Theta || one.BP != ef.Beta || one.Rho != 0 {
		t.Fatalf("p = 1: %+v, ef21-theory %+v (%v)", one, ef, err)
	}
	prev := 0.0
	for _, p := range []float64{0.01, 0.1, 0.3, 0.5, 0.9, 0.99, 1 - 1e-9} {
		th, err := EF21PPTheory(0.1, 2, li, p, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !(th.Gamma > prev && th.Gamma < ef.Gamma) {
			t.Errorf("p = %v: γ = %v, previous %v, EF21 %v", p, th.Gamma, prev, ef.Gamma)
		}
		prev = th.Gamma
	}
	if math.Abs(prev-ef.Gamma) > 1e-3*ef.Gamma {
		t.Errorf("p → 1: γ = %v, EF21 %v", prev, ef.Gamma)
	}
	a, _ := EF21PPTheory(0.1, 2, li, 0.3, 1)
	b, _ := EF21PPTheory(0.1, 2, li, 0.3, 4)
	if math.Abs(b.Gamma-4*a.Gamma) > 1e-15*b.Gamma {
		t.Errorf("factor 4: %v, 4× factor 1 = %v", b.Gamma, 4*a.Gamma)
	}
}

func TestEF21PPTheoryErrors(t *testing.T) {
	for _, p := range []float64{0, -0.5, 1.5, math.NaN()} {
		if _, err := EF21PPTheory(0.5, 1, []float64{1}, p, 1); err == nil {
			t.Errorf("p = %v: no error", p)
		}
	}
	if _, err := EF21PPTheory(0, 1, []float64{1}, 0.5, 1); err == nil {
		t.Error("α = 0: no error")
	}
}
