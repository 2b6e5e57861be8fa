package algorithms

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/efmpi/efmpi/sparse"
)

// naiveTopK is the O(d log d) definition: sort indices by (|v| descending,
// index ascending; NaN counted as +Inf), keep the first k, return them in
// index order.
func naiveTopK(v []float64, k int) []int32 {
	idx := make([]int32, len(v))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(a, b int32) int {
		ma, mb := naiveMag(v[a]), naiveMag(v[b])
		switch {
		case ma > mb:
			return -1
		case ma < mb:
			return 1
		}
		return int(a - b)
	})
	keep := slices.Clone(idx[:k])
	slices.Sort(keep)
	return keep
}

func naiveMag(x float64) float64 {
	if math.IsNaN(x) {
		return math.Inf(1)
	}
	return math.Abs(x)
}

func TestTopKMatchesNaiveSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var out sparse.Vector
	for trial := 0; trial < 3000; trial++ {
		d := 1 + r.IntN(60)
		k := 1 + r.IntN(d)
		v := make([]float64, d)
		for i := range v {
			switch trial % 3 {
			case 0: // continuous values
				v[i] = r.NormFloat64()
			case 1: // many ties, signs mixed
				v[i] = float64(r.IntN(4) - 2)
			default: // many zeros
				if r.IntN(3) == 0 {
					v[i] = r.NormFloat64()
				}
			}
		}
		c := NewTopK(k)
		c.Compress(&out, v)
		want := naiveTopK(v, k)
		if !slices.Equal(out.Idx, want) {
			t.Fatalf("trial %d d=%d k=%d v=%v: top-k indices %v, naive sort %v", trial, d, k, v, out.Idx, want)
		}
		for j, i := range out.Idx {
			if out.Val[j] != v[i] {
				t.Fatalf("value at %d: %v, want %v", i, out.Val[j], v[i])
			}
		}
	}
}

func TestTopKTiesGoToSmallerIndex(t *testing.T) {
	var out sparse.Vector
	NewTopK(2).Compress(&out, []float64{1, -3, 3, 2, -3})
	if !slices.Equal(out.Idx, []int32{1, 2}) || !slices.Equal(out.Val, []float64{-3, 3}) {
		t.Fatalf("got %v %v, want indices [1 2] values [-3 3]", out.Idx, out.Val)
	}
}

func TestTopKLargeAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	d, k := 200000, 2000
	v := make([]float64, d)
	for i := range v {
		v[i] = float64(r.IntN(1000)) * r.NormFloat64()
	}
	want := naiveTopK(v, k)
	eachKernel(func(kernel string) {
		var out sparse.Vector
		NewTopK(k).Compress(&out, v)
		if !slices.Equal(out.Idx, want) {
			t.Fatalf("%s: top-k on d=200000 differs from the naive sort", kernel)
		}
	})
}

func sqDist(msg *sparse.Vector, v []float64) float64 {
	c := make([]float64, len(v))
	msg.ToDense(c)
	s := 0.0
	for i := range v {
		s += (c[i] - v[i]) * (c[i] - v[i])
	}
	return s
}

func sqNorm(v []float64) float64 { return Norm(v) * Norm(v) }

func TestContraction(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, d := range []int{1, 2, 7, 50, 300} {
		for _, k := range []int{1, (d + 1) / 2, d} {
			for _, name := range []string{"top-k", "sign", "identity"} {
				c, err := NewCompressor(name, k, d, nil)
				if err != nil {
					t.Fatal(err)
				}
				var out sparse.Vector
				for trial := 0; trial < 200; trial++ {
					v := make([]float64, d)
					for i := range v {
						v[i] = r.NormFloat64() * math.Exp(2*r.NormFloat64())
					}
					c.Compress(&out, v)
					lhs, rhs := sqDist(&out, v), (1-c.Alpha(d))*sqNorm(v)
					if lhs > rhs*(1+1e-12)+1e-300 {
						t.Fatalf("%s d=%d k=%d: ‖C(v)−v‖² = %g > (1−α)‖v‖² = %g", name, d, k, lhs, rhs)
					}
				}
			}
		}
	}
}

// rand-k satisfies the contraction in expectation with equality:
// E‖C(v)−v‖² = (1−k/d)‖v‖². Check the mean over many draws.
func TestRandKContractionInExpectation(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	d, k := 40, 6
	v := make([]float64, d)
	for i := range v {
		v[i] = r.NormFloat64()
	}
	c, err := NewCompressor("rand-k", k, d, rand.New(rand.NewPCG(9, 10)))
	if err != nil {
		t.Fatal(err)
	}
	var out sparse.Vector
	const draws = 40000
	sum := 0.0
	counts := make([]int, d)
	for range draws {
		c.Compress(&out, v)
		if out.Len() != k || out.Validate() != nil {
			t.Fatalf("rand-k message %v is not k=%d increasing indices", out.Idx, k)
		}
		for _, i := range out.Idx {
			counts[i]++
		}
		sum += sqDist(&out, v)
	}
	mean, want := sum/draws, (1-c.Alpha(d))*sqNorm(v)
	if math.Abs(mean-want) > 0.01*want {
		t.Fatalf("mean ‖C(v)−v‖² = %g, want (1−k/d)‖v‖² = %g", mean, want)
	}
	// every coordinate is kept with probability k/d (binomial, 5 sd)
	p := float64(k) / float64(d)
	sd := math.Sqrt(draws * p * (1 - p))
	for i, n := range counts {
		if math.Abs(float64(n)-draws*p) > 5*sd {
			t.Fatalf("coordinate %d kept %d times, expected %.0f ± %.0f", i, n, draws*p, sd)
		}
	}
}

