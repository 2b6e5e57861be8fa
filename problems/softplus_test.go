package problems

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestSoftplusSigmoidExtreme(t *testing.T) {
	for _, c := range []struct {
		z, softplus, sigmoid float64
	}{
		{0, math.Ln2, 0.5},
		{1e4, 1e4, 1},
		{-1e4, 0, 0}, // e^{-10000} underflows: 0 is the correctly rounded value
		{800, 800, 1},
		{-800, 0, 0}, // e^{-800} < smallest subnormal
		{1e300, 1e300, 1},
		{-1e300, 0, 0},
		{-700, math.Exp(-700), math.Exp(-700)}, // tiny but representable: must not be lost
		{40, 40 + math.Exp(-40), 1},
	} {
		sp, sg := Softplus(c.z), Sigmoid(c.z)
		if math.IsNaN(sp) || math.IsInf(sp, 0) || math.IsNaN(sg) || math.IsInf(sg, 0) {
			t.Errorf("z=%g: softplus %v, sigmoid %v not finite", c.z, sp, sg)
			continue
		}
		if !relClose(sp, c.softplus, 1e-15) {
			t.Errorf("Softplus(%g) = %v, want %v", c.z, sp, c.softplus)
		}
		if !relClose(sg, c.sigmoid, 1e-15) {
			t.Errorf("Sigmoid(%g) = %v, want %v", c.z, sg, c.sigmoid)
		}
	}
}

func TestSoftplusSigmoidModerate(t *testing.T) {
	for z := -20.0; z <= 30; z += 0.37 {
		// log(1+e^z) loses e^z to rounding for negative z: use log1p there.
		naiveSP := math.Log(1 + math.Exp(z))
		if z < 0 {
			naiveSP = math.Log1p(math.Exp(z))
		}
		if !relClose(Softplus(z), naiveSP, 1e-12) {
			t.Errorf("Softplus(%g) = %v, naive %v", z, Softplus(z), naiveSP)
		}
		naiveSG := 1 / (1 + math.Exp(-z))
		if !relClose(Sigmoid(z), naiveSG, 1e-14) {
			t.Errorf("Sigmoid(%g) = %v, naive %v", z, Sigmoid(z), naiveSG)
		}
		// Identities: softplus(z) − softplus(−z) = z, σ(z) + σ(−z) = 1, and
		// softplus' = σ (central difference).
		if d := Softplus(z) - Softplus(-z); math.Abs(d-z) > 1e-13*math.Max(1, math.Abs(z)) {
			t.Errorf("softplus(%g) − softplus(−z) = %v", z, d)
		}
		if s := Sigmoid(z) + Sigmoid(-z); math.Abs(s-1) > 3e-16 {
			t.Errorf("σ(%g) + σ(−z) = %v", z, s)
		}
		h := 1e-5
		if fd := (Softplus(z+h) - Softplus(z-h)) / (2 * h); math.Abs(fd-Sigmoid(z)) > 1e-9 {
			t.Errorf("softplus'(%g) ≈ %v, σ = %v", z, fd, Sigmoid(z))
		}
	}
}

// relClose reports whether |got − want| ≤ tol·|want| (exact match for want 0).
func relClose(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Abs(want)
}

func ExampleSoftplus() {
	fmt.Println(Softplus(0) == math.Ln2, Softplus(1e4), Softplus(-1e4))
	fmt.Println(Sigmoid(0), Sigmoid(1e4), Sigmoid(-1e4))
	// Output:
	// true 10000 0
	// 0.5 1 0
}

// ulpDiff is the distance in units in the last place between two finite
// non-negative floats.
func ulpDiff(a, b float64) uint64 {
	x, y := math.Float64bits(a), math.Float64bits(b)
	if x > y {
		return x - y
	}
	return y - x
}

