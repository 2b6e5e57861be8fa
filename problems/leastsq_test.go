package problems

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// naiveLeastSq is (1/2m)‖Ax − b‖² + (λ/2)‖x‖² over dense rows, written out
// (rows == nil: all rows; else the listed rows, repeats counting twice).
func naiveLeastSq(a [][]float64, b []float64, lambda float64, rows []int32, x []float64) float64 {
	if rows == nil {
		for j := range a {
			rows = append(rows, int32(j))
		}
	}
	var s float64
	for _, j := range rows {
		r := -b[j]
		for t, v := range a[j] {
			r += v * x[t]
		}
		s += r * r
	}
	if len(rows) > 0 {
		s /= 2 * float64(len(rows))
	}
	var q float64
	for _, v := range x {
		q += v * v
	}
	return s + lambda/2*q
}

// Value against the naive sum, Grad and MinibatchGrad against central finite
// differences (the objective is quadratic, so central differences are exact
// up to rounding), on sparse and dense data.
func TestLeastSqGradFD(t *testing.T) {
	for _, c := range gradCases() {
		t.Run(c.name, func(t *testing.T) {
			ds := c.ds(t)
			p, err := NewLeastSq(ds, 0.05)
			if err != nil {
				t.Fatal(err)
			}
			x := randVec(p.Dim(), c.sigma, 5)
			a := denseRows(ds)
			if got, want := p.Value(x), naiveLeastSq(a, ds.Labels, 0.05, nil, x); !relClose(got, want, 1e-12) {
				t.Errorf("Value = %.17g, naive %.17g", got, want)
			}
			g := make([]float64, p.Dim())
			p.Grad(g, x)
			checkClose(t, "Grad vs FD", g, fdGrad(p.Value, x, 1e-4), 1e-7)
			batch := []int32{0, int32(p.Samples() - 1), 0}
			p.MinibatchGrad(g, x, batch)
			fb := func(x []float64) float64 { return naiveLeastSq(a, ds.Labels, 0.05, batch, x) }
			checkClose(t, "MinibatchGrad vs FD", g, fdGrad(fb, x, 1e-4), 1e-7)
		})
	}
}

// L_i = λ_max(AᵀA)/m + λ, with λ_max from a dense eigen-solver (gonum's
// EigenSym on AᵀA formed explicitly) to 1e-8 relative, and L bounds the
// gradient's Lipschitz quotient.
func TestLeastSqSmoothnessDense(t *testing.T) {
	for _, c := range gradCases() {
		t.Run(c.name, func(t *testing.T) {
			ds := c.ds(t)
			p, err := NewLeastSq(ds, 0.05)
			if err != nil {
				t.Fatal(err)
			}
			a := denseRows(ds)
			m, d := len(a), p.Dim()
			ata := mat.NewSymDense(d, nil)
			for i := range d {
				for j := i; j < d; j++ {
					var s float64
					for r := range m {
						s += a[r][i] * a[r][j]
					}
					ata.SetSym(i, j, s)
				}
			}
			var eig mat.EigenSym
			if !eig.Factorize(ata, false) {
				t.Fatal("EigenSym failed")
			}
			vals := eig.Values(nil)
			want := vals[len(vals)-1]/float64(m) + 0.05
			got, err := p.Smoothness(nil)
			if err != nil || !relClose(got, want, 1e-8) {
				t.Fatalf("L = %v (%v), dense %v", got, err, want)
			}
			gx, gy := make([]float64, d), make([]float64, d)
			for s := range uint64(5) {
				x, y := randVec(d, 1, 20+s), randVec(d, 1, 200+s)
				p.Grad(gx, x)
				p.Grad(gy, y)
				var num, den float64
				for i := range x {
					num += (gx[i] - gy[i]) * (gx[i] - gy[i])
					den += (x[i] - y[i]) * (x[i] - y[i])
				}
				if math.Sqrt(num/den) > got*(1+1e-12) {
					t.Errorf("‖∇f(x) − ∇f(y)‖/‖x − y‖ = %v > L = %v", math.Sqrt(num/den), got)
				}
			}
		})
	}
}

func TestLeastSqAllocs(t *testing.T) {
	p, err := NewLeastSq(randomDense(50, 8, 2), 0.1)
	if err != nil {
		t.Fatal(err)
	}
	x, g := randVec(8, 1, 1), make([]float64, 8)
	batch := []int32{1, 2, 3}
	if n := testing.AllocsPerRun(20, func() { p.Grad(g, x); p.MinibatchGrad(g, x, batch) }); n != 0 {
		t.Errorf("%v allocations per gradient", n)
	}
	if _, err := NewLeastSq(randomDense(5, 2, 1), -1); err == nil {
		t.Error("negative lambda accepted")
	}
}

func BenchmarkLeastSqGrad(b *testing.B) {
	p, _ := NewLeastSq(randomDense(2000, 50, 3), 0.1)
	x, g := randVec(50, 1, 1), make([]float64, 50)
	for b.Loop() {
		p.Grad(g, x)
	}
}

// Evaluate against the naive losses without regulariser and a hand count of
// the samples on the right side of the hyperplane.
func TestEvaluate(t *testing.T) {
	for _, c := range gradCases() {
		t.Run(c.name, func(t *testing.T) {
			ds := c.ds(t)
			x := randVec(ds.Cols(), c.sigma, 9)
			a := denseRows(ds)
			correct := 0
			for j, row := range a {
				z := 0.0
				for t, v := range row {
					z += v * x[t]
				}
				if ds.Labels[j]*z > 0 {
					correct++
				}
			}
			acc := float64(correct) / float64(len(a))
			loss, got, err := Evaluate("logreg", ds, x)
			if err != nil || got != acc || !relClose(loss, naiveLoss(a, ds.Labels, 0, nil, x), 1e-12) {
				t.Errorf("logreg: loss %v accuracy %v (%v); want %v %v", loss, got, err, naiveLoss(a, ds.Labels, 0, nil, x), acc)
			}
			loss, got, err = Evaluate("leastsq", ds, x)
			if err != nil || got != acc || !relClose(loss, naiveLeastSq(a, ds.Labels, 0, nil, x), 1e-12) {
				t.Errorf("leastsq: loss %v accuracy %v (%v)", loss, got, err)
			}
		})
	}
	if _, _, err := Evaluate("polynomial", randomDense(3, 2, 1), []float64{0, 0}); err == nil {
		t.Error("polynomial evaluated")
	}
	if _, _, err := Evaluate("logreg", randomDense(3, 2, 1), []float64{0}); err == nil {
		t.Error("wrong dimension accepted")
	}
}
