package datasets

import (
	"fmt"

	"github.com/efmpi/efmpi/rng"
)

// SplitDirichlet orders the samples by label as SplitLabel does and cuts the
// ranks' blocks with Dirichlet-distributed sizes (DirichletCuts), so the
// shards differ in label mix and in size, hence in their smoothness
// constants L_i (a small shard averages fewer rows: its λ_max(A_iᵀA_i)/m_i is
// larger). ShardOptions.Alpha is the concentration: small α, very unequal
// shards; α → ∞, equal ones.
const SplitDirichlet = "dirichlet"

// DirichletCuts returns the n+1 cut points 0 = c_0 < c_1 < … < c_n = m of the
// Dirichlet split: shard r is [c_r, c_{r+1}) of m_r = 1 + ⌊(m − n)·p_r⌋ samples,
// p ~ Dirichlet(α, …, α) drawn from rng.New(seed, rng.Shuffle, 1), and the last
// shard takes what the floors leave. Every shard has at least one sample.
func DirichletCuts(m, n int, alpha float64, seed uint64) ([]int, error) {
	switch {
	case n < 1 || m < n:
		return nil, fmt.Errorf("dirichlet split: %d samples for %d ranks", m, n)
	case !(alpha > 0):
		return nil, fmt.Errorf("dirichlet split: concentration α = %v must be positive", alpha)
	}
	p := make([]float64, n)
	r, _ := rng.New(seed, rng.Shuffle, 1)
	s := 0.0
	for i := range p {
		p[i] = rng.Gamma(r, alpha) // Dirichlet(α): normalised Gamma(α) draws
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	cuts := make([]int, n+1)
	for i := 0; i < n-1; i++ {
		cuts[i+1] = cuts[i] + 1 + int(float64(m-n)*p[i])
	}
	cuts[n] = m
	return cuts, nil
}