// TestLog1pUnit checks log1pUnit against math.Log1p to 2 ulp on two million
// points of [0, 1] spread over every scale (x = e^{−60u} and uniform), the
// table's breakpoints and their neighbours, and the special values.
func TestLog1pUnit(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	xs := []float64{0, 1, 0.5, 5e-324, 1e-300, 1.0 / (1 << 54), 1.0 / (1 << 29)}
	for j := 0; j <= 128; j++ {
		b := float64(j) / 128
		xs = append(xs, b, math.Nextafter(b, 0), math.Nextafter(b, 1))
	}
	for range 1_000_000 {
		xs = append(xs, math.Exp(-r.Float64()*60), r.Float64())
	}
	worst, at := uint64(0), 0.0
	for _, x := range xs {
		if x < 0 || x > 1 {
			continue
		}
		if d := ulpDiff(log1pUnit(x), math.Log1p(x)); d > worst {
			worst, at = d, x
		}
	}
	if worst > 2 {
		t.Errorf("log1pUnit is %d ulp from math.Log1p at x = %v", worst, at)
	}
	t.Logf("largest difference from math.Log1p: %d ulp (at x = %v)", worst, at)
	for _, x := range []float64{math.NaN(), -0.5, 2, math.Inf(1), -1} {
		if got, want := log1pUnit(x), math.Log1p(x); math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("log1pUnit(%v) = %v, want %v", x, got, want)
		}
	}
}

// naiveSoftplusSum is softplusSum's order written plainly: terms
// max(t, 0) + log1pUnit(e) (math.Log1p outside [0, 1]), the full blocks of
// 16 into eight partial sums by j mod 8, combined pairwise, then the tail.
func naiveSoftplusSum(ts, es []float64) float64 {
	term := func(j int) float64 {
		if !(es[j] >= 0 && es[j] <= 1) {
			return math.Max(ts[j], 0) + math.Log1p(es[j])
		}
		return math.Max(ts[j], 0) + log1pUnit(es[j])
	}
	full := len(ts) / 16 * 16
	var p [8]float64
	for j := range full {
		p[j%8] += term(j)
	}
	s := ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]))
	for j := full; j < len(ts); j++ {
		s += term(j)
	}
	return s
}

// TestSoftplusSum checks the loss sum against naiveSoftplusSum bit for bit,
// and against Σ Softplus (math.Log1p, compensated summation) to 1e-15
// relative,
// on margins of every size, with NaN propagating.
func TestSoftplusSum(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	var ts, es []float64
	for i := range 5000 {
		z := r.NormFloat64() * math.Pow(10, float64(i%6)-2)
		ts = append(ts, z)
		es = append(es, math.Exp(-math.Abs(z)))
	}
	// Σ Softplus with Neumaier's compensated summation: the exact sum of
	// the library's terms to about one rounding.
	var lib, comp float64
	for _, z := range ts {
		v := Softplus(z)
		s := lib + v
		if math.Abs(lib) >= math.Abs(v) {
			comp += (lib - s) + v
		} else {
			comp += (v - s) + lib
		}
		lib = s
	}
	lib += comp
	want := naiveSoftplusSum(ts, es)
	if got := softplusSum(ts, es); math.Float64bits(got) != math.Float64bits(want) {
		t.Errorf("softplusSum %v, naive %v", got, want)
	} else if !relClose(got, lib, 1e-15) {
		t.Errorf("softplusSum %v, Softplus %v", got, lib)
	}
	ts[17], es[17] = math.NaN(), math.NaN()
	if got := softplusSum(ts, es); !math.IsNaN(got) {
		t.Errorf("NaN margin: sum %v", got)
	}
	// Every length of the last block, and values outside [0, 1] (the
	// math.Log1p path) in the middle of a block, in the first and in a
	// later block: still the same order and bits.
	ts, es = ts[18:], es[18:]
	es[5], es[21], ts[22] = 1.5, math.Inf(1), math.Inf(-1)
	es[22] = 0
	es[70] = -0.25
	for n := range 100 {
		want := naiveSoftplusSum(ts[:n], es[:n])
		if got := softplusSum(ts[:n], es[:n]); math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("%d terms: softplusSum %v, naive %v", n, got, want)
		}
		withGo(func() {
			if got := softplusSum(ts[:n], es[:n]); math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("%d terms, Go loop: softplusSum %v, naive %v", n, got, want)
			}
		})
	}
}
