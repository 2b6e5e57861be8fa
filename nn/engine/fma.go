package engine

import "math"

// FMA32 returns a·b + c rounded once to float32, as the FMA instruction does
// (VFMADD231PS), on every CPU: the product of two float32 values is exact in
// float64, their sum with c is rounded to odd in float64 (53 ≥ 24 + 2 bits),
// and rounding that to float32 is then correctly rounded (Boldo & Melquiond,
// "Emulation of FMA and correctly rounded sums: proved algorithms using
// rounding to odd", IEEE TC 2008).
func FMA32(a, b, c float32) float32 {
	p := float64(float64(a) * float64(b)) // exact
	q := float64(c)
	s := p + q
	// TwoSum: the exact error of s.
	bb := s - p
	e := (p - (s - bb)) + (q - bb)
	if e != 0 {
		bits := math.Float64bits(s)
		if bits&1 == 0 { // round to odd: step towards the exact sum
			if (e > 0) == (s > 0) {
				bits++
			} else {
				bits--
			}
			s = math.Float64frombits(bits)
		}
	}
	return float32(s)
}
