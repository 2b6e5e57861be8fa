package algorithms

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// quadratic returns the oracle of f_i(x) = ½‖x − b‖², ∇f_i(x) = x − b.
func quadratic(b []float64) Oracle {
	return func(dst, x []float64) {
		for j := range x {
			dst[j] = x[j] - b[j]
		}
	}
}

func mustCompressors(t testing.TB, name string, k, d, n int) []Compressor {
	t.Helper()
	cs := make([]Compressor, n)
	for i := range cs {
		c, err := NewCompressor(name, k, d, rand.New(rand.NewPCG(uint64(i), 77)))
		if err != nil {
			t.Fatal(err)
		}
		cs[i] = c
	}
	return cs
}

// Two clients, d = 3, top-1, γ = 1/2, f_i = ½‖x − b_i‖², b_1 = e_1, b_2 = e_2,
// x^0 = 0. Worked by hand (every number is a short binary fraction):
//
//	g_1^0 = (−1, 0, 0), g_2^0 = (0, −1, 0), g^0 = (−½, −½, 0)
//	x^1 = x^0 − ½g^0 = (¼, ¼, 0)
//	∇f_1(x^1) − g_1^0 = (¼, ¼, 0) → top-1 ties → index 0: c_1 = (¼, 0, 0), g_1^1 = (−¾, 0, 0)
//	∇f_2(x^1) − g_2^0 = (¼, ¼, 0) → index 0:            c_2 = (¼, 0, 0), g_2^1 = (¼, −1, 0)
//	g^1 = g^0 + (c_1 + c_2)/2 = (−¼, −½, 0)
//	x^2 = x^1 − ½g^1 = (⅜, ½, 0)
func TestEF21HandWorkedTwoClients(t *testing.T) {
	p := Problem{
		Config:      Config{Method: EF21, Clients: 2, Dim: 3},
		Compressors: mustCompressors(t, "top-k", 1, 3, 2),
		Oracles:     []Oracle{quadratic([]float64{1, 0, 0}), quadratic([]float64{0, 1, 0})},
		X0:          []float64{0, 0, 0},
		Schedule:    Schedule{Gamma: 0.5},
		Iterations:  1,
	}
	l, err := NewLoop(p)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, got, want []float64) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
	}
	check("g^0", l.Server.G, []float64{-0.5, -0.5, 0})
	check("g_1^0", l.Workers[0].G, []float64{-1, 0, 0})
	if err := l.Iterate(); err != nil {
		t.Fatal(err)
	}
	check("x^1", l.Server.X, []float64{0.25, 0.25, 0})
	check("g_1^1", l.Workers[0].G, []float64{-0.75, 0, 0})
	check("g_2^1", l.Workers[1].G, []float64{0.25, -1, 0})
	check("g^1", l.Server.G, []float64{-0.25, -0.5, 0})
	if err := l.Server.Step(0.5); err != nil {
		t.Fatal(err)
	}
	check("x^2", l.Server.X, []float64{0.375, 0.5, 0})
	// bits: init sends d = 3 values, one iteration sends k = 1.
	if got := l.Workers[0].Bits; got != 32*4 {
		t.Fatalf("bits after one iteration = %d, want %d", got, 32*4)
	}
}

