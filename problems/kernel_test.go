package problems

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/efmpi/efmpi/datasets"
)

// withGo runs f with the assembly kernels switched off (the pure-Go twins).
func withGo(f func()) {
	old := useAsm
	useAsm = false
	defer func() { useAsm = old }()
	f()
}

// requireAsm skips when the machine has no assembly kernels to compare.
func requireAsm(t *testing.T) {
	t.Helper()
	if !useAsm {
		t.Skip("no AVX2 here: only the Go kernels run, nothing to compare")
	}
}

func requireBits(t *testing.T, what string, got, want []float64) {
	t.Helper()
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("%s: element %d: assembly %v (%#x), Go %v (%#x)", what, i,
				got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
		}
	}
}

// TestLossCoefsAsmBits checks lossCoefs16AVX2 against the Go code bit for
// bit (coefficients, t and e) on blocks of margins from 10⁻³ to 10³ in scale, signed zeros, ties of
// the rounding in the reduction (x·log2e − 0.5 near integers), the
// boundary ±708 of its range, and blocks outside it (|t| > 708, ±Inf, NaN),
// where it must decline and the Go code run.
func TestLossCoefsAsmBits(t *testing.T) {
	requireAsm(t)
	r := rand.New(rand.NewPCG(3, 4))
	labels := []float64{1, -1}
	var rows [rowBlock]int
	for i := range rows {
		rows[i] = r.IntN(2)
	}
	blocks := [][rowBlock]float64{}
	for _, sigma := range []float64{1e-3, 0.1, 1, 10, 100, 300} {
		for range 500 {
			var z [rowBlock]float64
			for i := range z {
				z[i] = sigma * r.NormFloat64()
			}
			blocks = append(blocks, z)
		}
	}
	var special [rowBlock]float64
	copy(special[:], []float64{0, math.Copysign(0, -1), 708, -708, 707.9999999, -707.9999999,
		math.Ln2 / 2, -math.Ln2 / 2, 0.5 / math.Log2E, 1.5 / math.Log2E, -1.5 / math.Log2E, 1e-300, -1e-300, 5e-324, 36, -36})
	blocks = append(blocks, special)
	for range 200 { // near the rounding ties of k
		var z [rowBlock]float64
		for i := range z {
			k := float64(r.IntN(1000))
			z[i] = (k + 0.5) / math.Log2E * (1 + 1e-15*r.NormFloat64())
		}
		blocks = append(blocks, z)
	}
	for _, bad := range []float64{708.0000001, -709, 745, -800, 1e300, math.Inf(1), math.Inf(-1), math.NaN()} {
		z := blocks[0]
		z[7] = bad
		blocks = append(blocks, z)
	}
	for _, z := range blocks {
		var ta, ea, tg, eg [rowBlock]float64
		za, zg := z, z
		lossCoefs(&za, ta[:], ea[:], &rows, labels, rowBlock, 1.0/3)
		withGo(func() { lossCoefs(&zg, tg[:], eg[:], &rows, labels, rowBlock, 1.0/3) })
		requireBits(t, "coefficients", za[:], zg[:])
		requireBits(t, "margins t", ta[:], tg[:])
		requireBits(t, "exponentials e", ea[:], eg[:])
	}
}

// kernelCases are datasets on which the assembly and Go gradients are
// compared: binary and valued CSR, real and hand-made, with rows of every
// length modulo 4, empty rows and a partial last block.
func kernelCases(t *testing.T) map[string]*datasets.Dataset {
	return map[string]*datasets.Dataset{
		"a1a": loadLIBSVM(t, "a1a"), "a9a": loadLIBSVM(t, "a9a"),
		"a1a-valued":    valued(loadLIBSVM(t, "a1a"), 0.37),
		"breast-cancer": loadLIBSVM(t, "breast-cancer_scale"),
		"mushrooms":     loadLIBSVM(t, "mushrooms"),
		"hand":          handCSR(),
		"ragged":        raggedCSR(77, 40, 5),
	}
}

// raggedCSR is an m×d 0/1 CSR matrix whose row r has r mod 19 entries
// (empty rows included) at random distinct columns, with random labels.
func raggedCSR(m, d int, seed uint64) *datasets.Dataset {
	r := rand.New(rand.NewPCG(seed, 1))
	s := &datasets.CSR{Rows: m, Cols: d, RowPtr: []int{0}}
	labels := make([]float64, m)
	for row := range m {
		for _, c := range r.Perm(d)[:row%19] {
			s.ColIdx = append(s.ColIdx, int32(c))
			s.Val = append(s.Val, 1)
		}
		s.RowPtr = append(s.RowPtr, len(s.ColIdx))
		labels[row] = float64(1 - 2*r.IntN(2))
	}
	return &datasets.Dataset{Sparse: s, Labels: labels, Source: "ragged"}
}

