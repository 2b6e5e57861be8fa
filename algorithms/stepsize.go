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
	Factor                float64
	// Gamma is factor / (L + L̃·√(β/θ)); factor/L when α = 1.
	Gamma float64
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
	t := Theory{Alpha: alpha, L: l, LTilde: math.Sqrt(sum / float64(len(li))), Factor: factor}
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
}

// At returns γ_k.
func (s Schedule) At(k int) float64 {
	if s.Decreasing {
		return s.Gamma / math.Sqrt(float64(k+1))
	}
	return s.Gamma
}
