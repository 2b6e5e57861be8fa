// Package problems holds the objectives f_i that clients minimise, with their
// gradients and smoothness constants (SPEC §5). A problem reads a shard, never a
// file.
package problems

// Objective is one client's local loss f_i on R^d. Implementations must not
// allocate in Grad or MinibatchGrad: they are called every iteration.
type Objective interface {
	// Dim is d.
	Dim() int
	// Samples is the number of samples m_i in the shard (0 for problems that
	// have none, such as the polynomial).
	Samples() int
	// Value returns f_i(x).
	Value(x []float64) float64
	// Grad writes ∇f_i(x) into dst (length d).
	Grad(dst, x []float64)
	// MinibatchGrad writes the gradient of the loss averaged over the samples
	// listed in batch (0-based shard rows), plus the full regulariser gradient.
	// Problems without samples write the exact gradient.
	MinibatchGrad(dst, x []float64, batch []int32)
	// Smoothness returns L_i; x0 is the initial point (used by problems whose
	// constant is local, such as the polynomial).
	Smoothness(x0 []float64) (float64, error)
}

// ValueGrader is implemented by objectives that compute f_i(x) and ∇f_i(x) in
// one pass over their data, with the bits of Value and Grad.
type ValueGrader interface {
	// ValueGrad writes ∇f_i(x) into dst and returns f_i(x).
	ValueGrad(dst, x []float64) float64
}