// TestGradAsmBits checks Grad, MinibatchGrad and the margins cache with the
// assembly kernels against the Go kernels bit for bit, at moderate points and
// at points with margins beyond ±708 (where some blocks fall back to Go).
func TestGradAsmBits(t *testing.T) {
	requireAsm(t)
	for name, ds := range kernelCases(t) {
		p, err := NewLogReg(ds, lambda)
		if err != nil {
			t.Fatal(err)
		}
		batch := make([]int32, 53)
		for i := range batch {
			batch[i] = int32((i * 7919) % p.Samples())
		}
		for _, sigma := range []float64{0.01, 1, 30, 1e3} {
			x := randVec(p.Dim(), sigma, 9)
			ga, gg := make([]float64, p.Dim()), make([]float64, p.Dim())
			p.Grad(ga, x)
			ta, ea := append([]float64(nil), p.t...), append([]float64(nil), p.e...)
			withGo(func() { p.Grad(gg, x) })
			requireBits(t, name+" Grad", ga, gg)
			requireBits(t, name+" cached margins", ta, p.t)
			requireBits(t, name+" cached exponentials", ea, p.e)
			p.MinibatchGrad(ga, x, batch)
			withGo(func() { p.MinibatchGrad(gg, x, batch) })
			requireBits(t, name+" MinibatchGrad", ga, gg)
		}
	}
}

// plainGrad is the logistic-regression gradient written plainly in float64
// with math.Exp, one row at a time: z = Σ_k v_k x_{c_k} left to right,
// σ = 1/(1 + e^{b z}), dst += −b σ a/m, then the regulariser's gradient.
func plainGrad(ds *datasets.Dataset, lambda float64, x []float64) []float64 {
	s := ds.Sparse
	g := make([]float64, len(x))
	m := float64(s.Rows)
	for r := range s.Rows {
		var z float64
		for k := s.RowPtr[r]; k < s.RowPtr[r+1]; k++ {
			z += s.Val[k] * x[s.ColIdx[k]]
		}
		b := ds.Labels[r]
		c := -b / (1 + math.Exp(b*z)) / m
		for k := s.RowPtr[r]; k < s.RowPtr[r+1]; k++ {
			g[s.ColIdx[k]] += c * s.Val[k]
		}
	}
	for i, xi := range x {
		q := 1 + xi*xi
		g[i] += 2 * lambda * xi / (q * q)
	}
	return g
}

// TestGradMatchesPlain checks the gradient (assembly where there is AVX2)
// against plainGrad to 1e-14 relative (in the max norm) on a9a and on data
// with general values, at small, moderate and huge margins (|aᵀx| up to
// ~10⁴, where e^{bz} overflows to +Inf in the plain code and σ is 0 or 1).
func TestGradMatchesPlain(t *testing.T) {
	for name, ds := range map[string]*datasets.Dataset{
		"a9a": loadLIBSVM(t, "a9a"), "a1a-valued": valued(loadLIBSVM(t, "a1a"), -1.7),
		"breast-cancer": loadLIBSVM(t, "breast-cancer_scale"), "hand": handCSR(),
	} {
		p, err := NewLogReg(ds, lambda)
		if err != nil {
			t.Fatal(err)
		}
		for _, sigma := range []float64{0.01, 0.3, 3, 1e3} {
			x := randVec(p.Dim(), sigma, 21)
			g := make([]float64, p.Dim())
			p.Grad(g, x)
			want := plainGrad(ds, lambda, x)
			var worst float64
			for i := range g {
				worst = math.Max(worst, math.Abs(g[i]-want[i]))
			}
			rel := worst / maxAbs(want)
			if !(rel <= 1e-14) {
				t.Errorf("%s σ=%v: max |g − plain| / max |plain| = %.3g", name, sigma, rel)
			}
			t.Logf("%s σ=%v: max |g − plain| / max |plain| = %.3g", name, sigma, rel)
		}
	}
}

