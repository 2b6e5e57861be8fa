package problems

import (
	"math"
	"testing"
)

// fdHVP is the HVP by central differences of a gradient, written in the test:
// (g(x + h v) − g(x − h v)) / 2h.
func fdHVP(grad func(dst, x []float64), x, v []float64, h float64) []float64 {
	d := len(x)
	xp, gp, gm := make([]float64, d), make([]float64, d), make([]float64, d)
	for j := range x {
		xp[j] = x[j] + h*v[j]
	}
	grad(gp, xp)
	for j := range x {
		xp[j] = x[j] - h*v[j]
	}
	grad(gm, xp)
	out := make([]float64, d)
	for j := range out {
		out[j] = (gp[j] - gm[j]) / (2 * h)
	}
	return out
}

// The analytic HVPs of logistic regression (with the nonconvex regulariser),
// least squares and the polynomial agree with central differences of their
// gradients (themselves checked against differences of the values), on the
// full shard and on a minibatch with a repeated row.
func TestHessVecFD(t *testing.T) {
	for _, c := range gradCases() {
		t.Run(c.name, func(t *testing.T) {
			ds := c.ds(t)
			lr, err := NewLogReg(ds, lambda)
			if err != nil {
				t.Fatal(err)
			}
			ls, err := NewLeastSq(ds, 0.05)
			if err != nil {
				t.Fatal(err)
			}
			x, v := randVec(lr.Dim(), c.sigma, 3), randVec(lr.Dim(), 1, 4)
			batch := []int32{0, int32(lr.Samples() - 1), 0}
			for name, obj := range map[string]Objective{"logreg": lr, "leastsq": ls} {
				hv := make([]float64, len(x))
				obj.(HessVecer).MinibatchHessVec(hv, x, v, nil)
				checkClose(t, name+" HVP vs FD", hv, fdHVP(obj.Grad, x, v, 1e-5), 1e-7)
				obj.(HessVecer).MinibatchHessVec(hv, x, v, batch)
				mb := func(dst, y []float64) { obj.MinibatchGrad(dst, y, batch) }
				checkClose(t, name+" minibatch HVP vs FD", hv, fdHVP(mb, x, v, 1e-5), 1e-7)
			}
		})
	}
	p, err := NewPolynomial(30, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	x, v := randVec(30, 1, 5), randVec(30, 1, 6)
	hv := make([]float64, 30)
	p.MinibatchHessVec(hv, x, v, nil)
	checkClose(t, "polynomial HVP vs FD", hv, fdHVP(p.Grad, x, v, 1e-5), 1e-8)
}

// The logistic HVP against the Hessian formed densely by hand on the 5×6
// matrix: H = (1/m) Σ_j σ'(z_j) a_j a_jᵀ + λ diag((2 − 6x²)/(1 + x²)³).
func TestLogRegHessVecDense(t *testing.T) {
	ds := handCSR()
	p, _ := NewLogReg(ds, lambda)
	a := denseRows(ds)
	x, v := randVec(6, 1, 8), randVec(6, 1, 9)
	want := make([]float64, 6)
	for _, row := range a {
		z := 0.0
		for t, aj := range row {
			z += aj * x[t]
		}
		s := 1 / (1 + math.Exp(-z))
		for r := range want {
			for c := range want {
				want[r] += s * (1 - s) * row[r] * row[c] * v[c] / float64(len(a))
			}
		}
	}
	for t, xt := range x {
		want[t] += lambda * (2 - 6*xt*xt) / math.Pow(1+xt*xt, 3) * v[t]
	}
	got := make([]float64, 6)
	p.MinibatchHessVec(got, x, v, nil)
	checkClose(t, "HVP vs dense Hessian", got, want, 1e-14)
}

// The central-difference adapter agrees with the analytic HVP to O(ε²), and
// gives 0 for v = 0; it refuses a non-positive ε.
func TestCentralHVP(t *testing.T) {
	ds := loadLIBSVM(t, "a1a")
	p, _ := NewLogReg(ds, lambda)
	x, v := randVec(p.Dim(), 0.3, 1), randVec(p.Dim(), 5, 2)
	want := make([]float64, p.Dim())
	p.MinibatchHessVec(want, x, v, []int32{3, 7, 11})
	c, err := NewCentralHVP(p, 1e-4)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float64, p.Dim())
	c.MinibatchHessVec(got, x, v, []int32{3, 7, 11})
	checkClose(t, "central HVP", got, want, 1e-7)
	c.MinibatchHessVec(got, x, make([]float64, p.Dim()), nil)
	if maxAbs(got) != 0 {
		t.Fatalf("HVP along 0 = %v", got)
	}
	if _, err := NewCentralHVP(p, 0); err == nil {
		t.Fatal("ε = 0 accepted")
	}
	one := []int32{3}
	if a := testing.AllocsPerRun(10, func() { c.MinibatchHessVec(got, x, v, one) }); a != 0 {
		t.Fatalf("%v allocations", a)
	}
	if a := testing.AllocsPerRun(10, func() { p.MinibatchHessVec(got, x, v, one) }); a != 0 {
		t.Fatalf("analytic: %v allocations", a)
	}
}
