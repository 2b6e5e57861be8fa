package algorithms

// ||EF21-HM||: normalised EF21 with Hessian-corrected momentum (Tran,
// Cutkosky 2022, "Better SGD using second-order momentum"; in EF21 by the
// sequel, arXiv 2511.14501, rate O(1/T^{1/3})). Round k, at x = x^{k+1}, prev = x^k, the
// gradient and the Hessian-vector product on one minibatch ξ:
//
//	v_i ← (1−η)(v_i + ∇²f_i(x; ξ)(x − prev)) + η ∇f_i(x; ξ)
//
// one gradient and one Hessian-vector product per round (counted as two
// evaluations; train.py counts two backprop equivalents). This follows
// gen_sgd.py, branch EF21_HM_NORM, with train.py's HVP at x^k along
// x^k − x^{k−1}. The code drops the HVP when η == 1 exactly; efmpi always
// computes it ((1−η) = 0 then multiplies it away: the method is ||EF21-SGD||).
func init() {
	registerMomentum(momentumRule{name: EF21HM, needs: CapHessVec, evals: 2, q: QHessian, update: hmUpdate})
}

// EF21HM is the method name of ||EF21-HM||.
const EF21HM = "ef21-hm"

func hmUpdate(c *momentumClient, _ int, x []float64, eta float64) {
	c.grad(c.a, x)
	for j, xj := range x {
		c.b[j] = xj - c.prev[j]
	}
	c.hvp.HessVecSameBatch(c.hv, x, c.b)
	c.correct(c.a, c.hv, eta)
}