// TestAxpyRowsAsmBits checks axpyRowsAVX2 against gonum's Dgemv (Trans,
// alpha = beta = 1), which the dense gradient used before, bit for bit, for
// every block height 1…16 and widths 1…13, 100 and 123, with values of
// mixed scales and signs.
func TestAxpyRowsAsmBits(t *testing.T) {
	requireAsm(t)
	r := rand.New(rand.NewPCG(8, 8))
	var impl gonum.Implementation
	val := func() float64 { return r.NormFloat64() * math.Pow(10, float64(r.IntN(9)-4)) }
	for _, d := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17, 20, 31, 32, 33, 36, 100, 123} {
		for nb := 1; nb <= rowBlock; nb++ {
			a, c, y := make([]float64, nb*d), make([]float64, nb), make([]float64, d)
			for i := range a {
				a[i] = val()
			}
			for i := range c {
				c[i] = val()
			}
			for i := range y {
				y[i] = val()
			}
			got, want := append([]float64(nil), y...), append([]float64(nil), y...)
			if !axpyRowsAsm(got, a, c, nb, d) {
				t.Fatal("axpyRowsAsm declined")
			}
			impl.Dgemv(blas.Trans, nb, d, 1, a, d, c, 1, 1, want, 1)
			requireBits(t, fmt.Sprintf("d=%d nb=%d", d, nb), got, want)
		}
	}
}

// TestSoftplusAsmBits checks softplusBlocksAVX2 against softplusTerms' Go
// loop bit for bit: margins of every scale with both signs and ±0, e at the
// edges of the table's cells (j/128 exactly, next to them), 0, 1, subnormal
// and tiny values. Term by term: a block whose other half holds zero terms
// (t = −1, e = 0) leaves each term alone in its partial sum. Then 4000
// blocks in one call against the eight partial sums in Go; and a block with
// an e outside [0, 1] (NaN, 1.5, −0.1, +Inf) stops the kernel before it, so
// the Go loop takes it.
func TestSoftplusAsmBits(t *testing.T) {
	requireAsm(t)
	r := rand.New(rand.NewPCG(21, 22))
	special := []float64{0, 1, 5e-324, 1e-300, 1e-17, 0.5, math.Nextafter(1, 0), 1.0 / 128, math.Nextafter(1.0/128, 0)}
	const blocks = 4000
	ts, es := make([]float64, 16*blocks), make([]float64, 16*blocks)
	for i := range ts {
		z := r.NormFloat64() * math.Pow(10, float64(r.IntN(8))-3)
		switch r.IntN(10) {
		case 0:
			z = 0
		case 1:
			z = math.Copysign(0, -1)
		}
		ts[i], es[i] = z, math.Exp(-math.Abs(z))
		switch r.IntN(6) {
		case 0:
			es[i] = special[r.IntN(len(special))]
		case 1:
			j := float64(r.IntN(129)) / 128
			es[i] = math.Nextafter(j, float64(r.IntN(3)-1)*2)
			es[i] = min(max(es[i], 0), 1)
		}
	}
	term := func(i int) float64 { return math.Max(ts[i], 0) + log1pUnit(es[i]) }
	for blk := range blocks {
		for half := range 2 {
			var tb, eb [16]float64
			for j := range 8 {
				src, dst := 16*blk+8*half+j, 8*half+j
				tb[dst], eb[dst] = ts[src], es[src]
				tb[8-8*half+j], eb[8-8*half+j] = -1, 0
			}
			var acc [softplusLanes]float64
			if n := softplusBlocksAsm(tb[:], eb[:], &acc); n != 1 {
				t.Fatalf("block %d: the kernel refused e in [0, 1]: %v", blk, eb)
			}
			for j := range 8 {
				if want := term(16*blk + 8*half + j); math.Float64bits(acc[j]) != math.Float64bits(want) {
					i := 16*blk + 8*half + j
					t.Fatalf("term %d (t = %v, e = %v): kernel %v, Go %v", i, ts[i], es[i], acc[j], want)
				}
			}
		}
	}
	var acc, want [softplusLanes]float64
	if n := softplusBlocksAsm(ts, es, &acc); n != blocks {
		t.Fatalf("the kernel added %d of %d blocks", n, blocks)
	}
	for i := range ts {
		want[i%softplusLanes] += term(i)
	}
	if acc != want {
		t.Errorf("partial sums: kernel %v, Go %v", acc, want)
	}
	for _, bad := range []float64{math.NaN(), 1.5, -0.1, math.Inf(1)} {
		ts, es := make([]float64, 48), make([]float64, 48)
		for i := range es {
			es[i] = 0.25
		}
		es[16+9] = bad
		var acc [softplusLanes]float64
		if n := softplusBlocksAsm(ts, es, &acc); n != 1 {
			t.Errorf("e = %v in block 1: the kernel added %d blocks, want 1", bad, n)
		}
	}
}
