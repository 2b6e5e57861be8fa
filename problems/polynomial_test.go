package problems

import (
	"math"
	"testing"

	"github.com/efmpi/efmpi/rng"
)

func TestPolynomialCoefficients(t *testing.T) {
	const d, seed = 50, 42
	p, err := NewPolynomial(d, seed, 3)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := rng.New(seed, rng.Polynomial, 3)
	a, b := p.Coefficients()
	for i := range d {
		if want := 2 * r.Float64(); a[i] != want || a[i] < 0 || a[i] >= 2 {
			t.Fatalf("a[%d] = %v, want %v", i, a[i], want)
		}
	}
	for i := range d {
		if want := r.NormFloat64(); b[i] != want {
			t.Fatalf("b[%d] = %v, want %v", i, b[i], want)
		}
	}
	q, _ := NewPolynomial(d, seed, 4)
	if qa, _ := q.Coefficients(); qa[0] == a[0] {
		t.Error("clients 3 and 4 share coefficients")
	}
	if p.Dim() != d || p.Samples() != 0 {
		t.Errorf("Dim %d Samples %d", p.Dim(), p.Samples())
	}
	for _, c := range []struct{ d, client int }{{0, 0}, {-1, 0}, {3, -1}} {
		if _, err := NewPolynomial(c.d, 1, c.client); err == nil {
			t.Errorf("NewPolynomial(%d, 1, %d): no error", c.d, c.client)
		}
	}
}

func TestPolynomialGrad(t *testing.T) {
	p, err := NewPolynomial(20, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := p.Coefficients()
	x := randVec(20, 1.5, 9)
	// Value against the formula term by term.
	var want float64
	for i := range x {
		want += math.Pow(x[i], 4)/4 - a[i]*x[i]*x[i]/2 + b[i]*x[i]
	}
	if got := p.Value(x); !relClose(got, want, 1e-13) {
		t.Errorf("Value = %v, want %v", got, want)
	}
	g := make([]float64, 20)
	p.Grad(g, x)
	checkClose(t, "Grad vs FD", g, fdGrad(p.Value, x, 1e-5), 1e-8)
	mb := make([]float64, 20)
	p.MinibatchGrad(mb, x, []int32{1, 2})
	checkClose(t, "MinibatchGrad vs Grad", mb, g, 0)
	if n := testing.AllocsPerRun(100, func() { p.Grad(g, x) }); n != 0 {
		t.Errorf("Grad allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { p.MinibatchGrad(g, x, nil) }); n != 0 {
		t.Errorf("MinibatchGrad allocates %v times", n)
	}
}

func TestPolynomialSmoothness(t *testing.T) {
	p, _ := NewPolynomial(4, 1, 2)
	a, _ := p.Coefficients()
	x0 := []float64{0, 0.1, -1, 2}
	want := 0.0
	for i, x := range x0 {
		want = math.Max(want, math.Abs(3*x*x-a[i]))
	}
	if got, err := p.Smoothness(x0); err != nil || got != want || want < 12-2 {
		t.Errorf("Smoothness = %v, %v; want %v", got, err, want)
	}
	// At 0 the constant is max_t a_t, the largest |Hessian| eigenvalue.
	if got, _ := p.Smoothness(make([]float64, 4)); got != math.Max(math.Max(a[0], a[1]), math.Max(a[2], a[3])) {
		t.Errorf("Smoothness(0) = %v, a = %v", got, a)
	}
	if _, err := p.Smoothness(make([]float64, 3)); err == nil {
		t.Error("no error for wrong length x0")
	}
}

func TestMeanPolynomial(t *testing.T) {
	const d, n = 30, 7
	ps := make([]*Polynomial, n)
	for i := range ps {
		var err error
		if ps[i], err = NewPolynomial(d, 5, i); err != nil {
			t.Fatal(err)
		}
	}
	mean := MeanPolynomial(ps)
	x := randVec(d, 1, 11)
	want := make([]float64, d)
	g := make([]float64, d)
	var wantValue float64
	for _, p := range ps {
		p.Grad(g, x)
		for i := range g {
			want[i] += g[i] / n
		}
		wantValue += p.Value(x) / n
	}
	mean.Grad(g, x)
	checkClose(t, "mean gradient", g, want, 1e-12)
	if v := mean.Value(x); !relClose(v, wantValue, 1e-12) {
		t.Errorf("mean Value = %v, want %v", v, wantValue)
	}
	if MeanPolynomial(nil) != nil {
		t.Error("MeanPolynomial(nil) != nil")
	}
}
