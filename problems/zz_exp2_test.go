package problems

import (
	"math"
	"math/rand/v2"
	"testing"
)

func expPolySlice(v []float64) {
	const (
		ln2Hi     = 6.93147180369123816490e-01
		ln2Lo     = 1.90821492927058770002e-10
		log2e     = 1.44269504088896338700e+00
		normalMin = -708.0
		underflow = -7.45133219101941108420e+02
	)
	for i, x := range v {
		if !(x >= underflow) {
			if x == x {
				v[i] = 0
			}
			continue
		}
		k := int(log2e*x - 0.5)
		fk := float64(k)
		hi := x - fk*ln2Hi
		lo := fk * ln2Lo
		r := hi - lo
		// e^r − 1 by Taylor to degree 13, Estrin-ish split for parallelism.
		r2 := r * r
		r4 := r2 * r2
		p01 := 1 + r*(1.0/2)
		p23 := 1.0/6 + r*(1.0/24)
		p45 := 1.0/120 + r*(1.0/720)
		p67 := 1.0/5040 + r*(1.0/40320)
		p89 := 1.0/362880 + r*(1.0/3628800)
		pab := 1.0/39916800 + r*(1.0/479001600)
		pcd := 1.0/6227020800 + r*(1.0/87178291200)
		q0 := p01 + r2*p23
		q1 := p45 + r2*p67
		q2 := p89 + r2*pab
		q3 := pcd
		s0 := q0 + r4*q1
		s1 := q2 + r4*q3
		em1 := r * (s0 + (r4*r4)*s1)
		_ = lo
		y := 1 + em1
		if x < normalMin {
			v[i] = math.Ldexp(y, k)
			continue
		}
		v[i] = y * math.Float64frombits(uint64(k+1023)<<52)
	}
}

func TestExpPoly(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	worst := 0.0
	for range 20000 {
		x := -750 * r.Float64()
		if r.IntN(2) == 0 {
			x = -r.Float64()
		}
		v := []float64{x}
		expPolySlice(v)
		want := bigExp(x)
		ulp := math.Nextafter(want, math.Inf(1)) - want
		worst = math.Max(worst, math.Abs(v[0]-want)/ulp)
	}
	t.Logf("worst %.3g ulp", worst)
}

func BenchmarkMicroExpRational(b *testing.B) {
	var v [rowBlock]float64
	for b.Loop() {
		for i := range v {
			v[i] = -float64(i) * 0.1
		}
		expNonPosSlice(v[:])
	}
}

func BenchmarkMicroExpPoly(b *testing.B) {
	var v [rowBlock]float64
	for b.Loop() {
		for i := range v {
			v[i] = -float64(i) * 0.1
		}
		expPolySlice(v[:])
	}
}
