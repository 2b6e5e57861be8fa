package problems

import "math"

// expNonPos returns e^x for x ≤ 0 (and NaN for NaN), with error below 1 ulp;
// see expNonPosSlice.
func expNonPos(x float64) float64 {
	v := [1]float64{x}
	expNonPosSlice(v[:])
	return v[0]
}

// expNonPosSlice replaces each v[i] ≤ 0 by e^{v[i]} (NaN stays NaN). It is the
// algorithm of the Go standard library's portable math.Exp (FreeBSD's e_exp.c:
// reduction x = k·ln2 + r with |r| ≤ ln2/2, then a rational approximation of
// e^r; error below 1 ulp), specialised to x ≤ 0 so that the scaling by 2^k is
// one multiplication outside the subnormal range. Working on a slice keeps the
// loop free of calls, so the exponentials of a row block — independent of one
// another — overlap in the pipeline; the amd64 assembly math.Exp is one call
// per value with a long serial dependency chain, about twice as slow here.
// The float64 conversions around products forbid the compiler to fuse a
// product and a sum into one FMA rounding (which it may do on arm64, or with
// GOAMD64=v3): the operations stay those of lossCoefs16AVX2, bit for bit.
func expNonPosSlice(v []float64) {
	for i, x := range v {
		if !(x >= expUnderflow) { // also NaN
			if x == x {
				v[i] = 0
			}
			continue
		}
		k := int(float64(expLog2e*x) - 0.5) // round to nearest: x ≤ 0 and int() truncates toward 0
		fk := float64(k)
		hi := x - float64(fk*expLn2Hi)
		lo := fk * expLn2Lo
		r := hi - lo
		t := r * r
		c := r - float64(t*(expP1+float64(t*(expP2+float64(t*(expP3+float64(t*(expP4+float64(t*expP5)))))))))
		y := 1 - ((lo - float64(r*c)/(2-c)) - hi)
		if x < expNormalMin {
			v[i] = math.Ldexp(y, k)
			continue
		}
		v[i] = y * math.Float64frombits(uint64(k+1023)<<52)
	}
}

// The constants of expNonPosSlice (and of its AVX2 twin, lossCoefs16AVX2).
const (
	expLn2Hi = 6.93147180369123816490e-01
	expLn2Lo = 1.90821492927058770002e-10
	expLog2e = 1.44269504088896338700e+00
	// Below expNormalMin, 2^k may be subnormal: math.Ldexp scales then.
	expNormalMin = -708.0
	expUnderflow = -7.45133219101941108420e+02

	expP1 = 1.66666666666666657415e-01
	expP2 = -2.77777777770155933842e-03
	expP3 = 6.61375632143793436117e-05
	expP4 = -1.65339022054652515390e-06
	expP5 = 4.13813679705723846039e-08
)
