package algorithms

import (
	"slices"
	"testing"
)

// signSGD with majority vote by hand: n = 3, d = 3, γ = ½, η = 1,
// f_i = ½‖x − b_i‖² at x^0 = 0, so ∇f_i(x^0) = −b_i:
//
//	b_1 = (1, −1, 0), b_2 = (1, 2, −3), b_3 = (−1, 1, −2)
//	signs: s_1 = (−1, +1, +1 [sign(0) = +1]), s_2 = (−1, −1, +1), s_3 = (+1, −1, +1)
//	vote Σ s_i = (−1, −1, 3) → S = (−1, −1, +1) → x^1 = −½S = (½, ½, −½)
//
// Each worker sends d = 3 bits; the server broadcasts 3 bits.
func TestMajorityVoteHandWorked(t *testing.T) {
	p := Problem{
		Config:      Config{Method: SignSGD, Eta: 1, Clients: 3, Dim: 3},
		Compressors: make([]Compressor, 3),
		Oracles:     []Oracle{quadratic([]float64{1, -1, 0}), quadratic([]float64{1, 2, -3}), quadratic([]float64{-1, 1, -2})},
		X0:          []float64{0, 0, 0},
		Schedule:    Schedule{Gamma: 0.5},
	}
	l, err := NewLoop(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Iterate(); err != nil {
		t.Fatal(err)
	}
	if agg := l.Node.Aggregate(); !slices.Equal(agg.Val, []float64{-1, -1, 3}) {
		t.Fatalf("vote = %v, want (−1, −1, 3)", agg.Val)
	}
	if !slices.Equal(l.Server.X, []float64{0.5, 0.5, -0.5}) {
		t.Fatalf("x^1 = %v, want (½, ½, −½)", l.Server.X)
	}
	for i, w := range l.Workers {
		if w.Bits != 3 {
			t.Fatalf("worker %d sent %d bits, want 3", i, w.Bits)
		}
	}
	if got := l.Node.Replica.DownBits(); got != 3 {
		t.Fatalf("downlink %d bits, want 3", got)
	}
}

// The tie rule: with two workers voting (+1, −1) on a coordinate the vote is
// 0 and sign(0) = +1 moves it by −γ; Signum's momentum m = (1−η)m + η∇ is
// what is signed.
func TestSignTieAndMomentum(t *testing.T) {
	// ∇f_1 = x − (1, 1), ∇f_2 = x − (−1, 1): at x = 0 signs (−1, −1), (+1, −1).
	p := Problem{
		Config:      Config{Method: SignSGD, Eta: 1, Clients: 2, Dim: 2},
		Compressors: make([]Compressor, 2),
		Oracles:     []Oracle{quadratic([]float64{1, 1}), quadratic([]float64{-1, 1})},
		X0:          []float64{0, 0},
		Schedule:    Schedule{Gamma: 0.25},
	}
	l, err := NewLoop(p)
	if err != nil {
		t.Fatal(err)
	}
	l.Iterate()
	// vote (0, −2) → S = (+1, −1) → x^1 = (−¼, ¼)
	if !slices.Equal(l.Server.X, []float64{-0.25, 0.25}) {
		t.Fatalf("tie: x^1 = %v, want (−¼, ¼)", l.Server.X)
	}
	// Signum, one worker, η = ¼: m^1 = ¼∇f(x^0) = ¼(−4, 8)·… by hand with
	// ∇f = x − b, b = (4, −8), x^0 = 0: m^1 = (−1, 2), x^1 = x^0 − γ(−1, 1).
	// x^1 = (1, −1) (γ = 1); ∇f(x^1) = (−3, 7); m^2 = ¾(−1, 2) + ¼(−3, 7)
	// = (−3/2, 13/4) → x^2 = (2, −2).
	q := Problem{
		Config:      Config{Method: SignSGD, Eta: 0.25, Clients: 1, Dim: 2},
		Compressors: make([]Compressor, 1),
		Oracles:     []Oracle{quadratic([]float64{4, -8})},
		X0:          []float64{0, 0},
		Schedule:    Schedule{Gamma: 1},
		Iterations:  2,
	}
	s, err := Reference(q, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Node.Clients[0].State().Vector("m_i")
	if !slices.Equal(m, []float64{-1.5, 3.25}) || !slices.Equal(s.Server.X, []float64{2, -2}) {
		t.Fatalf("Signum: m = %v, x = %v; want m = (−3/2, 13/4), x = (2, −2)", m, s.Server.X)
	}
}

// Majority vote over an odd number of identical workers is signSGD on one
// worker, bit for bit (signSGD and Signum).
func TestMajorityVoteIdenticalWorkersIsSignSGD(t *testing.T) {
	d, K := 9, 60
	oracles, _ := randomQuartics(1, d, 21)
	for _, eta := range []float64{1, 0.3} {
		run := func(n int) []float64 {
			os := make([]Oracle, n)
			for i := range os {
				os[i] = oracles[0]
			}
			x0 := make([]float64, d)
			for j := range x0 {
				x0[j] = float64(j%3) - 1
			}
			p := Problem{Config: Config{Method: SignSGD, Eta: eta, Clients: n, Dim: d},
				Compressors: make([]Compressor, n), Oracles: os, X0: x0,
				Schedule: Schedule{Gamma: 0.05, Decreasing: true}, Iterations: K}
			l, err := Reference(p, nil)
			if err != nil {
				t.Fatal(err)
			}
			return l.Server.X
		}
		one := run(1)
		for _, n := range []int{3, 5} {
			if got := run(n); !slices.Equal(got, one) {
				t.Fatalf("η=%v n=%d: majority vote %v, signSGD %v", eta, n, got, one)
			}
		}
	}
}

func TestSignRejects(t *testing.T) {
	for _, c := range []Config{
		{Method: SignSGD, Eta: 0, Clients: 1, Dim: 1},
		{Method: SignSGD, Eta: 1, Normalize: true, Clients: 1, Dim: 1},
		{Method: SignSGD, Eta: 1, Participation: 0.5, Clients: 1, Dim: 1},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}
