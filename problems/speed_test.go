package problems

import (
	"math"
	"testing"

	"github.com/efmpi/efmpi/datasets"
)

// TestGradBitsUnchanged checks that the current gradient kernels give the
// bits of the kernels of before issue 12 (before_test.go) on binary and
// valued CSR data and on dense data, full and minibatch.
func TestGradBitsUnchanged(t *testing.T) {
	cases := map[string]*datasets.Dataset{
		"a1a": loadLIBSVM(t, "a1a"), "a1a-valued": valued(loadLIBSVM(t, "a1a"), 0.37),
		"breast-cancer": loadLIBSVM(t, "breast-cancer_scale"),
		"dense":         randomDense(333, 17, 4), "hand": handCSR(),
	}
	for name, ds := range cases {
		p, err := NewLogReg(ds, lambda)
		if err != nil {
			t.Fatal(err)
		}
		for seed := range uint64(3) {
			x := randVec(p.Dim(), 0.5+float64(seed), 10+seed)
			got, want := make([]float64, p.Dim()), make([]float64, p.Dim())
			p.Grad(got, x)
			gradBefore(p, want, x)
			for i := range got {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("%s seed %d coordinate %d: %v, before %v", name, seed, i, got[i], want[i])
				}
			}
		}
	}
}

// TestValueFromCache checks that Value after Grad at the same point (margins
// from the cache), Value at a point Grad has not seen (its own pass), and
// ValueGrad give the same bits, that a changed x is noticed, and that they
// agree with the value as computed before issue 12 (row by row) to 1e-14.
func TestValueFromCache(t *testing.T) {
	for name, ds := range map[string]*datasets.Dataset{
		"a1a": loadLIBSVM(t, "a1a"), "valued": valued(loadLIBSVM(t, "a1a"), 0.37),
		"dense": randomDense(300, 11, 5),
	} {
		p, err := NewLogReg(ds, lambda)
		if err != nil {
			t.Fatal(err)
		}
		x, y := randVec(p.Dim(), 1, 1), randVec(p.Dim(), 1, 2)
		g := make([]float64, p.Dim())
		cold := p.Value(x) // no Grad yet
		p.Grad(g, y)
		if p.cachedAt(x) {
			t.Fatalf("%s: cache claims a point it does not hold", name)
		}
		other := p.Value(x) // cache holds y
		p.Grad(g, x)
		if !p.cachedAt(x) {
			t.Fatalf("%s: no cache after Grad", name)
		}
		warm := p.Value(x)
		g2 := make([]float64, p.Dim())
		vg := p.ValueGrad(g2, x)
		if cold != other || cold != warm || cold != vg {
			t.Errorf("%s: Value cold %v, after Grad elsewhere %v, after Grad here %v, ValueGrad %v", name, cold, other, warm, vg)
		}
		for i := range g {
			if g[i] != g2[i] {
				t.Fatalf("%s: ValueGrad's gradient differs at %d", name, i)
			}
		}
		// the same slice, changed in place, must not hit the cache
		x[0] += 0.25
		if p.cachedAt(x) {
			t.Errorf("%s: x changed in place still hits the cache", name)
		}
		fresh := p.Value(x)
		if q, _ := NewLogReg(ds, lambda); q.Value(x) != fresh {
			t.Errorf("%s: Value after an in-place change %v, fresh objective %v", name, fresh, q.Value(x))
		}
		// before issue 12: math.Log1p per row (log1pUnit is within 2 ulp of
		// it), and for dense data margins from denseDot rather than Dgemv.
		if b := valueBefore(p, x); !relClose(b, fresh, 1e-14) {
			t.Errorf("%s: Value %v, before issue 12 %v", name, fresh, b)
		}
		if a := testing.AllocsPerRun(20, func() { p.ValueGrad(g, x) }); a != 0 {
			t.Errorf("%s: ValueGrad allocates %v times", name, a)
		}
	}
}

// TestValueCacheAnyConstructor: a LogReg whose cache was never allocated
// (as a constructor other than NewLogReg might leave it) allocates it on
// first use and gives NewLogReg's bits.
func TestValueCacheAnyConstructor(t *testing.T) {
	ds := loadLIBSVM(t, "a1a")
	p, err := NewLogReg(ds, lambda)
	if err != nil {
		t.Fatal(err)
	}
	q := *p
	q.t, q.e, q.cx, q.cached = nil, nil, nil, false
	x := randVec(p.Dim(), 1, 4)
	g1, g2 := make([]float64, p.Dim()), make([]float64, p.Dim())
	if a, b := p.ValueGrad(g1, x), q.ValueGrad(g2, x); a != b {
		t.Errorf("ValueGrad %v, without a cache at first %v", a, b)
	}
	r := *p
	r.t, r.e, r.cx, r.cached = nil, nil, nil, false
	y := randVec(p.Dim(), 1, 5)
	if a, b := p.Value(y), r.Value(y); a != b {
		t.Errorf("Value %v, without a cache at first %v", a, b)
	}
}
