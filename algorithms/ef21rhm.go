package algorithms

// ||EF21-RHM||: normalised EF21 with randomised Hessian-corrected momentum
// (in EF21 by the sequel, arXiv 2511.14501, rate O(1/T^{1/3})). Round k, at
// x = x^{k+1}, prev = x^k, q ~ U[0, 1) drawn by each client every round, the
// gradient and the Hessian-vector product on one minibatch ξ:
//
//	x̂ = q x + (1−q) prev
//	v_i ← (1−η)(v_i + ∇²f_i(x̂; ξ)(x − prev)) + η ∇f_i(x; ξ)
//
// two evaluations per round (train.py counts three backprop equivalents: its
// HVP at x̂ needs a gradient graph there). This follows gen_sgd.py, branch
// EF21_RHM_NORM, and train.py (q_t = torch.rand(1) per worker call). q comes
// from (seed, round, rank) by a counter-based hash (SplitMix64), so it needs
// no state in a checkpoint and is the same on every transport.
func init() {
	registerMomentum(momentumRule{name: EF21RHM, needs: CapHessVec, evals: 2, q: QHessian, update: rhmUpdate})
}

// EF21RHM is the method name of ||EF21-RHM||.
const EF21RHM = "ef21-rhm"

// rhmPurpose separates RHM's q from the other streams of a seed.
const rhmPurpose = 0x524d // "RM"

// RHMUniform is the q ∈ [0, 1) of client r in round k.
func RHMUniform(seed uint64, k, r int) float64 {
	h := mix64(seed ^ rhmPurpose<<48)
	h = mix64(h ^ uint64(k))
	h = mix64(h ^ uint64(r)<<32 ^ 0x9e3779b97f4a7c15)
	return float64(h>>11) * 0x1p-53
}

func rhmUpdate(c *momentumClient, k int, x []float64, eta float64) {
	c.grad(c.a, x)
	q := RHMUniform(c.seed, k, c.rank)
	for j, xj := range x {
		c.b[j] = xj - c.prev[j]
		c.scratch[j] = q*xj + (1-q)*c.prev[j]
	}
	c.hvp.HessVecSameBatch(c.hv, c.scratch, c.b)
	c.correct(c.a, c.hv, eta)
}