func TestSignHandWorked(t *testing.T) {
	var out sparse.Vector
	Sign{}.Compress(&out, []float64{3, 0, -1, 2})
	// ‖v‖₁/d = 6/4 = 1.5
	if !slices.Equal(out.Idx, []int32{0, 2, 3}) || !slices.Equal(out.Val, []float64{1.5, -1.5, 1.5}) {
		t.Fatalf("sign: got %v %v", out.Idx, out.Val)
	}
	if b := (Sign{}).Bits(&out); b != 32+4 {
		t.Fatalf("sign bits = %d, want 36", b)
	}
}

func TestCompressorErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		k, d int
	}{{"top-k", 0, 5}, {"top-k", 6, 5}, {"rand-k", 0, 5}, {"nope", 1, 5}} {
		if _, err := NewCompressor(tc.name, tc.k, tc.d, rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Errorf("NewCompressor(%q, k=%d, d=%d): no error", tc.name, tc.k, tc.d)
		}
	}
}

func TestSelectDescendingAdversarial(t *testing.T) {
	// sorted, reversed, constant and organ-pipe inputs: the result must be the
	// k-th largest of a naive sort.
	d := 5000
	inputs := map[string]func(i int) float64{
		"ascending":  func(i int) float64 { return float64(i) },
		"descending": func(i int) float64 { return float64(d - i) },
		"constant":   func(int) float64 { return 1 },
		"organ":      func(i int) float64 { return float64(min(i, d-i)) },
	}
	for name, f := range inputs {
		for _, k := range []int{0, 1, d / 2, d - 1} {
			a := make([]float64, d)
			for i := range a {
				a[i] = f(i)
			}
			s := slices.Clone(a)
			slices.Sort(s)
			slices.Reverse(s)
			if got := selectDescending(a, k); got != s[k] {
				t.Fatalf("%s k=%d: got %v want %v", name, k, got, s[k])
			}
		}
	}
}

// checkTopK compares c's output on v with the naive sort, indices and values.
func checkTopK(t *testing.T, name string, v []float64, k int) {
	t.Helper()
	var out sparse.Vector
	NewTopK(k).Compress(&out, v)
	want := naiveTopK(v, k)
	if !slices.Equal(out.Idx, want) {
		n := 0
		for n < min(len(want), len(out.Idx)) && out.Idx[n] == want[n] {
			n++
		}
		t.Fatalf("%s d=%d k=%d: %d indices, first difference at position %d (got %v, naive sort %v)",
			name, len(v), k, len(out.Idx), n, out.Idx[n:min(n+3, len(out.Idx))], want[n:min(n+3, len(want))])
	}
	for j, i := range out.Idx {
		if math.Float64bits(out.Val[j]) != math.Float64bits(v[i]) {
			t.Fatalf("%s: value at %d: %v, want %v", name, i, out.Val[j], v[i])
		}
	}
}

// TestTopKSampledPath exercises the sampled-threshold path (d ≥
// topkSampleMin) against the naive sort: continuous data, heavy ties, mostly
// zeros, signed zeros, NaN and ±Inf, and inputs built so that the sample
// misleads the threshold both ways (too high: the fallback to every entry;
// too low: many candidates).
func TestTopKSampledPath(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	d := 3*topkSampleMin + 17
	stride := d / topkSample
	isSample := func(i int) bool { return i%stride == stride/2 && i/stride < topkSample }
	inputs := map[string]func(i int) float64{
		"normal":  func(int) float64 { return r.NormFloat64() },
		"ties":    func(int) float64 { return float64(r.IntN(40) - 20) },
		"zeros":   func(int) float64 { return 0 },
		"signed0": func(i int) float64 { return math.Copysign(0, float64(i%2)-0.5) },
		"sparse": func(int) float64 {
			if r.IntN(50) == 0 {
				return float64(r.IntN(3) + 1)
			}
			return 0
		},
		"nonfinite": func(i int) float64 {
			switch r.IntN(500) {
			case 0:
				return math.NaN()
			case 1:
				return math.Inf(1)
			case 2:
				return math.Inf(-1)
			}
			return r.NormFloat64()
		},
		// the sample sees only huge values: its threshold is above almost
		// every entry, so fewer than k are collected and all are used.
		"sample-high": func(i int) float64 {
			if isSample(i) {
				return 1e6 + float64(r.IntN(3))
			}
			return r.NormFloat64()
		},
		// the sample sees only tiny values: nearly every entry is a candidate.
		"sample-low": func(i int) float64 {
			if isSample(i) {
				return 1e-9
			}
			return float64(r.IntN(7)) - 3
		},
	}
	for _, name := range slices.Sorted(maps.Keys(inputs)) {
		v := make([]float64, d)
		for i := range v {
			v[i] = inputs[name](i)
		}
		eachKernel(func(kernel string) {
			for _, k := range []int{1, 2, 7, 100, d / 100, d / 3, d - 1, d} {
				checkTopK(t, name+" "+kernel, v, k)
			}
		})
	}
}

