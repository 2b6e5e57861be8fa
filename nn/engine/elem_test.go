package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// special are the values whose comparisons and sums the kernels must treat
// as the scalar code does.
var special = []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32}

func elemData(n int, r *rand.Rand) []float32 {
	v := make([]float32, n)
	for i := range v {
		if r.IntN(4) == 0 {
			v[i] = special[r.IntN(len(special))]
		} else {
			v[i] = float32(r.NormFloat64())
		}
	}
	return v
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d of %d is %v (%#x), want %v (%#x)", what, i, len(want), got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// TestReluBackGo checks the branch-free twin against the definition, written
// with a branch.
func TestReluBackGo(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	y, dy := elemData(1000, r), elemData(1000, r)
	y = append(y, special...)
	dy = append(dy, elemData(len(special), r)...)
	want := make([]float32, len(y))
	for i, v := range y {
		if v > 0 {
			want[i] = dy[i]
		}
	}
	got := make([]float32, len(y))
	ReluBackGo(y, dy, got)
	sameBits(t, "ReluBackGo", got, want)
}

// TestElemKernels checks the vector kernels against their Go twins, bit for
// bit, on every length up to 70 (blocks of eight and tails) and special
// values.
func TestElemKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 70; n++ {
		a, b, c := elemData(n, r), elemData(n, r), elemData(n, r)
		want, got := append([]float32(nil), a...), append([]float32(nil), a...)
		AddToGo(want, b)
		AddTo(got, b)
		sameBits(t, "AddTo", got, want)

		want, got = make([]float32, n), make([]float32, n)
		ReluBackGo(a, c, want)
		ReluBack(a, c, got)
		sameBits(t, "ReluBack", got, want)
	}
}
