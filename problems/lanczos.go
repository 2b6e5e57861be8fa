package problems

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/efmpi/efmpi/datasets"
)

// lanczosTol is the relative Ritz residual ‖AᵀA y − θ y‖/θ at which
// LambdaMaxAtA stops. The error in θ is of the order of the squared residual
// over the spectral gap, so the eigenvalue is then accurate to rounding.
const lanczosTol = 1e-13

// LogRegSmoothness returns the smoothness constant of the logistic-regression
// objective on the whole of ds, L = λ_max(AᵀA)/(4m) + 2λ.
func LogRegSmoothness(ds *datasets.Dataset, lambda float64) (float64, error) {
	if err := validate(ds); err != nil {
		return 0, fmt.Errorf("logreg smoothness: %w", err)
	}
	if lambda < 0 || math.IsNaN(lambda) || math.IsInf(lambda, 0) {
		return 0, fmt.Errorf("logreg smoothness %s: lambda %v must be finite and non-negative", ds.Source, lambda)
	}
	lmax, err := LambdaMaxAtA(ds)
	if err != nil {
		return 0, fmt.Errorf("logreg smoothness: %w", err)
	}
	return lmax/(4*float64(ds.Rows())) + 2*lambda, nil
}

// LambdaMaxAtA returns the largest eigenvalue of AᵀA for the design matrix A of
// ds (sparse or dense), by the Lanczos iteration with full reorthogonalisation.
// It touches A only through the products A v and Aᵀ(A v), so a sparse A costs
// O(nnz) per step and AᵀA is never formed.
//
// The start vector is a fixed-seed Gaussian vector, normalised, so the result
// is deterministic. The iteration stops when the Ritz residual of the largest
// Ritz value θ is at most 1e-13·θ, or when the Krylov space is exhausted (d
// steps). A breakdown (β ≈ 0) means the Krylov space is an invariant subspace;
// a random start has, with probability one, a component along the top
// eigenvector, so that subspace contains it and θ is λ_max: the residual test
// then stops the iteration. The Ritz values are the eigenvalues of the
// tridiagonal Lanczos matrix, computed with gonum's mat.EigenSym.
func LambdaMaxAtA(ds *datasets.Dataset) (float64, error) {
	if err := validateMatrix(ds); err != nil {
		return 0, fmt.Errorf("lambda_max(AᵀA): %w", err)
	}
	op := newGramOp(ds)
	return LambdaMax(op.d, ds.Source, func(w, v []float64) error { op.apply(w, v); return nil })
}

// LambdaMaxShards returns the largest eigenvalue of Σ_i A_iᵀA_i/m_i, where
// part i has m_i rows: n times the Hessian-bound matrix (1/n) Σ_i A_iᵀA_i/m_i
// of f = (1/n) Σ_i f_i when each f_i averages over its own m_i samples (SPEC
// §5). It never forms the matrices: each Lanczos product computes every
// part's A_iᵀA_i v/m_i (GramOp.ApplyMean) and adds them with sum (dst ← Σ
// parts, in an order of sum's choosing). Passing the summation of a
// distributed allreduce makes the result bit for bit that of a distributed
// Lanczos iteration whose ranks hold the parts (see LambdaMax). All parts
// must have the same number of columns and at least one row. With one part
// it is λ_max(AᵀA)/m.
func LambdaMaxShards(parts []*datasets.Dataset, sum func(dst []float64, parts [][]float64)) (float64, error) {
	if len(parts) == 0 {
		return 0, errors.New("lambda_max: no parts")
	}
	ops := make([]*GramOp, len(parts))
	for i, p := range parts {
		op, err := NewGramOp(p)
		if err != nil {
			return 0, fmt.Errorf("lambda_max part %d: %w", i, err)
		}
		if i > 0 && op.Dim() != ops[0].Dim() {
			return 0, fmt.Errorf("lambda_max part %d: %d columns, part 0 has %d", i, op.Dim(), ops[0].Dim())
		}
		ops[i] = op
	}
	d := ops[0].Dim()
	prods := make([][]float64, len(ops))
	for i := range prods {
		prods[i] = make([]float64, d)
	}
	return LambdaMax(d, parts[0].Source, func(w, v []float64) error {
		for i, op := range ops {
			op.ApplyMean(prods[i], v)
		}
		sum(w, prods)
		return nil
	})
}

// GramOp applies v ↦ AᵀA v for one design matrix A (sparse or dense) in
// O(nnz) (O(m·d) dense), with its own scratch: the building block of a
// distributed Lanczos iteration.
type GramOp struct{ g *gramOp }

// NewGramOp returns the Gram operator of ds's design matrix.
func NewGramOp(ds *datasets.Dataset) (*GramOp, error) {
	if err := validateMatrix(ds); err != nil {
		return nil, fmt.Errorf("gram operator: %w", err)
	}
	return &GramOp{newGramOp(ds)}, nil
}

// Dim is d, the length of v and w.
func (o *GramOp) Dim() int { return o.g.d }

// Apply writes AᵀA v into w (both of length Dim).
func (o *GramOp) Apply(w, v []float64) { o.g.apply(w, v) }

// ApplyMean writes AᵀA v/m into w, m the number of rows of A (at least one,
// as NewGramOp checks): the Gram operator of a shard's average loss, whose
// sum over the ranks LambdaMaxShards takes.
func (o *GramOp) ApplyMean(w, v []float64) {
	o.g.apply(w, v)
	scal(1/float64(o.g.m), w)
}

