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
func expNonPosSlice(v []float64) {
	const (
		ln2Hi = 6.93147180369123816490e-01
		ln2Lo = 1.90821492927058770002e-10
		log2e = 1.44269504088896338700e+00
		// Below normalMin, 2^k may be subnormal: math.Ldexp scales then.
		normalMin = -708.0
		underflow = -7.45133219101941108420e+02

		p1 = 1.66666666666666657415e-01
		p2 = -2.77777777770155933842e-03
		p3 = 6.61375632143793436117e-05
		p4 = -1.65339022054652515390e-06
		p5 = 4.13813679705723846039e-08
	)
	for i, x := range v {
		if !(x >= underflow) { // also NaN
			if x == x {
				v[i] = 0
			}
			continue
		}
		k := int(log2e*x - 0.5) // round to nearest: x ≤ 0 and int() truncates toward 0
		fk := float64(k)
		hi := x - fk*ln2Hi
		lo := fk * ln2Lo
		r := hi - lo
		t := r * r
		c := r - t*(p1+t*(p2+t*(p3+t*(p4+t*p5))))
		y := 1 - ((lo - (r*c)/(2-c)) - hi)
		if x < normalMin {
			v[i] = math.Ldexp(y, k)
			continue
		}
		v[i] = y * math.Float64frombits(uint64(k+1023)<<52)
	}
}
