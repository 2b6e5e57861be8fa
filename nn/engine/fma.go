package engine

import "math"

// FMA32 returns a·b + c rounded once to float32, as the FMA instruction does
// (VFMADD231PS), on every CPU.
//
// The product of two float32 values is exact in float64, so math.FMA rounds
// the exact a·b + c once to float64, and rounding that to float32 is correct
// unless the float64 result is a float32 midpoint (then the first rounding
// may have made the tie) or lies below float32's normal range (where a
// midpoint is elsewhere): those rare cases take fma32Odd.
func FMA32(a, b, c float32) float32 {
	s := math.FMA(float64(a), float64(b), float64(c))
	bits := math.Float64bits(s)
	// 1023−126: the biased float64 exponent of float32's smallest normal.
	// A float32 midpoint has the 29 low mantissa bits 1000…0.
	if (bits>>52)&0x7ff >= 1023-126 && bits&(1<<29-1) != 1<<28 {
		return float32(s)
	}
	return fma32Odd(a, b, c)
}

// fma32Odd is FMA32 by rounding to odd: the product of two float32 values
// is exact in float64, its sum with c is rounded to odd in float64 (53 ≥
// 24 + 2 bits), and rounding that to float32 is then correctly rounded
// (Boldo & Melquiond, "Emulation of FMA and correctly rounded sums: proved
// algorithms using rounding to odd", IEEE TC 2008).
func fma32Odd(a, b, c float32) float32 {
	p := float64(float64(a) * float64(b)) // exact
	q := float64(c)
	s := p + q
	// TwoSum: the exact error of s.
	bb := s - p
	e := (p - (s - bb)) + (q - bb)
	if e != 0 && e == e { // (e is NaN when s is infinite or NaN)
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