// The same two clients under ||EF21||: the first step is
// x^1 = −½ g^0/‖g^0‖ = (½/√2)(1, 1, 0).
func TestNormalizedEF21HandWorkedStep(t *testing.T) {
	p := Problem{
		Config:      Config{Method: EF21, Normalize: true, Clients: 2, Dim: 3},
		Compressors: mustCompressors(t, "top-k", 1, 3, 2),
		Oracles:     []Oracle{quadratic([]float64{1, 0, 0}), quadratic([]float64{0, 1, 0})},
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
	want := 0.5 / math.Sqrt2
	for j, w := range []float64{want, want, 0} {
		if math.Abs(l.Server.X[j]-w) > 1e-16 {
			t.Fatalf("x^1 = %v, want (%v, %v, 0)", l.Server.X, want, want)
		}
	}
}

// EF21 with the identity compressor is distributed gradient descent, bit for
// bit: x^{k+1} = x^k − γ·((∇f_0 + ∇f_1 + … + ∇f_{n−1})/n), summed in rank order.
func TestEF21IdentityIsGDBitForBit(t *testing.T) {
	for _, normalize := range []bool{false, true} {
		n, d, K := 5, 17, 60
		oracles, bs := randomQuartics(n, d, 11)
		x0 := make([]float64, d)
		for j := range x0 {
			x0[j] = math.Sin(float64(j))
		}
		p := Problem{
			Config:      Config{Method: EF21, Normalize: normalize, Clients: n, Dim: d, Absolute: true},
			Compressors: mustCompressors(t, "identity", d, d, n),
			Oracles:     oracles, X0: x0,
			Schedule: Schedule{Gamma: 0.01}, Iterations: K,
		}
		l, err := Reference(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		// naive distributed GD, written independently of Server/Worker
		x := slices.Clone(x0)
		grads := make([][]float64, n)
		for i := range grads {
			grads[i] = make([]float64, d)
		}
		avg := make([]float64, d)
		for k := 0; k < K; k++ {
			for i := range grads {
				quarticGrad(grads[i], x, bs[i])
			}
			for j := range avg {
				s := grads[0][j]
				for i := 1; i < n; i++ {
					s += grads[i][j]
				}
				avg[j] = s / float64(n)
			}
			scale := 0.01
			if normalize {
				scale = 0.01 / Norm(avg)
			}
			for j := range x {
				x[j] -= scale * avg[j]
			}
		}
		if !slices.Equal(x, l.Server.X) {
			t.Fatalf("normalize=%v: EF21+identity x^K differs from GD:\n%v\n%v", normalize, l.Server.X, x)
		}
	}
}

// f_i(x) = Σ x⁴/4 − x²/2 + b_i·x: a nonconvex test oracle.
func quarticGrad(dst, x, b []float64) {
	for j := range x {
		dst[j] = x[j]*x[j]*x[j] - x[j] + b[j]
	}
}

func randomQuartics(n, d int, seed uint64) ([]Oracle, [][]float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	oracles := make([]Oracle, n)
	bs := make([][]float64, n)
	for i := range oracles {
		b := make([]float64, d)
		for j := range b {
			b[j] = r.NormFloat64()
		}
		bs[i] = b
		oracles[i] = func(dst, x []float64) { quarticGrad(dst, x, b) }
	}
	return oracles, bs
}

// Every ||EF21|| and ||EF21-SGDM|| step has length γ_k, and g = (1/n) Σ g_i
// holds after every step for every compressor.
func TestInvariantsEveryStep(t *testing.T) {
	n, d, K := 4, 23, 80
	for _, method := range []string{EF21, EF21SGDM} {
		for _, comp := range []string{"top-k", "rand-k", "sign", "identity"} {
			oracles, _ := randomQuartics(n, d, 3)
			x0 := make([]float64, d)
			for j := range x0 {
				x0[j] = math.Cos(float64(3 * j))
			}
			cfg := Config{Method: method, Normalize: true, Eta: 0.3, Clients: n, Dim: d, Absolute: comp == "identity"}
			sched := Schedule{Gamma: 0.05, Decreasing: true}
			p := Problem{Config: cfg, Compressors: mustCompressors(t, comp, 3, d, n), Oracles: oracles, X0: x0, Schedule: sched, Iterations: K}
			prev := slices.Clone(x0)
			steps := 0
			_, err := Reference(p, func(k int, s *Server, ws []*Worker) bool {
				if k > 0 {
					dist := 0.0
					for j := range prev {
						dist += (s.X[j] - prev[j]) * (s.X[j] - prev[j])
					}
					if want := sched.At(k - 1); math.Abs(math.Sqrt(dist)-want) > 1e-12*want {
						t.Fatalf("%s/%s k=%d: step length %.17g, want γ = %.17g", method, comp, k, math.Sqrt(dist), want)
					}
					steps++
				}
				copy(prev, s.X)
				for j := range s.G {
					mean := 0.0
					for _, w := range ws {
						mean += w.G[j]
					}
					mean /= float64(n)
					if math.Abs(s.G[j]-mean) > 1e-12*(1+math.Abs(mean)) {
						t.Fatalf("%s/%s k=%d: g[%d] = %.17g but mean g_i = %.17g", method, comp, k, j, s.G[j], mean)
					}
				}
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			if steps != K {
				t.Fatalf("%s/%s: observed %d steps, want %d", method, comp, steps, K)
			}
		}
	}
}

// EF21-SGDM's momentum: v^1 = (1−η)v^0 + η·∇ and the message is C(v^1 − g^0),
// checked against a hand computation with the identity-free top-k on d = 2.
func TestEF21SGDMMomentumHandWorked(t *testing.T) {
	cfg := Config{Method: EF21SGDM, Eta: 0.25, Clients: 1, Dim: 2}
	w, err := NewWorker(cfg, NewTopK(1))
	if err != nil {
		t.Fatal(err)
	}
	w.Init([]float64{4, 8}) // v = g = (4, 8)
	msg := w.Step([]float64{0, 16}, 0)
	// v = 0.75·(4, 8) + 0.25·(0, 16) = (3, 10); v − g = (−1, 2) → top-1 keeps index 1
	if !slices.Equal(w.V, []float64{3, 10}) || !slices.Equal(msg.Idx, []int32{1}) || !slices.Equal(msg.Val, []float64{2}) {
		t.Fatalf("v = %v, message %v %v; want v = (3, 10), message {1: 2}", w.V, msg.Idx, msg.Val)
	}
	if !slices.Equal(w.G, []float64{4, 10}) {
		t.Fatalf("g_i = %v, want (4, 10)", w.G)
	}
}

// EF14 by hand, one client, d = 2, top-1, γ = ½, f = ½‖x − (2, 1)‖², x^0 = 0:
// p = 0 + ½(−2, −1) = (−1, −½), c = (−1, 0), e = (0, −½), x^1 = (1, 0);
// p = (0, −½) + ½(−1, −1) = (−½, −1), c = (0, −1), e = (−½, 0), x^2 = (1, 1).
func TestEF14HandWorked(t *testing.T) {
	p := Problem{
		Config:      Config{Method: EF14, Clients: 1, Dim: 2},
		Compressors: []Compressor{NewTopK(1)},
		Oracles:     []Oracle{quadratic([]float64{2, 1})},
		X0:          []float64{0, 0},
		Schedule:    Schedule{Gamma: 0.5},
		Iterations:  2,
	}
	var xs [][]float64
	l, err := Reference(p, func(k int, s *Server, ws []*Worker) bool {
		xs = append(xs, slices.Clone(s.X))
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(xs[1], []float64{1, 0}) || !slices.Equal(xs[2], []float64{1, 1}) || !slices.Equal(l.Workers[0].E, []float64{-0.5, 0}) {
		t.Fatalf("EF14 iterates %v, e = %v; want x^1 = (1, 0), x^2 = (1, 1), e = (−½, 0)", xs, l.Workers[0].E)
	}
}

func TestNormalizedStopsOnZeroEstimator(t *testing.T) {
	// f = ½‖x‖² at x^0 = 0: g^0 = 0, the run must stop before moving.
	p := Problem{
		Config:      Config{Method: EF21, Normalize: true, Clients: 1, Dim: 2},
		Compressors: []Compressor{NewTopK(1)},
		Oracles:     []Oracle{quadratic([]float64{0, 0})},
		X0:          []float64{0, 0},
		Schedule:    Schedule{Gamma: 1},
		Iterations:  5,
	}
	l, err := Reference(p, nil)
	if !errors.Is(err, ErrZeroEstimator) || l.K != 0 {
		t.Fatalf("got K=%d err=%v, want ErrZeroEstimator at K=0", l.K, err)
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []Config{
		{Method: "sgd", Clients: 1, Dim: 1},
		{Method: EF21SGDM, Eta: 0, Clients: 1, Dim: 1},
		{Method: EF21SGDM, Eta: 1.5, Clients: 1, Dim: 1},
		{Method: EF14, Normalize: true, Clients: 1, Dim: 1},
		{Method: EF21, Clients: 0, Dim: 1},
		{Method: EF21, Clients: 1, Dim: 0},
	}
	for _, c := range bad {
		if c.Validate() == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

func TestStepSizeRules(t *testing.T) {
	// α = 1/4: s = 1/√(3/4) − 1, θ = 1 − (3/4)(1+s), β = (3/4)(1 + 1/s).
	th, err := EF21Theory(0.25, 2, []float64{1, 3}, 1)
	if err != nil {
		t.Fatal(err)
	}
	s := 2/math.Sqrt(3) - 1
	theta := 1 - 0.75*(1+s)
	beta := 0.75 * (1 + 1/s)
	want := 1 / (2 + math.Sqrt(5)*math.Sqrt(beta/theta))
	if math.Abs(th.Gamma-want) > 1e-15*want || math.Abs(th.Theta-theta) > 1e-15 || math.Abs(th.LTilde-math.Sqrt(5)) > 1e-15 {
		t.Fatalf("EF21Theory = %+v, want γ = %v θ = %v β = %v", th, want, theta, beta)
	}
	// θ = 1 − √(1−α) with this s
	if math.Abs(th.Theta-(1-math.Sqrt(0.75))) > 1e-15 {
		t.Fatalf("θ = %v, want 1 − √(1−α) = %v", th.Theta, 1-math.Sqrt(0.75))
	}
	if th1, _ := EF21Theory(1, 4, []float64{9}, 2); th1.Gamma != 0.5 {
		t.Fatalf("α = 1: γ = %v, want factor/L = 0.5", th1.Gamma)
	}
	if g := NormTheory(2, 99, false); g != 0.2 {
		t.Fatalf("norm-theory K=99: %v, want 0.2", g)
	}
	if g := NormTheory(1, 15, true); g != 0.125 {
		t.Fatalf("norm-theory SGDM K=15: %v, want 16^{-3/4} = 0.125", g)
	}
	if e := EtaTheory(0.5, 3); e != 0.25 {
		t.Fatalf("eta-theory: %v, want 0.25", e)
	}
	if e := EtaTheory(10, 3); e != 1 {
		t.Fatalf("eta-theory capped: %v, want 1", e)
	}
	if g := (Schedule{Gamma: 3, Decreasing: true}).At(8); g != 1 {
		t.Fatalf("decreasing k=8: %v, want 3/√9 = 1", g)
	}
	for _, bad := range [][3]float64{{0, 1, 1}, {1.5, 1, 1}, {0.5, 0, 1}, {0.5, 1, 0}} {
		if _, err := EF21Theory(bad[0], bad[1], []float64{1}, bad[2]); err == nil {
			t.Errorf("EF21Theory(%v): no error", bad)
		}
	}
}
