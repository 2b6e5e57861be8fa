package algorithms

import (
	"math"
	"slices"
	"testing"
)

// EF21-W by hand: n = 2, d = 2, top-1, γ = ½, f_i = ½‖x − b_i‖², b_1 = (1, 0),
// b_2 = (0, 2), L = (1, 3), so w = (¼, ¾) and s_i = 1/(n w_i) = (2, ⅔):
//
//	g_1^0 = 2·(−1, 0) = (−2, 0), g_2^0 = ⅔·(0, −2) = (0, −4/3), g^0 = Σ w_i g_i^0 = (−½, −1)
//	x^1 = x^0 − ½g^0 = (¼, ½)
//	client 1: s_1∇f_1(x^1) − g_1^0 = (−3/2, 1) − (−2, 0) = (½, 1) → c_1 = (0, 1), g_1^1 = (−2, 1)
//	client 2: s_2∇f_2(x^1) − g_2^0 = (1/6, −1) − (0, −4/3) = (1/6, ⅓) → c_2 = (0, ⅓), g_2^1 = (0, −1)
//	g^1 = ¼(−2, 1) + ¾(0, −1) = (−½, −½); the messages are n w_i c_i = (0, ½) each.
func TestEF21WHandWorked(t *testing.T) {
	p := Problem{
		Config:      Config{Method: EF21W, Clients: 2, Dim: 2, Smoothness: []float64{1, 3}},
		Compressors: mustCompressors(t, "top-k", 1, 2, 2),
		Oracles:     []Oracle{quadratic([]float64{1, 0}), quadratic([]float64{0, 2})},
		X0:          []float64{0, 0},
		Schedule:    Schedule{Gamma: 0.5},
	}
	l, err := NewLoop(p)
	if err != nil {
		t.Fatal(err)
	}
	near := func(what string, got, want []float64) {
		t.Helper()
		for j := range want {
			if math.Abs(got[j]-want[j]) > 1e-15 {
				t.Fatalf("%s = %v, want %v", what, got, want)
			}
		}
	}
	near("g_1^0", l.Workers[0].G, []float64{-2, 0})
	near("g_2^0", l.Workers[1].G, []float64{0, -4.0 / 3})
	near("g^0", l.Server.G, []float64{-0.5, -1})
	if err := l.Iterate(); err != nil {
		t.Fatal(err)
	}
	near("x^1", l.Server.X, []float64{0.25, 0.5})
	near("g_1^1", l.Workers[0].G, []float64{-2, 1})
	near("g_2^1", l.Workers[1].G, []float64{0, -1})
	near("g^1", l.Server.G, []float64{-0.5, -0.5})
	agg := l.Node.Aggregate()
	if !slices.Equal(agg.Idx, []int32{1}) || math.Abs(agg.Val[0]-1) > 1e-15 {
		t.Fatalf("aggregate %v %v, want {1: ½ + ½}", agg.Idx, agg.Val)
	}
	if l.Workers[0].Bits != 32*3 || l.Workers[1].Bits != 32*3 {
		t.Fatalf("bits %d %d, want 96 each (d = 2 at init, k = 1 after)", l.Workers[0].Bits, l.Workers[1].Bits)
	}
	w := Weights([]float64{1, 3})
	if w[0] != 0.25 || w[1] != 0.75 {
		t.Fatalf("weights %v, want (¼, ¾)", w)
	}
}

// EF21-W with equal L_i is EF21 bit for bit, for top-k, the identity and
// the normalised variant (s_i = (Σ_j L_j/L_i)/n is exactly 1).
func TestEF21WEqualConstantsIsEF21BitForBit(t *testing.T) {
	n, d, K := 5, 13, 40
	for _, comp := range []string{"top-k", "identity"} {
		for _, normalize := range []bool{false, true} {
			run := func(method string) []float64 {
				oracles, _ := randomQuartics(n, d, 7)
				x0 := make([]float64, d)
				for j := range x0 {
					x0[j] = math.Sin(float64(2*j + 1))
				}
				li := slices.Repeat([]float64{0.1}, n)
				p := Problem{Config: Config{Method: method, Normalize: normalize, Clients: n, Dim: d, Absolute: comp == "identity", Smoothness: li},
					Compressors: mustCompressors(t, comp, 2, d, n), Oracles: oracles, X0: x0,
					Schedule: Schedule{Gamma: 0.02}, Iterations: K}
				l, err := Reference(p, nil)
				if err != nil {
					t.Fatal(err)
				}
				return append(slices.Clone(l.Server.X), l.Server.G...)
			}
			if a, b := run(EF21), run(EF21W); !slices.Equal(a, b) {
				t.Fatalf("%s normalize=%v: EF21-W with equal L_i differs from EF21:\n%v\n%v", comp, normalize, a, b)
			}
		}
	}
}

