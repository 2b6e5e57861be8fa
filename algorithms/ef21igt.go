package algorithms

// ||EF21-IGT||: normalised EF21 with implicit gradient transport (Arnold,
// Manzagol, Babanezhad, Mitliagkas, Le Roux 2019; in EF21 by the sequel,
// arXiv 2511.14501, rate O(1/T^{2/7})). Round k, at x = x^{k+1}, prev = x^k:
//
//	x̃ = x + ((1−η)/η)(x − prev)
//	v_i ← (1−η) v_i + η ∇f_i(x̃; ξ)
//
// one stochastic gradient per round, at the extrapolated point and not at x.
// This follows gen_sgd.py, branch EF21_IGT_NORM, with the extrapolation of
// train.py (scale = (1−η)/η, gradient taken only at x̃); the code guards η by
// max(η, 1e-12), efmpi requires η ∈ (0, 1]. With η = 1, x̃ = x and the method is
// ||EF21-SGD|| bit for bit.
func init() {
	registerMomentum(momentumRule{name: EF21IGT, evals: 1, q: QIGT, update: igtUpdate})
}

// EF21IGT is the method name of ||EF21-IGT||.
const EF21IGT = "ef21-igt"

func igtUpdate(c *momentumClient, _ int, x []float64, eta float64) {
	s := (1 - eta) / eta
	for j, xj := range x {
		c.b[j] = xj + s*(xj-c.prev[j])
	}
	c.grad(c.a, c.b)
	for j, gj := range c.a {
		c.v[j] = (1-eta)*c.v[j] + eta*gj
	}
}
