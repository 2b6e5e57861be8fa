package problems

import (
	"fmt"
	"math"
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