// g = Σ_i w_i g_i after every step of EF21-W with unequal L_i.
func TestEF21WWeightedMeanInvariant(t *testing.T) {
	n, d, K := 4, 11, 50
	li := []float64{0.5, 1, 4, 9}
	w := Weights(li)
	oracles, _ := randomQuartics(n, d, 5)
	p := Problem{Config: Config{Method: EF21W, Normalize: true, Clients: n, Dim: d, Smoothness: li},
		Compressors: mustCompressors(t, "top-k", 2, d, n), Oracles: oracles, X0: make([]float64, d),
		Schedule: Schedule{Gamma: 0.01}, Iterations: K}
	_, err := Reference(p, func(k int, s *Server, ws []*Worker) bool {
		for j := range s.G {
			m := 0.0
			for i, wk := range ws {
				m += w[i] * wk.G[j]
			}
			if math.Abs(s.G[j]-m) > 1e-12*(1+math.Abs(m)) {
				t.Fatalf("k=%d: g[%d] = %v, Σ w_i g_i = %v", k, j, s.G[j], m)
			}
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ef21-theory-am: α = ¼, L = 2, L_i = (1, 3): L_AM = 2 and L̃ = √5, so the AM
// step 1/(2 + 2√(β/θ)) is larger than EF21's 1/(2 + √5·√(β/θ)).
func TestEF21TheoryAM(t *testing.T) {
	th, err := EF21TheoryAM(0.25, 2, []float64{1, 3}, 1)
	if err != nil {
		t.Fatal(err)
	}
	s := 2/math.Sqrt(3) - 1
	theta := 1 - 0.75*(1+s)
	beta := 0.75 * (1 + 1/s)
	want := 1 / (2 + 2*math.Sqrt(beta/theta))
	if th.LAM != 2 || math.Abs(th.LTilde-math.Sqrt(5)) > 1e-15 || math.Abs(th.Gamma-want) > 1e-15*want {
		t.Fatalf("EF21TheoryAM = %+v, want L_AM = 2, L̃ = √5, γ = %v", th, want)
	}
	old, _ := EF21Theory(0.25, 2, []float64{1, 3}, 1)
	if !(th.Gamma > old.Gamma) {
		t.Fatalf("AM step %v not above the L̃ step %v", th.Gamma, old.Gamma)
	}
	if eq, _ := EF21TheoryAM(0.25, 2, []float64{3, 3}, 1); eq.Gamma != func() float64 { o, _ := EF21Theory(0.25, 2, []float64{3, 3}, 1); return o.Gamma }() {
		t.Fatalf("equal L_i: the AM step must equal EF21's")
	}
	if one, _ := EF21TheoryAM(1, 4, []float64{1, 9}, 2); one.Gamma != 0.5 {
		t.Fatalf("α = 1: γ = %v, want factor/L", one.Gamma)
	}
}

func TestEF21WRejects(t *testing.T) {
	for _, c := range []Config{
		{Method: EF21W, Clients: 2, Dim: 1, Smoothness: []float64{1}},
		{Method: EF21W, Clients: 2, Dim: 1, Smoothness: []float64{1, 0}},
		{Method: EF21W, Clients: 1, Dim: 1, Smoothness: []float64{math.Inf(1)}},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

// Every compressor here is positively homogeneous (C(s·v) = s·C(v) for s > 0:
// top-k, rand-k on the same stream, scaled sign, identity), so by induction
// EF21-W's g_i is s_i times EF21's and g = Σ w_i g_i = (1/n) Σ g_i^{EF21}: the
// two methods take the same steps, up to rounding, for any L_i. What EF21-W
// (and the improved analysis of EF21) changes is the admissible step
// (ef21-theory-am). Checked for unequal L_i against EF21 run separately.
func TestEF21WHomogeneousCompressorsTrackEF21(t *testing.T) {
	n, d, K := 4, 12, 60
	li := []float64{0.5, 1, 4, 9}
	s := WeightScales(li)
	for _, comp := range []string{"top-k", "rand-k", "sign", "identity"} {
		run := func(method string) *Loop {
			oracles, _ := randomQuartics(n, d, 13)
			x0 := make([]float64, d)
			for j := range x0 {
				x0[j] = math.Cos(float64(j))
			}
			p := Problem{Config: Config{Method: method, Clients: n, Dim: d, Absolute: comp == "identity", Smoothness: li},
				Compressors: mustCompressors(t, comp, 3, d, n), Oracles: oracles, X0: x0,
				Schedule: Schedule{Gamma: 0.01}, Iterations: K}
			l, err := Reference(p, nil)
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		a, b := run(EF21), run(EF21W)
		for j := range a.Server.X {
			if math.Abs(a.Server.X[j]-b.Server.X[j]) > 1e-12*(1+math.Abs(a.Server.X[j])) {
				t.Fatalf("%s: x[%d] EF21 %v, EF21-W %v", comp, j, a.Server.X[j], b.Server.X[j])
			}
		}
		for i := range a.Workers {
			for j := range a.Workers[i].G {
				if want := s[i] * a.Workers[i].G[j]; math.Abs(b.Workers[i].G[j]-want) > 1e-12*(1+math.Abs(want)) {
					t.Fatalf("%s: client %d g_i[%d] = %v, want s_i·g_i^EF21 = %v", comp, i, j, b.Workers[i].G[j], want)
				}
			}
		}
		if slices.Equal(a.Server.X, b.Server.X) && comp != "identity" {
			t.Logf("%s: bitwise equal", comp)
		}
	}
}
