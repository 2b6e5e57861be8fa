package algorithms

// ||EF21-STORM|| (MVR): normalised EF21 with the STORM momentum (Cutkosky,
// Orabona 2019; in EF21 by the sequel, arXiv 2511.14501, rate O(1/T^{1/3})).
// Round k, at x = x^{k+1}, prev = x^k, both gradients on one minibatch ξ:
//
//	v_i ← (1−η)(v_i + ∇f_i(x; ξ) − ∇f_i(prev; ξ)) + η ∇f_i(x; ξ)
//
// two gradient evaluations per round. This follows gen_sgd.py, branch
// EF21_MVR_NORM ("two-backprop, same minibatch"), with train.py's gradient
// at x^{k−1} on the same data; the code's one-backprop variant EF21_MVR_1b,
// which reuses the previous round's gradient on another minibatch, is not
// offered. With exact gradients v_i = ∇f_i(x) up to rounding for every η, so
// the method is ||EF21||; with η = 1 it is ||EF21-SGD||.
func init() {
	registerMomentum(momentumRule{name: EF21STORM, needs: CapSameBatch, evals: 2, q: QSTORM, update: stormUpdate})
}

// EF21STORM is the method name of ||EF21-STORM||.
const EF21STORM = "ef21-storm"

func stormUpdate(c *momentumClient, _ int, x []float64, eta float64) {
	c.grad(c.a, x)
	c.same.GradSameBatch(c.b, c.prev)
	for j, gj := range c.a {
		c.b[j] = gj - c.b[j]
	}
	c.correct(c.a, c.b, eta)
}
