package algorithms

import (
	"fmt"
	"math"
)

// RuleEF21PPTheory is EF21-PP's theoretical step (Fatkhullin, Sokolov,
// Gorbunov, Li, Richtárik 2021, "EF21 with bells & whistles: practical
// algorithmic extensions of modern error feedback", arXiv 2110.03294,
// Appendix F, the nonconvex theorem for EF21-PP, cited as Theorem 7, p. 47):
// EF21 whose clients take part in a round with probability p.
const RuleEF21PPTheory = "ef21-pp-theory"

// EF21PPTheory evaluates the ef21-pp-theory rule for participation
// probability p ∈ (0, 1], the same for every client (as efmpi draws it,
// Participation), so the theorem's p_min = p_max = p:
//
//	θ_p = ρ·p_min + θ·p_max − ρ − (p_max − p_min) = p·θ − ρ·(1 − p)
//	B   = (β·p + (1 + 1/ρ)·(1 − p)) · L̃²
//	γ   = factor / (L + √(B/θ_p)) = factor / (L + L̃·√(B_p/θ_p)),  B_p = B/L̃²
//
// with θ = 1 − (1−α)(1+s), β = (1−α)(1+1/s) and free parameters s > 0, ρ > 0
// subject to θ_p > 0.
//
// Source note: the theorem's own text (the paper's appendix) could not be
// retrieved with the tools available; the main text found states only the
// rate O(L̃δ⁰/(pαε²)) (Corollary 1). The formula above is the one of FL_PyTorch
// (Burlachenko, Horváth, Richtárik; github.com/burlachenkok/flpytorch,
// fl_pytorch/utils/algorithms.py, EF21PP.theoreticalStepSize, commented
// "Th.7, p.47 from EF21-PP"), the implementation of Richtárik's group, whose
// EF21 step in the same file is EF21's Theorem 1 exactly as EF21Theory has
// it. That code fixes ρ = s = 10⁻³. efmpi's choices, said here and tested:
//
//   - s = 1/√(1−α) − 1, EF21's own (Theorem 1 of Richtárik, Sokolov,
//     Fatkhullin 2021), so θ and β are EF21Theory's and p = 1 is ef21-theory
//     bit for bit (p = 1 returns EF21Theory's value itself);
//   - ρ the minimiser of B_p/θ_p over (0, pθ/(1−p)), i.e. the largest γ the
//     formula admits for this s: with a = βp, b = pθ, c = 1−p, the derivative
//     vanishes where (a+c)ρ² + 2cρ − b = 0, so ρ* = b/(√(c² + (a+c)b) + c)
//     (the positive root, written without cancellation); it lies inside the
//     interval, so θ_p > 0.
//
// α = 1 (no compression) is θ = 1, β = 0. The returned Theory has EF21's α,
// s, θ, β, L, L̃, L_AM, the factor, and P, Rho, ThetaP, BP; Gamma is the step.
func EF21PPTheory(alpha, l float64, li []float64, p, factor float64) (Theory, error) {
	if !(p > 0 && p <= 1) {
		return Theory{}, fmt.Errorf("ef21-pp-theory: participation p = %v must be in (0, 1]", p)
	}
	t, err := EF21Theory(alpha, l, li, factor)
	if err != nil {
		return t, fmt.Errorf("ef21-pp-theory: %w", err)
	}
	t.P = p
	if p == 1 {
		t.ThetaP, t.BP = t.Theta, t.Beta
		return t, nil
	}
	t.Rho = PPOptimalRho(t.Theta, t.Beta, p)
	t.ThetaP, t.BP = PPConstants(t.Theta, t.Beta, p, t.Rho)
	t.Gamma = factor / (l + t.LTilde*math.Sqrt(t.BP/t.ThetaP))
	if !(t.Gamma > 0) || math.IsInf(t.Gamma, 0) {
		return t, fmt.Errorf("ef21-pp-theory: γ = %v (θ_p = %v, B/L̃² = %v) is not a positive finite number", t.Gamma, t.ThetaP, t.BP)
	}
	return t, nil
}

// PPConstants returns EF21-PP's θ_p = pθ − ρ(1−p) and B_p = B/L̃² = βp +
// (1 + 1/ρ)(1−p) for EF21's θ, β, participation p and the free ρ > 0 (see
// EF21PPTheory); θ_p must come out positive for the theorem to apply.
func PPConstants(theta, beta, p, rho float64) (thetaP, bP float64) {
	return p*theta - rho*(1-p), beta*p + (1+1/rho)*(1-p)
}

// PPOptimalRho is the ρ ∈ (0, pθ/(1−p)) that minimises B_p/θ_p (see
// EF21PPTheory), for p ∈ (0, 1) and θ ∈ (0, 1], β ≥ 0.
func PPOptimalRho(theta, beta, p float64) float64 {
	a, b, c := beta*p, p*theta, 1-p
	return b / (math.Sqrt(c*c+(a+c)*b) + c)
}
