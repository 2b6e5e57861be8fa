package problems

import (
	"fmt"
	"math"

	"github.com/efmpi/efmpi/rng"
)

// Polynomial is the separable quartic double-well of SPEC §5:
//
//	f_i(x) = Σ_t ( x_t⁴/4 − a_t x_t²/2 + b_t x_t ),
//
// with a_t ~ U[0, 2] and b_t ~ N(0, 1). It is nonconvex and (L0,L1)-smooth but
// not L-smooth, so its smoothness constant is the local one at x^0.
// It has no samples: MinibatchGrad is the exact gradient.
type Polynomial struct {
	a, b []float64
}

// NewPolynomial returns client's polynomial on R^d. The coefficients are drawn
// from the stream rng.New(seed, rng.Polynomial, client): first a_0..a_{d-1} as
// 2·Float64(), then b_0..b_{d-1} as NormFloat64().
func NewPolynomial(d int, seed uint64, client int) (*Polynomial, error) {
	if d <= 0 {
		return nil, fmt.Errorf("polynomial: dimension %d must be positive", d)
	}
	if client < 0 {
		return nil, fmt.Errorf("polynomial: client %d must be non-negative", client)
	}
	r, _ := rng.New(seed, rng.Polynomial, uint64(client))
	p := &Polynomial{a: make([]float64, d), b: make([]float64, d)}
	for t := range p.a {
		p.a[t] = 2 * r.Float64()
	}
	for t := range p.b {
		p.b[t] = r.NormFloat64()
	}
	return p, nil
}

// MeanPolynomial returns the polynomial with coefficients ā = (1/n)Σ a_i and
// b̄ = (1/n)Σ b_i, summed in slice order, so that its value and gradient are
// those of f = (1/n)Σ f_i. It returns nil if ps is empty and panics if the
// dimensions differ.
func MeanPolynomial(ps []*Polynomial) *Polynomial {
	if len(ps) == 0 {
		return nil
	}
	d := len(ps[0].a)
	m := &Polynomial{a: make([]float64, d), b: make([]float64, d)}
	for _, p := range ps {
		if len(p.a) != d {
			panic("problems: MeanPolynomial of polynomials of different dimensions")
		}
		for t := range d {
			m.a[t] += p.a[t]
			m.b[t] += p.b[t]
		}
	}
	n := float64(len(ps))
	for t := range d {
		m.a[t] /= n
		m.b[t] /= n
	}
	return m
}

// Coefficients returns the coefficient vectors a and b. They are the
// polynomial's own storage: do not modify them.
func (p *Polynomial) Coefficients() (a, b []float64) { return p.a, p.b }

// Dim is the dimension d.
func (p *Polynomial) Dim() int { return len(p.a) }

// Samples is 0: the polynomial has no samples.
func (p *Polynomial) Samples() int { return 0 }

// Value returns f_i(x).
func (p *Polynomial) Value(x []float64) float64 {
	checkLen("Value", x, len(p.a))
	var s float64
	for t, xt := range x[:len(p.a)] {
		x2 := xt * xt
		s += x2*x2/4 - p.a[t]*x2/2 + p.b[t]*xt
	}
	return s
}

// Grad writes ∇f_i(x)_t = x_t³ − a_t x_t + b_t into dst.
func (p *Polynomial) Grad(dst, x []float64) {
	d := len(p.a)
	checkLen("Grad", x, d)
	checkLen("Grad", dst, d)
	a, b := p.a[:d], p.b[:d]
	dst = dst[:d]
	for t, xt := range x[:d] {
		dst[t] = xt*xt*xt - a[t]*xt + b[t]
	}
}

// MinibatchGrad writes the exact gradient: the polynomial has no samples, so
// batch is ignored.
func (p *Polynomial) MinibatchGrad(dst, x []float64, batch []int32) { p.Grad(dst, x) }

// Smoothness returns the local constant max_t |3(x0_t)² − a_t|, the largest
// absolute eigenvalue of the Hessian at x0.
func (p *Polynomial) Smoothness(x0 []float64) (float64, error) {
	if len(x0) != len(p.a) {
		return 0, fmt.Errorf("polynomial smoothness: x0 has length %d, want %d", len(x0), len(p.a))
	}
	var l float64
	for t, xt := range x0 {
		l = math.Max(l, math.Abs(3*xt*xt-p.a[t]))
	}
	return l, nil
}

// checkLen panics if v does not have length d. Panicking with a constant
// string keeps the hot paths allocation-free.
func checkLen(op string, v []float64, d int) {
	if len(v) != d {
		panic("problems: " + op + ": vector length does not match the dimension")
	}
}
