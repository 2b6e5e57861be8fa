package algorithms

import (
	"math"
	"slices"
	"testing"
)

// p = 1 (and p unset) is EF21 bit for bit.
func TestParticipationOneIsEF21(t *testing.T) {
	n, d, K := 4, 10, 30
	run := func(p float64) []float64 {
		oracles, _ := randomQuartics(n, d, 9)
		pr := Problem{Config: Config{Method: EF21, Normalize: true, Clients: n, Dim: d, Participation: p, ParticipationSeed: 3},
			Compressors: mustCompressors(t, "top-k", 2, d, n), Oracles: oracles, X0: make([]float64, d),
			Schedule: Schedule{Gamma: 0.05}, Iterations: K}
		l, err := Reference(pr, nil)
		if err != nil {
			t.Fatal(err)
		}
		return append(slices.Clone(l.Server.X), l.Server.G...)
	}
	if a, b := run(0), run(1); !slices.Equal(a, b) {
		t.Fatalf("p = 1 differs from EF21")
	}
}

// EF21-PP by hand on the two clients of TestEF21HandWorkedTwoClients, with a
// seed for which client 0 takes part in iteration 0 and client 1 does not:
//
//	c_1 = (¼, 0, 0), g_1^1 = (−¾, 0, 0); client 2 keeps g_2^1 = g_2^0 = (0, −1, 0)
//	g^1 = g^0 + c_1/2 = (−⅜, −½, 0)   (1/n, not 1/|S|: the paper's g = (1/n) Σ g_i)
//
// and only the participant's bits grow.
func TestPartialParticipationHandWorked(t *testing.T) {
	seed := uint64(0)
	for ; ; seed++ {
		pp := Participation{P: 0.5, Seed: seed}
		if pp.In(0, 0) && !pp.In(0, 1) {
			break
		}
	}
	p := Problem{
		Config:      Config{Method: EF21, Clients: 2, Dim: 3, Participation: 0.5, ParticipationSeed: seed},
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
	for _, c := range []struct {
		what      string
		got, want []float64
	}{{"g_1^1", l.Workers[0].G, []float64{-0.75, 0, 0}}, {"g_2^1", l.Workers[1].G, []float64{0, -1, 0}}, {"g^1", l.Server.G, []float64{-0.375, -0.5, 0}}} {
		if !slices.Equal(c.got, c.want) {
			t.Fatalf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if l.Workers[0].Bits != 32*4 || l.Workers[1].Bits != 32*3 {
		t.Fatalf("bits %d, %d; want 128 (init + one message), 96 (init only)", l.Workers[0].Bits, l.Workers[1].Bits)
	}
}

// The draws: each (k, r) takes part with probability p, independently across
// ranks (the joint frequency is p²) and iterations, and g = (1/n) Σ g_i holds
// under partial participation.
func TestParticipationFrequencies(t *testing.T) {
	const p, K, n = 0.3, 20000, 5
	pp := Participation{P: p, Seed: 42}
	in, both, lag := 0, 0, 0
	for k := 0; k < K; k++ {
		for r := 0; r < n; r++ {
			if pp.In(k, r) {
				in++
			}
		}
		if pp.In(k, 0) && pp.In(k, 1) {
			both++
		}
		if pp.In(k, 2) && pp.In(k+1, 2) {
			lag++
		}
	}
	check := func(what string, count, trials int, q float64) {
		t.Helper()
		f := float64(count) / float64(trials)
		if sd := math.Sqrt(q * (1 - q) / float64(trials)); math.Abs(f-q) > 5*sd {
			t.Fatalf("%s: frequency %v, want %v ± %v", what, f, q, 5*sd)
		}
	}
	check("single", in, K*n, p)
	check("two ranks", both, K, p*p)
	check("consecutive iterations", lag, K, p*p)

	oracles, _ := randomQuartics(n, 8, 4)
	pr := Problem{Config: Config{Method: EF21, Clients: n, Dim: 8, Participation: 0.5, ParticipationSeed: 1},
		Compressors: mustCompressors(t, "top-k", 2, 8, n), Oracles: oracles, X0: make([]float64, 8),
		Schedule: Schedule{Gamma: 0.05}, Iterations: 40}
	if _, err := Reference(pr, func(k int, s *Server, ws []*Worker) bool {
		for j := range s.G {
			m := 0.0
			for _, w := range ws {
				m += w.G[j]
			}
			m /= n
			if math.Abs(s.G[j]-m) > 1e-12*(1+math.Abs(m)) {
				t.Fatalf("k=%d: g[%d] = %v, mean g_i = %v", k, j, s.G[j], m)
			}
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
}

// With the identity compressor and p < 1 the absent clients' g_i still
// count: g = (1/n) Σ g_i after every step, and each participant's g_i is its
// gradient at the x it last saw.
func TestParticipationIdentityKeepsAbsentEstimators(t *testing.T) {
	const n, d = 4, 6
	oracles, _ := randomQuartics(n, d, 2)
	pr := Problem{Config: Config{Method: EF21, Clients: n, Dim: d, Absolute: true, Participation: 0.5, ParticipationSeed: 4},
		Compressors: mustCompressors(t, "identity", d, d, n), Oracles: oracles, X0: make([]float64, d),
		Schedule: Schedule{Gamma: 0.05}, Iterations: 30}
	if _, err := Reference(pr, func(k int, s *Server, ws []*Worker) bool {
		for j := range s.G {
			m := 0.0
			for _, w := range ws {
				m += w.G[j]
			}
			m /= n
			if math.Abs(s.G[j]-m) > 1e-12*(1+math.Abs(m)) {
				t.Fatalf("k=%d: g[%d] = %v, mean g_i = %v", k, j, s.G[j], m)
			}
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
}

func TestParticipationRejects(t *testing.T) {
	for _, c := range []Config{
		{Method: EF21, Clients: 1, Dim: 1, Participation: 1.5},
		{Method: EF21, Clients: 1, Dim: 1, Participation: -0.1},
		{Method: EF14, Clients: 1, Dim: 1, Participation: 0.5},
		{Method: EF21SGDM, Eta: 0.5, Clients: 1, Dim: 1, Participation: 0.5},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}
