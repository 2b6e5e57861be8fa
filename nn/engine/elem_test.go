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
		if got[i] != got[i] && want[i] != want[i] {
			continue // both NaN (the payload is not part of the contract)
		}
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

		for _, relu := range []bool{false, true} {
			wh, gh, wy, gy := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			mean, inv, g, bb := float32(r.NormFloat64()), float32(1+r.Float64()), float32(r.NormFloat64()), float32(r.NormFloat64())
			NormalizeGo(a, wh, wy, mean, inv, g, bb, relu)
			Normalize(a, gh, gy, mean, inv, g, bb, relu)
			sameBits(t, "Normalize x̂", gh, wh)
			sameBits(t, "Normalize y", gy, wy)
		}
		want, got = make([]float32, n), make([]float32, n)
		AddReluGo(a, b, want)
		AddRelu(a, b, got)
		sameBits(t, "AddRelu", got, want)
		AddReluGo(a, nil, want)
		AddRelu(a, nil, got)
		sameBits(t, "AddRelu, b nil", got, want)

		k, mdy, mdyx := float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64())
		want, got = make([]float32, n), make([]float32, n)
		NormalizeBackGo(b, c, want, k, mdy, mdyx)
		NormalizeBack(b, c, got, k, mdy, mdyx)
		sameBits(t, "NormalizeBack", got, want)
	}
}

// TestNormalizeGo checks the Go twins against float64 arithmetic rounded
// after each operation (exact for one float32 operation), and the ReLU's
// signed zero: max(−0, 0) is +0.
func TestNormalizeGo(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := elemData(500, r)
	mean, inv, g, b := float32(0.3), float32(1.7), float32(-0.6), float32(0.2)
	xh, y := make([]float32, len(x)), make([]float32, len(x))
	for _, relu := range []bool{false, true} {
		NormalizeGo(x, xh, y, mean, inv, g, b, relu)
		for i, v := range x {
			h := float32(float64(float32(float64(v)-float64(mean))) * float64(inv))
			w := float32(float64(float32(float64(g)*float64(h))) + float64(b))
			if relu {
				w = max(w, 0)
			}
			sameBits(t, "NormalizeGo x̂", xh[i:i+1], []float32{h})
			sameBits(t, "NormalizeGo y", y[i:i+1], []float32{w})
		}
	}
	z, zh, zy := []float32{float32(math.Copysign(0, -1))}, make([]float32, 1), make([]float32, 1)
	NormalizeGo(z, zh, zy, 0, 1, 1, 0, true)
	if math.Float32bits(zy[0]) != 0 {
		t.Fatalf("ReLU of −0 has bits %#x, want +0", math.Float32bits(zy[0]))
	}
	dy, dx := elemData(500, r), make([]float32, 500)
	k, mdy, mdyx := float32(1.3), float32(0.1), float32(-0.4)
	NormalizeBackGo(dy, x, dx, k, mdy, mdyx)
	for i, d := range dy {
		a := float32(float64(d) - float64(mdy))
		p := float32(float64(x[i]) * float64(mdyx))
		w := float32(float64(k) * float64(float32(float64(a)-float64(p))))
		sameBits(t, "NormalizeBackGo", dx[i:i+1], []float32{w})
	}
}

// AddReluGo is max(a + b, 0) with +0 for a sum of −0 and NaN kept.
func TestAddReluGo(t *testing.T) {
	nz := float32(math.Copysign(0, -1))
	a := []float32{nz, nz, 1, -3, float32(math.NaN()), 2}
	b := []float32{nz, 0, 2, 1, 0, float32(math.NaN())}
	y := make([]float32, len(a))
	AddReluGo(a, b, y)
	for i, w := range []float32{0, 0, 3, 0} {
		if math.Float32bits(y[i]) != math.Float32bits(w) {
			t.Fatalf("AddReluGo[%d] = %v (%#x), want %v", i, y[i], math.Float32bits(y[i]), w)
		}
	}
	if y[4] == y[4] || y[5] == y[5] {
		t.Fatalf("AddReluGo lost a NaN: %v", y)
	}
	AddReluGo(a[:1], nil, y)
	if math.Float32bits(y[0]) != 0 {
		t.Fatalf("ReLU of −0 has bits %#x, want +0", math.Float32bits(y[0]))
	}
}
