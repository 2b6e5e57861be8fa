package problems

import "math"

// Softplus returns log(1 + e^z), computed as max(z, 0) + log1p(e^{-|z|}) so that
// it neither overflows for large positive z nor loses the tiny value e^z for
// large negative z. It is finite for every finite z.
func Softplus(z float64) float64 {
	return math.Max(z, 0) + math.Log1p(expNonPos(-math.Abs(z)))
}

// Sigmoid returns the logistic function σ(z) = 1/(1 + e^{-z}), evaluated through
// e^{-|z|} ≤ 1 so that no intermediate overflows: σ(z) = 1/(1+e^{-|z|}) for
// z ≥ 0 and e^{-|z|}/(1+e^{-|z|}) for z < 0.
func Sigmoid(z float64) float64 {
	e := expNonPos(-math.Abs(z))
	num := e
	if z >= 0 {
		num = 1
	}
	return num / (1 + e)
}

// log1pTab[j] = log(1 + j/128) and log1pInv[j] = 1/(1 + j/128), j = 0…128:
// the table of log1pUnit (256 long so that an index masked to 8 bits needs no
// bounds check; the entries past 128 are never used).
var log1pTab, log1pInv [256]float64

func init() {
	for j := range 129 {
		f := 1 + float64(j)/128
		log1pTab[j] = math.Log1p(float64(j) / 128)
		log1pInv[j] = 1 / f
	}
}

// log1pUnit returns log(1 + x) for x ∈ [0, 1] within 2 ulp, without a
// division or a data-dependent branch (math.Log1p outside [0, 1] and for
// NaN). It is the softplus of the loss value, where x = e^{−|t|}:
// 1 + x = u + c exactly (u rounded, c its error, by Fast2Sum), u lies in
// [F_j, F_j + 1/128) with F_j = 1 + j/128, and
// log(1+x) = log F_j + log1p(r), r = (u − F_j + c)/F_j ∈ [0, 1/128), where
// log1p(r) is its Taylor polynomial to r⁸ (truncation below r⁹/9 < 2⁻⁶⁶).
// For j = 0, r = x exactly, so tiny x keep their full relative accuracy.
func log1pUnit(x float64) float64 {
	if !(x >= 0 && x <= 1) {
		return math.Log1p(x)
	}
	u := 1 + x
	c := x - (u - 1) // exact: |x| ≤ 1
	j := int((u - 1) * 128)
	if uint(j) > 128 {
		return math.Log1p(x) // unreachable: u − 1 ∈ [0, 1]
	}
	fj := 1 + float64(j)*(1.0/128)
	r := ((u - fj) + c) * log1pInv[j] // u − F_j is exact (Sterbenz)
	q := -1.0/2 + r*(1.0/3+r*(-1.0/4+r*(1.0/5+r*(-1.0/6+r*(1.0/7+r*(-1.0/8))))))
	return log1pTab[j] + (r + r*r*q)
}

// softplusLanes is the number of partial sums of softplusSum.
const softplusLanes = 8

// softplusSum returns Σ_j softplus(t_j) = Σ_j (max(t_j, 0) + log(1 + e_j)),
// where e_j = e^{−|t_j|}, in one fixed order: the terms of the full blocks
// of 16 (j < 16·⌊m/16⌋) go to eight partial sums, term j to sum j mod 8 in
// increasing j; the total is ((s0+s1)+(s2+s3)) + ((s4+s5)+(s6+s7)), and the
// last m mod 16 terms are added to it in index order. (One running sum
// would chain m additions, each waiting for the one before: as costly as
// the terms themselves.) The full blocks run in softplusBlocksAVX2 where it
// runs, up to a block with an e outside [0, 1], which softplusTerms takes
// in Go; every way gives the same bits. A NaN margin gives NaN.
func softplusSum(t, e []float64) float64 {
	e = e[:len(t)]
	var acc [softplusLanes]float64
	var terms [16]float64
	nb := len(t) / len(terms)
	full := nb * len(terms)
	for b := 0; b < nb; {
		b += softplusBlocksAsm(t[b*16:full], e[b*16:full], &acc)
		if b == nb {
			break
		}
		softplusTerms(t[b*16:b*16+16], e[b*16:b*16+16], &terms)
		for j, v := range terms {
			acc[j%softplusLanes] += v
		}
		b++
	}
	s := ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
	tail := t[full:]
	softplusTerms(tail, e[full:], &terms)
	for _, v := range terms[:len(tail)] {
		s += v
	}
	return s
}

// softplusTerms writes into terms the loss terms max(t_j, 0) + log(1 + e_j)
// of up to 16 margins, with log1pUnit's arithmetic written out in the loop
// (a call per term would cost as much as the term) and math.Log1p for an e
// outside [0, 1] or NaN.
func softplusTerms(tb, eb []float64, terms *[16]float64) {
	eb = eb[:len(tb)]
	bad := false
	for b, tj := range tb {
		// max(t_j, 0) without a branch: clear every bit when the sign
		// bit is set, so t ≤ 0 (−0 and −Inf included) gives +0.
		bits := math.Float64bits(tj)
		pos := math.Float64frombits(bits &^ uint64(int64(bits)>>63))
		x := eb[b]
		if !(x >= 0 && x <= 1) { // NaN or out of range: math.Log1p below
			bad, x = true, 0
		}
		u := 1 + x
		c := x - (u - 1)
		k := int((u-1)*128) & 255 // in [0, 128]: u − 1 ∈ [0, 1]
		fj := 1 + float64(k)*(1.0/128)
		r := ((u - fj) + c) * log1pInv[k]
		q := -1.0/2 + r*(1.0/3+r*(-1.0/4+r*(1.0/5+r*(-1.0/6+r*(1.0/7+r*(-1.0/8))))))
		terms[b] = pos + (log1pTab[k] + (r + r*r*q))
	}
	if bad {
		for b, x := range eb {
			if !(x >= 0 && x <= 1) {
				bits := math.Float64bits(tb[b])
				terms[b] = math.Float64frombits(bits&^uint64(int64(bits)>>63)) + math.Log1p(x)
			}
		}
	}
}
