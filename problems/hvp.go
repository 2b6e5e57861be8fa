package problems

import (
	"fmt"
	"math"
)

// HessVecer is implemented by objectives with an analytic Hessian-vector
// product (issue 24's Hessian-corrected momenta ask for it through the
// driver, as io.WriterTo is asked for).
type HessVecer interface {
	// MinibatchHessVec writes ∇²f_i(x; batch)·v into dst: the Hessian of the
	// loss averaged over the rows in batch (nil: the whole shard) plus the
	// full regulariser's. It allocates nothing.
	MinibatchHessVec(dst, x, v []float64, batch []int32)
}

// The gradient at another point on the same minibatch needs no interface:
// every Objective's MinibatchGrad is a function of (x, batch) alone, so the
// driver calls it again with the batch it drew.

// DefaultHVPEps is the displacement ε of CentralHVP when none is configured.
const DefaultHVPEps = 1e-4

// CentralHVP is the Hessian-vector product of any Objective by central
// differences of its minibatch gradients:
//
//	∇²f(x; ξ)·v ≈ ‖v‖ (∇f(x + εu; ξ) − ∇f(x − εu; ξ)) / (2ε),  u = v/‖v‖,
//
// so the two points lie ε apart from x in Euclidean distance whatever the
// scale of v; v = 0 gives 0. The error is O(ε²‖v‖) times the third
// derivative, plus rounding of order (machine ε)·‖∇f‖‖v‖/ε (float32 networks:
// about 1e-7 relative, so ε near 1e-2 balances the two there). It costs two
// gradients; it is the HVP of networks (no R-operator pass here) and of any
// objective without an analytic one where [algorithm] hvp = "central".
type CentralHVP struct {
	obj        Objective
	eps        float64
	xp, gp, gm []float64
}

// NewCentralHVP returns the central-difference HVP of obj with displacement eps.
func NewCentralHVP(obj Objective, eps float64) (*CentralHVP, error) {
	if !(eps > 0) || math.IsInf(eps, 0) {
		return nil, fmt.Errorf("central-difference HVP: eps = %v must be positive and finite", eps)
	}
	d := obj.Dim()
	return &CentralHVP{obj: obj, eps: eps, xp: make([]float64, d), gp: make([]float64, d), gm: make([]float64, d)}, nil
}

// MinibatchHessVec implements HessVecer (batch nil: the full gradient).
func (c *CentralHVP) MinibatchHessVec(dst, x, v []float64, batch []int32) {
	nv := 0.0
	for _, vj := range v {
		nv += vj * vj
	}
	nv = math.Sqrt(nv)
	if nv == 0 {
		clear(dst)
		return
	}
	h := c.eps / nv
	for j, xj := range x {
		c.xp[j] = xj + h*v[j]
	}
	c.grad(c.gp, c.xp, batch)
	for j, xj := range x {
		c.xp[j] = xj - h*v[j]
	}
	c.grad(c.gm, c.xp, batch)
	s := 1 / (2 * h)
	for j := range dst {
		dst[j] = (c.gp[j] - c.gm[j]) * s
	}
}

func (c *CentralHVP) grad(dst, x []float64, batch []int32) {
	if batch == nil {
		c.obj.Grad(dst, x)
		return
	}
	c.obj.MinibatchGrad(dst, x, batch)
}

// MinibatchHessVec implements HessVecer: (1/b) Σ_j σ(z_j)(1−σ(z_j)) (a_jᵀv) a_j
// with z_j = a_jᵀx, plus λ·(2 − 6x_t²)/(1 + x_t²)³·v_t, the second derivative of
// λ x²/(1 + x²). σ(z)(1−σ(z)) = e/(1+e)² with e = e^{−|z|} (no overflow).
func (p *LogReg) MinibatchHessVec(dst, x, v []float64, batch []int32) {
	checkLen("MinibatchHessVec", x, p.d)
	checkLen("MinibatchHessVec", v, p.d)
	checkLen("MinibatchHessVec", dst, p.d)
	clear(dst)
	row := func(j int) {
		e := math.Exp(-math.Abs(p.rowDot(j, x)))
		w := e / ((1 + e) * (1 + e))
		p.addRowTo(dst, j, w*p.rowDot(j, v))
	}
	sampleMean(dst, p.m, batch, row)
	for t, xt := range x {
		q := 1 + xt*xt
		dst[t] += p.lambda * (2 - 6*xt*xt) / (q * q * q) * v[t]
	}
}

// addRowTo adds c·a_j to dst (not on the gradient's hot path).
func (p *LogReg) addRowTo(dst []float64, j int, c float64) {
	if p.dense != nil {
		for t, a := range p.dense[j*p.d : (j+1)*p.d] {
			dst[t] += c * a
		}
		return
	}
	for k := p.rowPtr[j]; k < p.rowPtr[j+1]; k++ {
		dst[p.colIdx[k]] += c * p.val[k]
	}
}

func scale(v []float64, s float64) {
	for j := range v {
		v[j] *= s
	}
}

// rowDot returns a_jᵀv.
func (p *LeastSq) rowDot(j int, v []float64) float64 {
	if dm := p.ds.Dense; dm != nil {
		return denseDot(dm.Data[j*p.d:(j+1)*p.d], v)
	}
	s := p.ds.Sparse
	lo, hi := s.RowPtr[j], s.RowPtr[j+1]
	return sparseDot(s.ColIdx[lo:hi], s.Val[lo:hi], v)
}

// MinibatchHessVec implements HessVecer: (1/b) Σ_j (a_jᵀv) a_j + λv.
func (p *LeastSq) MinibatchHessVec(dst, x, v []float64, batch []int32) {
	checkLen("MinibatchHessVec", v, p.d)
	checkLen("MinibatchHessVec", dst, p.d)
	clear(dst)
	row := func(j int) { p.addRow(dst, j, p.rowDot(j, v)) }
	sampleMean(dst, p.m, batch, row)
	for t, vt := range v {
		dst[t] += p.lambda * vt
	}
}

// MinibatchHessVec implements HessVecer: diag(3x_t² − a_t)·v (no samples; batch
// is ignored).
func (p *Polynomial) MinibatchHessVec(dst, x, v []float64, _ []int32) {
	checkLen("MinibatchHessVec", x, len(p.a))
	for t, xt := range x {
		dst[t] = (3*xt*xt - p.a[t]) * v[t]
	}
}

// sampleMean runs row for every sample of batch (nil: all m, in order) and
// divides dst by their number: the data term of a minibatch Hessian-vector
// product. An empty (non-nil) batch leaves dst as it is.
func sampleMean(dst []float64, m int, batch []int32, row func(j int)) {
	switch {
	case batch == nil:
		for j := range m {
			row(j)
		}
		scale(dst, 1/float64(m))
	case len(batch) > 0:
		for _, j := range batch {
			row(int(j))
		}
		scale(dst, 1/float64(len(batch)))
	}
}
