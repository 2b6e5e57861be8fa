package algorithms

import (
	"fmt"
	"math"
)

// Step-size rule names (SPEC §4).
const (
	RuleEF21Theory = "ef21-theory"
	RuleNormTheory = "norm-theory"
	RuleConstant   = "constant"
	RuleDecreasing = "decreasing"
)

// Theory holds the quantities behind EF21's theoretical step size (Richtárik,
// Sokolov, Fatkhullin 2021, Theorem 1): α the compressor's contraction,
// s = 1/√(1−α) − 1, θ = 1 − (1−α)(1+s), β = (1−α)(1+1/s), L̃ = √((1/n) Σ L_i²).
type Theory struct {
	Alpha, S, Theta, Beta float64
	L, LTilde             float64
	// LAM is the arithmetic mean (1/n) Σ L_i (set by EF21TheoryAM).
	LAM    float64
	Factor float64
	// Gamma is factor / (L + L̃·√(β/θ)); factor/L when α = 1. Under
	// ef21-pp-theory it is EF21-PP's step (EF21PPTheory).
	Gamma float64
	// P, Rho, ThetaP, BP are EF21-PP's participation probability p, free
	// parameter ρ, θ_p and B/L̃² (set by EF21PPTheory; P = 0 otherwise, and
	// Rho = 0 when p = 1, where ρ does not enter).
	P, Rho, ThetaP, BP float64
}

// EF21Theory evaluates the ef21-theory rule. li are the clients' smoothness
// constants L_i and l is the constant L of f.
func EF21Theory(alpha, l float64, li []float64, factor float64) (Theory, error) {
	if !(alpha > 0 && alpha <= 1) {
		return Theory{}, fmt.Errorf("ef21-theory: contraction α = %v must be in (0, 1]", alpha)
	}
	if !(l > 0) || math.IsInf(l, 0) {
		return Theory{}, fmt.Errorf("ef21-theory: smoothness L = %v must be positive and finite", l)
	}
	if len(li) == 0 {
		return Theory{}, fmt.Errorf("ef21-theory: no client constants L_i")
	}
	if !(factor > 0) {
		return Theory{}, fmt.Errorf("ef21-theory: factor = %v must be positive", factor)
	}
	sum := 0.0
	for _, x := range li {
		sum += x * x
	}
	t := Theory{Alpha: alpha, L: l, LTilde: math.Sqrt(sum / float64(len(li))), LAM: LAM(li), Factor: factor}
	if alpha == 1 {
		t.Theta, t.Beta = 1, 0
		t.Gamma = factor / l
		return t, nil
	}
	t.S = 1/math.Sqrt(1-alpha) - 1
	t.Theta = 1 - (1-alpha)*(1+t.S)
	t.Beta = (1 - alpha) * (1 + 1/t.S)
	t.Gamma = factor / (l + t.LTilde*math.Sqrt(t.Beta/t.Theta))
	return t, nil
}

// NormTheory is the ||EF21|| / ||EF21-SGDM|| rule: γ0/√(K+1) for deterministic
// methods and γ0/(K+1)^{3/4} for the momentum methods, K the configured number
// of iterations.
func NormTheory(gamma0 float64, iterations int, stochastic bool) float64 {
	if stochastic {
		return gamma0 / math.Pow(float64(iterations+1), 0.75)
	}
	return gamma0 / math.Sqrt(float64(iterations+1))
}

// EtaTheory is the momentum rule η = min(1, η0/√(K+1)).
func EtaTheory(eta0 float64, iterations int) float64 {
	return math.Min(1, eta0/math.Sqrt(float64(iterations+1)))
}

// Schedule gives γ_k for every iteration k. Constant schedules (ef21-theory,
// norm-theory, constant) have Decreasing false and return Gamma; the decreasing
// rule returns Gamma/√(k+1).
type Schedule struct {
	Rule       string
	Gamma      float64
	Decreasing bool
	// Power > 0 is rule "poly" (issue 24): γ_k = Gamma/(t+1)^Power with
	// t = k/Every (Every ≤ 1: per iteration; else iterations per epoch).
	Power float64
	Every int
}

// RulePoly is the parameter-agnostic step γ_t = γ0/(t+1)^p of issue 24 (the
// sequel's code: train.py's LambdaLR 1/(epoch+1)^p, per epoch).
const RulePoly = "poly"

// At returns γ_k.
func (s Schedule) At(k int) float64 {
	if s.Power != 0 {
		t := k
		if s.Every > 1 {
			t = k / s.Every
		}
		return s.Gamma / math.Pow(float64(t+1), s.Power)
	}
	if s.Decreasing {
		return s.Gamma / math.Sqrt(float64(k+1))
	}
	return s.Gamma
}

// RuleEF21TheoryAM is the arithmetic-mean step of Richtárik, Gasanov,
// Burlachenko (2024): γ = factor / (L + L_AM·√(β/θ)), L_AM = (1/n) Σ_i L_i,
// which the paper proves for EF21-W and, by its improved analysis, for the
// original EF21 too. θ and β are EF21's.
const RuleEF21TheoryAM = "ef21-theory-am"

// EF21TheoryAM evaluates the ef21-theory-am rule (Richtárik, Gasanov,
// Burlachenko 2024: EF21-W's theorem, and the improved analysis of EF21, both
// with L_AM where Richtárik, Sokolov, Fatkhullin 2021 have L̃). The returned
// Theory has LTilde = L̃ as before, LAM = L_AM, and Gamma the L_AM step;
// α = 1 gives factor/L, as for ef21-theory.
//
// Source note: the paper's theorem text could not be retrieved (the search
// tools hold its abstract, summaries and reviews, not its body or the
// authors' code for it), so the statement follows the issue and the abstract.
// A published review of the paper (secondary, not checked against the paper)
// names Theorem 2 as EF21-W's bound and Theorem 3 as the improved analysis of
// EF21, both with L_AM, and Theorem 1 as the cloning bound with an extra √2.
func EF21TheoryAM(alpha, l float64, li []float64, factor float64) (Theory, error) {
	t, err := EF21Theory(alpha, l, li, factor)
	if err != nil {
		return t, err
	}
	t.LAM = LAM(li)
	if alpha < 1 {
		t.Gamma = factor / (l + t.LAM*math.Sqrt(t.Beta/t.Theta))
	}
	return t, nil
}

// LAM is the arithmetic mean L_AM = (1/n) Σ_i L_i (≤ L̃ = √((1/n) Σ L_i²), with
// equality only when every L_i is equal).
func LAM(li []float64) float64 {
	s := 0.0
	for _, x := range li {
		s += x
	}
	return s / float64(len(li))
}