// eachKernel runs f with the AVX2 scans (where the machine has them) and
// with their Go twins, naming the kernel.
func eachKernel(f func(kernel string)) {
	old := useAsm
	defer func() { useAsm = old }()
	if old {
		f("avx2")
	}
	useAsm = false
	f("go")
}

// TestArgmaxMagnitude checks the k = 1 scan on the cases the bit comparison
// could get wrong: NaN after +Inf (a tie, the smaller index wins), NaNs with
// different payloads, signed zeros, denormals.
func TestArgmaxMagnitude(t *testing.T) {
	nan2 := math.Float64frombits(0x7FF8000000000001)
	negNaN := math.Float64frombits(0xFFF8000000000000)
	for _, v := range [][]float64{
		{0}, {-0.0, 0}, {0, -0.0, 5e-324}, {1, -1}, {-1, 1, 2, -2},
		{1, math.Inf(-1), math.NaN(), math.Inf(1)},
		{1, math.NaN(), math.Inf(1)},
		{1, nan2, math.NaN()}, {negNaN, nan2}, {2, math.MaxFloat64, -math.MaxFloat64},
	} {
		checkTopK(t, fmt.Sprint(v), v, 1)
	}
}

// naiveArgmax is the smallest index of an entry of largest magnitude, NaN
// counted as +Inf.
func naiveArgmax(v []float64) int {
	bi := 0
	for i, x := range v {
		if naiveMag(x) > naiveMag(v[bi]) {
			bi = i
		}
	}
	return bi
}

// TestArgmaxMagnitudeScan checks top-1's scan against a naive argmax, with
// the AVX2 block test and with the Go loop, on lengths around multiples of
// 16, with the largest magnitude early, late, tied across blocks and signs,
// as NaN, ±Inf, −0 and subnormals; and nextBlockAbove's two versions
// against each other at thresholds equal to an entry's bits (not above it).
func TestArgmaxMagnitudeScan(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 5e-324, -5e-324, math.MaxFloat64, -math.MaxFloat64}
	for _, asm := range []bool{true, false} {
		if asm && !useAsm {
			continue
		}
		old := useAsm
		useAsm = asm
		for trial := range 4000 {
			d := 1 + r.IntN(200)
			if trial%10 == 0 {
				d = 16 * (1 + r.IntN(300))
			}
			v := make([]float64, d)
			for i := range v {
				switch trial % 4 {
				case 0:
					v[i] = r.NormFloat64()
				case 1: // ties across blocks and signs
					v[i] = float64(r.IntN(7) - 3)
				case 2: // growing: the best moves in most blocks
					v[i] = float64(i) * (1 + 0.1*r.Float64())
				default: // zeros, −0, subnormals
					v[i] = []float64{0, math.Copysign(0, -1), 5e-324, -1e-310}[r.IntN(4)]
				}
			}
			if trial%3 == 0 {
				for range 1 + r.IntN(3) {
					v[r.IntN(d)] = specials[r.IntN(len(specials))]
				}
			}
			if got, want := argmaxMagnitude(v), naiveArgmax(v); got != want {
				t.Fatalf("asm=%v trial %d d=%d: argmax %d (%v), naive %d (%v)", asm, trial, d, got, v[got], want, v[want])
			}
		}
		useAsm = old
	}
	if !useAsm {
		t.Skip("no AVX2 here: the Go block test alone was checked")
	}
	for trial := range 2000 {
		v := make([]float64, 16*(1+r.IntN(20)))
		for i := range v {
			v[i] = r.NormFloat64() * math.Exp(3*r.NormFloat64())
		}
		if trial%4 == 0 {
			v[r.IntN(len(v))] = specials[r.IntN(len(specials))]
		}
		best := math.Float64bits(v[r.IntN(len(v))]) &^ (1 << 63)
		i0 := 16 * r.IntN(len(v)/16)
		got := nextBlockAbove(v, i0, best)
		useAsm = false
		want := nextBlockAbove(v, i0, best)
		useAsm = true
		if got != want {
			t.Fatalf("trial %d: from %d above %#x: AVX2 block %d, Go %d", trial, i0, best, got, want)
		}
	}
}