// LogRegL is the smoothness constant lmax/(4m) + 2λ of logistic regression
// with the nonconvex regulariser: on m samples whose Gram matrix has largest
// eigenvalue lmax, or, for f = (1/n) Σ_i f_i over n shards, with m = n and
// lmax = λ_max(Σ_i A_iᵀA_i/m_i) (LambdaMaxShards; SPEC §5).
func LogRegL(lmax float64, m int, lambda float64) float64 {
	return lmax/(4*float64(m)) + 2*lambda
}

// LambdaMax returns the largest eigenvalue of the symmetric positive
// semi-definite d×d operator apply (w ← M v), by the Lanczos iteration with
// full reorthogonalisation described at LambdaMaxAtA; name labels errors. The
// iteration depends only on the values apply returns, so ranks that run it
// on the same products (for example summed by an allreduce) take the same
// steps and return the same value.
func LambdaMax(d int, name string, apply func(w, v []float64) error) (float64, error) {
	r := rand.New(rand.NewPCG(0x5eed1a2c, 0x0e7d2b41))
	v := make([]float64, d)
	for t := range v {
		v[t] = r.NormFloat64()
	}
	scal(1/norm2(v), v)

	var (
		basis       [][]float64
		alpha, beta []float64
		maxAlpha    float64
	)
	for k := 0; k < d; k++ {
		basis = append(basis, v)
		w := make([]float64, d)
		if err := apply(w, v); err != nil {
			return 0, fmt.Errorf("lambda_max(AᵀA) %s step %d: %w", name, k+1, err)
		}
		a := dot(v, w)
		alpha = append(alpha, a)
		maxAlpha = math.Max(maxAlpha, math.Abs(a))
		// Full reorthogonalisation against every basis vector, twice ("twice is
		// enough"); it subsumes the three-term recurrence w −= αv + βq_{k−1}.
		for range 2 {
			for _, q := range basis {
				axpy(-dot(q, w), q, w)
			}
		}
		b := norm2(w)
		last := k+1 == d
		// The eigen-decomposition of T costs O(k³): do it every step while k is
		// small, then every 8 steps, and always at a (near) breakdown or the end.
		if k < 64 || k%8 == 7 || last || b <= lanczosTol*maxAlpha {
			theta, s, err := topRitz(alpha, beta)
			if err != nil {
				return 0, fmt.Errorf("lambda_max(AᵀA) %s step %d: %w", name, k+1, err)
			}
			if b*math.Abs(s) <= lanczosTol*theta || b == 0 || last {
				return theta, nil
			}
		}
		beta = append(beta, b)
		scal(1/b, w)
		v = w
	}
	return 0, fmt.Errorf("lambda_max(AᵀA) %s: empty operator (d = %d)", name, d)
}

// topRitz returns the largest eigenvalue θ of the symmetric tridiagonal matrix
// with diagonal alpha and off-diagonal beta (len(beta) == len(alpha)−1), and the
// last component of its unit eigenvector.
func topRitz(alpha, beta []float64) (theta, last float64, err error) {
	k := len(alpha)
	t := mat.NewSymDense(k, nil)
	for i, a := range alpha {
		t.SetSym(i, i, a)
	}
	for i, b := range beta {
		t.SetSym(i, i+1, b)
	}
	var eig mat.EigenSym
	if !eig.Factorize(t, true) {
		return 0, 0, errors.New("eigen-decomposition of the tridiagonal matrix did not converge")
	}
	vals := eig.Values(nil)
	top := 0
	for i, v := range vals {
		if v > vals[top] {
			top = i
		}
	}
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	return vals[top], vecs.At(k-1, top), nil
}

// gramOp applies v ↦ AᵀA v for a sparse or dense A, with its own scratch.
type gramOp struct {
	m, d  int
	csr   *datasets.CSR
	dense []float64
	u     []float64 // A v, length m
}

func newGramOp(ds *datasets.Dataset) *gramOp {
	if s := ds.Sparse; s != nil {
		return &gramOp{m: s.Rows, d: s.Cols, csr: s, u: make([]float64, s.Rows)}
	}
	return &gramOp{m: ds.Dense.Rows, d: ds.Dense.Cols, dense: ds.Dense.Data, u: make([]float64, ds.Dense.Rows)}
}

// apply writes AᵀA v into w.
func (g *gramOp) apply(w, v []float64) {
	clear(w)
	if s := g.csr; s != nil {
		for r := range g.m {
			lo, hi := s.RowPtr[r], s.RowPtr[r+1]
			g.u[r] = sparseDot(s.ColIdx[lo:hi], s.Val[lo:hi], v)
		}
		for r, ur := range g.u {
			lo, hi := s.RowPtr[r], s.RowPtr[r+1]
			vals := s.Val[lo:hi]
			for k, c := range s.ColIdx[lo:hi] {
				w[c] += ur * vals[k]
			}
		}
		return
	}
	for r := range g.m {
		row := g.dense[r*g.d : (r+1)*g.d]
		axpy(denseDot(row, v), row, w)
	}
}

// dot returns xᵀy.
func dot(x, y []float64) float64 { return denseDot(x, y) }

// norm2 returns ‖x‖₂ without overflow or underflow for any finite x.
func norm2(x []float64) float64 {
	var scale, ssq float64 = 0, 1
	for _, v := range x {
		if v == 0 {
			continue
		}
		a := math.Abs(v)
		if scale < a {
			ssq = 1 + ssq*(scale/a)*(scale/a)
			scale = a
		} else {
			ssq += (a / scale) * (a / scale)
		}
	}
	return scale * math.Sqrt(ssq)
}

// axpy sets y += a x.
func axpy(a float64, x, y []float64) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += a * v
	}
}

// scal sets x *= a.
func scal(a float64, x []float64) {
	for i := range x {
		x[i] *= a
	}
}
