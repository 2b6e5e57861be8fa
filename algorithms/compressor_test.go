package algorithms

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/efmpi/efmpi/sparse"
)

// naiveTopK is the O(d log d) definition: sort indices by (|v| descending,
// index ascending), keep the first k, return them in index order.
func naiveTopK(v []float64, k int) []int32 {
	idx := make([]int32, len(v))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(a, b int32) int {
		ma, mb := math.Abs(v[a]), math.Abs(v[b])
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
	var out sparse.Vector
	NewTopK(k).Compress(&out, v)
	if !slices.Equal(out.Idx, naiveTopK(v, k)) {
		t.Fatal("top-k on d=200000 differs from the naive sort")
	}
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
