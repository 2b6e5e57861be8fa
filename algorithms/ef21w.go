package algorithms

import (
	"fmt"
	"math"
)

// EF21-W, weighted EF21 (Richtárik, Gasanov, Burlachenko 2024, "Error
// Feedback Reloaded: From Quadratic to Arithmetic Mean of Smoothness
// Constants", Algorithm EF21-W), with weights w_i = L_i / Σ_j L_j:
//
//	x^{k+1} = x^k − γ g^k                       (||EF21-W||: γ g^k/‖g^k‖, a configuration)
//	g_i^{k+1} = g_i^k + C( ∇f_i(x^{k+1})/(n w_i) − g_i^k )
//	g^{k+1} = Σ_i w_i g_i^{k+1}
//
// and g_i^0 = ∇f_i(x^0)/(n w_i) (uncompressed; C of it with init =
// "compressed"), so g^0 = (1/n) Σ_i ∇f_i(x^0). Its step is the paper's
// γ ≤ 1/(L + L_AM √(β/θ)) with L_AM = (1/n) Σ_i L_i (rule ef21-theory-am,
// EF21TheoryAM).
//
// How it travels: client i keeps g_i and sends u_i·c_i with u_i = n w_i (the
// same support, so the same bits); the shared EF21 replica adds (1/n)Σ_i u_i c_i
// = Σ_i w_i c_i to g. The scale s_i = 1/(n w_i) is computed as
// (Σ_j L_j/L_i)/n, which is exactly 1 when every L_i is equal; clients with
// s_i = 1 run EF21's code path untouched, so EF21-W with equal L_i is EF21 bit
// for bit.
//
// A consequence worth knowing (tested): every compressor here is positively
// homogeneous, C(s·v) = s·C(v) for s > 0, so by induction g_i^{EF21-W} =
// s_i·g_i^{EF21} and the iterates of EF21-W and EF21 agree up to rounding for
// any L_i. The weighting changes the analysis, not the trajectory: what
// EF21-W brings in practice is the larger admissible step ef21-theory-am,
// which the paper's improved analysis grants plain EF21 as well.
//
// Partial participation (p < 1) combines as in EF21-PP. The momentum variant
// (the paper's EF21-W-SGD direction) is not offered: rejected.
func init() {
	register(EF21W, func(c Config) (Method, error) {
		if len(c.Smoothness) != c.Clients {
			return nil, fmt.Errorf("method ef21-w: %d smoothness constants L_i for %d clients", len(c.Smoothness), c.Clients)
		}
		for i, l := range c.Smoothness {
			if !(l > 0) || math.IsInf(l, 0) {
				return nil, fmt.Errorf("method ef21-w: L_%d = %v must be positive and finite", i, l)
			}
		}
		m, err := newEF21(c, false)
		if err != nil {
			return nil, err
		}
		m.scale = WeightScales(c.Smoothness)
		return m, nil
	})
}

// Weights returns EF21-W's w_i = L_i / Σ_j L_j.
func Weights(li []float64) []float64 {
	sum := 0.0
	for _, l := range li {
		sum += l
	}
	w := make([]float64, len(li))
	for i, l := range li {
		w[i] = l / sum
	}
	return w
}

// WeightScales returns s_i = 1/(n w_i) = (Σ_j L_j/L_i)/n, summed in rank order
// (exactly 1 for every i when the L_i are equal).
func WeightScales(li []float64) []float64 {
	n := float64(len(li))
	s := make([]float64, len(li))
	for i, l := range li {
		r := 0.0
		for _, lj := range li {
			r += lj / l
		}
		s[i] = r / n
	}
	return s
}
