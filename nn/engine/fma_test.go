package engine

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// fmaBig is a·b + c rounded once to float32 (nearest, ties to even) by
// big.Float: the exact sum at 600 bits (float32 products and sums need fewer),
// then the nearest float32, subnormals included.
func fmaBig(a, b, c float32) float32 {
	x := new(big.Float).SetPrec(600).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetPrec(600).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetPrec(600).SetFloat64(float64(c)))
	f, _ := x.Float32()
	if f == 0 { // the sign of an exact zero: +0 unless both terms are −0
		return float32(float64(a)*float64(b) + float64(c))
	}
	return f
}

// doubleRoundingCases are a·b + c whose float64 rounding lands exactly on a
// float32 midpoint that the exact sum is not: a = 2^e·(1+2⁻ʲ), b = 1−2⁻ʲ, so
// a·b = 2^e·(1 − 2⁻²ʲ) with 2j > 29 (below float64's precision at c), and
// c = 2^E·(1 + odd·2⁻²³) with e = E−24: c + 2^e is the midpoint between
// c and its even upper neighbour. Rounding twice ties to even and goes up;
// once, the exact sum is just below the midpoint and goes down.
func doubleRoundingCases(rng *rand.Rand) [][3]float32 {
	var cs [][3]float32
	for j := 15; j <= 23; j++ {
		for range 20 {
			E := rng.IntN(200) - 100
			odd := float64(2*rng.IntN(1<<21) + 1)
			sign := float64(1 - 2*rng.IntN(2))
			a := sign * math.Ldexp(1+math.Ldexp(1, -j), E-24)
			b := 1 - math.Ldexp(1, -j)
			c := sign * math.Ldexp(1+odd*0x1p-23, E)
			cs = append(cs, [3]float32{float32(a), float32(b), float32(c)})
		}
	}
	return cs
}

// TestFMA32DoubleRounding: on constructed cases where rounding to float64
// first gives the wrong float32, FMA32 and fma32Odd give big.Float's answer
// (and the naive float32(math.FMA) does not, so the cases do bite).
func TestFMA32DoubleRounding(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, v := range doubleRoundingCases(rng) {
		a, b, c := v[0], v[1], v[2]
		if float64(a) != float64(float32(a)) {
			t.Fatalf("case not in float32: %v", v)
		}
		want := fmaBig(a, b, c)
		if naive := float32(math.FMA(float64(a), float64(b), float64(c))); naive == want {
			t.Fatalf("a=%v b=%v c=%v: double rounding does not bite (%v)", a, b, c, want)
		}
		if got := FMA32(a, b, c); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("FMA32(%v, %v, %v) = %v, want %v", a, b, c, got, want)
		}
		if got := fma32Odd(a, b, c); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("fma32Odd(%v, %v, %v) = %v, want %v", a, b, c, got, want)
		}
	}
}

// TestFMA32Random: FMA32 and fma32Odd against big.Float on random operands
// over the whole exponent range (subnormal, overflowing and cancelling sums).
func TestFMA32Random(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	r := func(lo, hi int) float32 {
		m := 1 + rng.Float64()
		if rng.IntN(2) == 0 {
			m = -m
		}
		return float32(math.Ldexp(m, lo+rng.IntN(hi-lo)))
	}
	for i := range 200000 {
		var a, b, c float32
		switch i % 4 {
		case 0: // ordinary
			a, b, c = r(-10, 10), r(-10, 10), r(-20, 20)
		case 1: // tiny: subnormal results
			a, b, c = r(-80, -60), r(-80, -60), r(-149, -120)
		case 2: // huge: overflow
			a, b, c = r(60, 70), r(60, 70), r(120, 128)
		case 3: // cancellation: c ≈ −a·b
			a, b = r(-10, 10), r(-10, 10)
			c = -a * b
			c = math.Float32frombits(math.Float32bits(c) + uint32(rng.IntN(5)) - 2)
		}
		want := fmaBig(a, b, c)
		if got := FMA32(a, b, c); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("FMA32(%v, %v, %v) = %v, want %v", a, b, c, got, want)
		}
		if got := fma32Odd(a, b, c); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("fma32Odd(%v, %v, %v) = %v, want %v", a, b, c, got, want)
		}
	}
}

// TestFMA32Special: infinities, NaN and signed zeros as the instruction.
func TestFMA32Special(t *testing.T) {
	inf := float32(math.Inf(1))
	for _, v := range [][4]float32{
		{inf, 1, 0, inf}, {1, -inf, 5, -inf}, {2, 3, inf, inf},
		{0, -1, 0, 0}, {float32(math.Copysign(0, -1)), 1, float32(math.Copysign(0, -1)), float32(math.Copysign(0, -1))},
	} {
		for _, f := range []func(a, b, c float32) float32{FMA32, fma32Odd} {
			if got := f(v[0], v[1], v[2]); math.Float32bits(got) != math.Float32bits(v[3]) {
				t.Fatalf("fma(%v, %v, %v) = %v, want %v", v[0], v[1], v[2], got, v[3])
			}
		}
	}
	if got := FMA32(inf, 0, 1); !math.IsNaN(float64(got)) {
		t.Fatalf("FMA32(inf, 0, 1) = %v, want NaN", got)
	}
}

// TestKernelHardwareFMA: the assembly kernels (the CPU's VFMADD231PS) give
// big.Float's single rounding on the double-rounding cases: k = 1 with acc,
// each case one element of C.
func TestKernelHardwareFMA(t *testing.T) {
	if len(asmKernels()) == 0 {
		t.Skip("no assembly kernels on this machine")
	}
	cs := doubleRoundingCases(rand.New(rand.NewPCG(17, 18)))
	n := len(cs)
	a, b, c, want := make([]float32, n), make([]float32, n), make([]float32, n*n), make([]float32, n)
	for i, v := range cs {
		a[i], b[i], c[i*n+i], want[i] = v[0], v[1], v[2], fmaBig(v[0], v[1], v[2])
	}
	for _, k := range asmKernels() {
		g := newGemm(nil, k)
		got := append([]float32(nil), c...)
		// C (n×n) += a (n×1) · b (1×n): the diagonal holds the cases.
		g.Sgemm(false, false, n, n, 1, a, 1, b, n, true, got, n)
		for i := range n {
			if math.Float32bits(got[i*n+i]) != math.Float32bits(want[i]) {
				t.Fatalf("%v: fma(%v, %v, %v) = %v, want %v", k, a[i], b[i], c[i*n+i], got[i*n+i], want[i])
			}
		}
	}
}

// BenchmarkFMA32 is the Go twin's inner operation.
func BenchmarkFMA32(b *testing.B) {
	x, y, s := float32(1.0001), float32(0.9999), float32(0)
	for b.Loop() {
		s = FMA32(x, y, s)
	}
	_ = s
}
