package problems

import (
	"fmt"
	"math"

	"github.com/efmpi/efmpi/datasets"
)

// LeastSq is least squares with an optional ridge regulariser on one shard
// of m samples (a_j, b_j), the targets b_j being the dataset's labels:
//
//	f_i(x) = (1/2m) ‖A x − b‖² + (λ/2) ‖x‖²,
//	∇f_i(x) = (1/m) Aᵀ(A x − b) + λ x,
//
// the objective of the EF21 papers' PL experiments. It is L_i-smooth with
// L_i = λ_max(AᵀA)/m + λ (its Hessian is AᵀA/m + λI), and for λ > 0 strongly
// convex, so it satisfies the PL condition. The design matrix is used in
// place (sparse CSR or dense) and never copied; Grad and MinibatchGrad make
// one pass over the rows and allocate nothing.
type LeastSq struct {
	m, d   int
	lambda float64
	ds     *datasets.Dataset
}

// NewLeastSq returns the least-squares objective of ds with ridge weight
// lambda ≥ 0.
func NewLeastSq(ds *datasets.Dataset, lambda float64) (*LeastSq, error) {
	if err := validateMatrix(ds); err != nil {
		return nil, fmt.Errorf("leastsq: %w", err)
	}
	if len(ds.Labels) != ds.Rows() || matrixRows(ds) != len(ds.Labels) {
		return nil, fmt.Errorf("leastsq %s: %d targets for %d rows", ds.Source, len(ds.Labels), matrixRows(ds))
	}
	if lambda < 0 || math.IsNaN(lambda) || math.IsInf(lambda, 0) {
		return nil, fmt.Errorf("leastsq %s: lambda %v must be finite and non-negative", ds.Source, lambda)
	}
	return &LeastSq{m: ds.Rows(), d: ds.Cols(), lambda: lambda, ds: ds}, nil
}

// Dim is the number of features d.
func (p *LeastSq) Dim() int { return p.d }

// Samples is the number of samples m_i in the shard.
func (p *LeastSq) Samples() int { return p.m }

// residual returns a_jᵀx − b_j.
func (p *LeastSq) residual(j int, x []float64) float64 {
	if dm := p.ds.Dense; dm != nil {
		return denseDot(dm.Data[j*p.d:(j+1)*p.d], x) - p.ds.Labels[j]
	}
	s := p.ds.Sparse
	lo, hi := s.RowPtr[j], s.RowPtr[j+1]
	return sparseDot(s.ColIdx[lo:hi], s.Val[lo:hi], x) - p.ds.Labels[j]
}

// addRow adds c·a_j to dst.
func (p *LeastSq) addRow(dst []float64, j int, c float64) {
	if dm := p.ds.Dense; dm != nil {
		row := dm.Data[j*p.d : (j+1)*p.d]
		for t, v := range row {
			dst[t] += c * v
		}
		return
	}
	s := p.ds.Sparse
	for k := s.RowPtr[j]; k < s.RowPtr[j+1]; k++ {
		dst[s.ColIdx[k]] += c * s.Val[k]
	}
}

func (p *LeastSq) ridge(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return p.lambda / 2 * s
}

// Value returns f_i(x).
func (p *LeastSq) Value(x []float64) float64 {
	checkLen("Value", x, p.d)
	var s float64
	for j := range p.m {
		r := p.residual(j, x)
		s += r * r
	}
	return s/(2*float64(p.m)) + p.ridge(x)
}

// Grad writes ∇f_i(x) into dst.
func (p *LeastSq) Grad(dst, x []float64) {
	checkLen("Grad", x, p.d)
	checkLen("Grad", dst, p.d)
	clear(dst)
	inv := 1 / float64(p.m)
	for j := range p.m {
		p.addRow(dst, j, p.residual(j, x)*inv)
	}
	p.addRidge(dst, x)
}

// MinibatchGrad writes the gradient of the squared loss averaged over the
// rows in batch, plus the full ridge gradient.
func (p *LeastSq) MinibatchGrad(dst, x []float64, batch []int32) {
	checkLen("MinibatchGrad", x, p.d)
	checkLen("MinibatchGrad", dst, p.d)
	clear(dst)
	if len(batch) > 0 {
		inv := 1 / float64(len(batch))
		for _, j := range batch {
			p.addRow(dst, int(j), p.residual(int(j), x)*inv)
		}
	}
	p.addRidge(dst, x)
}

func (p *LeastSq) addRidge(dst, x []float64) {
	for t, v := range x {
		dst[t] += p.lambda * v
	}
}

// Smoothness returns L_i = λ_max(AᵀA)/m + λ (x0 is not used: the Hessian
// is constant).
func (p *LeastSq) Smoothness([]float64) (float64, error) {
	return LeastSqSmoothness(p.ds, p.lambda)
}

// LeastSqSmoothness returns the smoothness constant of the least-squares
// objective on the whole of ds, L = λ_max(AᵀA)/m + λ.
func LeastSqSmoothness(ds *datasets.Dataset, lambda float64) (float64, error) {
	lmax, err := LambdaMaxAtA(ds)
	if err != nil {
		return 0, fmt.Errorf("leastsq smoothness: %w", err)
	}
	return lmax/float64(ds.Rows()) + lambda, nil
}
