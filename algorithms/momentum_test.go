package algorithms

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// quarticExtra is the exact extra oracle of f_i(x) = Σ x⁴/4 − x²/2 + b·x
// (quarticGrad): the gradient anywhere and ∇²f_i(z)v = (3z_j² − 1)v_j.
type quarticExtra struct{ b []float64 }

func (q quarticExtra) GradSameBatch(dst, y []float64) { quarticGrad(dst, y, q.b) }
func (q quarticExtra) HessVecSameBatch(dst, z, v []float64) {
	for j := range z {
		dst[j] = (3*z[j]*z[j] - 1) * v[j]
	}
}

func quarticExtras(bs [][]float64) []any {
	out := make([]any, len(bs))
	for i, b := range bs {
		out[i] = quarticExtra{b}
	}
	return out
}

// sampled is a stochastic test oracle with S samples per client:
// f_s(x) = Σ_j w_sj (x_j − c_sj)²/2 + x_j⁴/4. Grad draws s from the client's
// stream; GradSameBatch and HessVecSameBatch use the last s and draw nothing.
type sampled struct {
	w, c [][]float64
	r    *rand.Rand
	s    int
}

func newSampled(S, d int, seed uint64) *sampled {
	r := rand.New(rand.NewPCG(seed, 3))
	o := &sampled{r: rand.New(rand.NewPCG(seed, 4))}
	for s := 0; s < S; s++ {
		w, c := make([]float64, d), make([]float64, d)
		for j := range w {
			w[j], c[j] = 0.5+r.Float64(), r.NormFloat64()
		}
		o.w, o.c = append(o.w, w), append(o.c, c)
	}
	return o
}

func (o *sampled) at(dst, x []float64, s int) {
	for j, xj := range x {
		dst[j] = o.w[s][j]*(xj-o.c[s][j]) + xj*xj*xj
	}
}
func (o *sampled) Grad(dst, x []float64)          { o.s = o.r.IntN(len(o.w)); o.at(dst, x, o.s) }
func (o *sampled) GradSameBatch(dst, y []float64) { o.at(dst, y, o.s) }
func (o *sampled) HessVecSameBatch(dst, z, v []float64) {
	for j := range z {
		dst[j] = (o.w[o.s][j] + 3*z[j]*z[j]) * v[j]
	}
}

// sampledProblem is n clients of sampled oracles (fresh streams each call).
func sampledProblem(t testing.TB, c Config, n, d, K int, comp string) Problem {
	c.Clients, c.Dim = n, d
	orcs, extras := make([]Oracle, n), make([]any, n)
	for i := range orcs {
		o := newSampled(5, d, uint64(100+i))
		orcs[i], extras[i] = o.Grad, o
	}
	x0 := make([]float64, d)
	for j := range x0 {
		x0[j] = math.Sin(float64(j + 1))
	}
	return Problem{Config: c, Compressors: mustCompressors(t, comp, 2, d, n), Oracles: orcs, Extras: extras, X0: x0,
		Schedule: Schedule{Gamma: 0.1, Power: 0.75}, Iterations: K}
}

// script is a hand-worked oracle: it returns the given vectors in turn and
// records the points it was asked about.
type script struct {
	grads, same, hv [][]float64
	gotX, gotY      [][]float64
	gotZ, gotV      [][]float64
}

func (s *script) Grad(dst, x []float64) {
	s.gotX = append(s.gotX, slices.Clone(x))
	copy(dst, s.grads[len(s.gotX)-1])
}
func (s *script) GradSameBatch(dst, y []float64) {
	s.gotY = append(s.gotY, slices.Clone(y))
	copy(dst, s.same[len(s.gotY)-1])
}
func (s *script) HessVecSameBatch(dst, z, v []float64) {
	s.gotZ, s.gotV = append(s.gotZ, slices.Clone(z)), append(s.gotV, slices.Clone(v))
	copy(dst, s.hv[len(s.gotZ)-1])
}

// One client, d = 2, top-1, normalised, γ = 5, η = ½, x^0 = 0. The initial
// gradient (3, 4) gives g = v = (3, 4), ‖g‖ = 5, so x^1 = (−3, −4). Then each
// rule by hand (the scripted oracle returns ∇ = (1, −2), the second gradient
// (2, 2), the HVP (2, 2)):
//
//	IGT:   x̃ = x^1 + ((1−½)/½)(x^1 − x^0) = (−6, −8); v = ½(3,4) + ½(1,−2) = (2, 1)
//	STORM: v = ½((3,4) + (1,−2) − (2,2)) + ½(1,−2) = (1.5, −1)
//	HM:    HVP at x^1 along (−3, −4); v = ½((3,4) + (2,2)) + ½(1,−2) = (3, 2)
//	RHM:   HVP at q·x^1 + (1−q)·x^0 along (−3, −4); v as HM
//
// and the message is top-1 of v − g, g += it.
func TestMomentumVariantsHandWorked(t *testing.T) {
	for _, tc := range []struct {
		method  string
		v       []float64
		msgIdx  int32
		msgVal  float64
		checkPt func(t *testing.T, s *script)
	}{
		{EF21IGT, []float64{2, 1}, 1, -3, func(t *testing.T, s *script) {
			if !slices.Equal(s.gotX[1], []float64{-6, -8}) {
				t.Fatalf("IGT gradient at %v, want x̃ = (−6, −8)", s.gotX[1])
			}
		}},
		{EF21STORM, []float64{1.5, -1}, 1, -5, func(t *testing.T, s *script) {
			if !slices.Equal(s.gotX[1], []float64{-3, -4}) || !slices.Equal(s.gotY[0], []float64{0, 0}) {
				t.Fatalf("STORM gradients at %v and %v, want x^1 = (−3, −4) and x^0 = 0", s.gotX[1], s.gotY[0])
			}
		}},
		{EF21HM, []float64{3, 2}, 1, -2, func(t *testing.T, s *script) {
			if !slices.Equal(s.gotZ[0], []float64{-3, -4}) || !slices.Equal(s.gotV[0], []float64{-3, -4}) {
				t.Fatalf("HM: HVP at %v along %v, want at x^1 = (−3, −4) along x^1 − x^0 = (−3, −4)", s.gotZ[0], s.gotV[0])
			}
		}},
		{EF21RHM, []float64{3, 2}, 1, -2, func(t *testing.T, s *script) {
			q := RHMUniform(9, 0, 0)
			if want := []float64{-3 * q, -4 * q}; !slices.Equal(s.gotZ[0], want) || !slices.Equal(s.gotV[0], []float64{-3, -4}) {
				t.Fatalf("RHM: HVP at %v along %v, want at %v along (−3, −4)", s.gotZ[0], s.gotV[0], want)
			}
			if !(q > 0 && q < 1) {
				t.Fatalf("q = %v", q)
			}
		}},
	} {
		s := &script{grads: [][]float64{{3, 4}, {1, -2}}, same: [][]float64{{2, 2}}, hv: [][]float64{{2, 2}}}
		p := Problem{Config: Config{Method: tc.method, Normalize: true, Eta: 0.5, Clients: 1, Dim: 2, Seed: 9},
			Compressors: []Compressor{NewTopK(1)}, Oracles: []Oracle{s.Grad}, Extras: []any{s},
			X0: []float64{0, 0}, Schedule: Schedule{Gamma: 5}, Iterations: 1}
		l, err := Reference(p, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.method, err)
		}
		if !slices.Equal(l.Server.X, []float64{-3, -4}) {
			t.Fatalf("%s: x^1 = %v, want (−3, −4)", tc.method, l.Server.X)
		}
		tc.checkPt(t, s)
		if !slices.Equal(l.Workers[0].V, tc.v) {
			t.Fatalf("%s: v = %v, want %v", tc.method, l.Workers[0].V, tc.v)
		}
		msg := l.Node.Aggregate()
		if !slices.Equal(msg.Idx, []int32{tc.msgIdx}) || !slices.Equal(msg.Val, []float64{tc.msgVal}) {
			t.Fatalf("%s: message %v %v, want {%d: %v}", tc.method, msg.Idx, msg.Val, tc.msgIdx, tc.msgVal)
		}
		wantG := []float64{3, 4}
		wantG[tc.msgIdx] += tc.msgVal
		if !slices.Equal(l.Workers[0].G, wantG) || !slices.Equal(l.Server.G, wantG) {
			t.Fatalf("%s: g_i = %v, g = %v, want %v", tc.method, l.Workers[0].G, l.Server.G, wantG)
		}
		if l.Workers[0].Bits != 32*3 {
			t.Fatalf("%s: bits %d, want 96 (2 values, then 1)", tc.method, l.Workers[0].Bits)
		}
		wantEvals := int64(1 + max(1, l.Node.Method.Traits().Evals))
		if got := l.Node.Evals(0); got != wantEvals {
			t.Fatalf("%s: %d gradient evaluations, want %d", tc.method, got, wantEvals)
		}
	}
}

// EControl by hand: one client, d = 2, top-1, η = ½, γ = ½, x^0 = 0, scripted
// gradients (3, 4) (initial), (1, −2) at x^0, (0, 0) at x^1:
//
//	h = (3, 4), e = 0
//	Δ = C(½·0 + (1,−2) − (3,4)) = C(−2, −6) = {1: −6}; e = (−2, 0); h = (3, −2); x^1 = −½h = (−1.5, 1)
//	Δ = C(½(−2,0) + 0 − (3,−2)) = C(−4, 2) = {0: −4}; e = (−1, 2); h = (−1, −2); x^2 = x^1 − ½h = (−1, 2)
func TestEControlHandWorked(t *testing.T) {
	s := &script{grads: [][]float64{{3, 4}, {1, -2}, {0, 0}}}
	p := Problem{Config: Config{Method: EControl, Eta: 0.5, Clients: 1, Dim: 2},
		Compressors: []Compressor{NewTopK(1)}, Oracles: []Oracle{s.Grad},
		X0: []float64{0, 0}, Schedule: Schedule{Gamma: 0.5}, Iterations: 2}
	var xs [][]float64
	l, err := Reference(p, func(k int, srv *Server, _ []*Worker) bool { xs = append(xs, slices.Clone(srv.X)); return true })
	if err != nil {
		t.Fatal(err)
	}
	st := l.Node.Clients[0].State()
	if !slices.Equal(xs[1], []float64{-1.5, 1}) || !slices.Equal(xs[2], []float64{-1, 2}) {
		t.Fatalf("x = %v, want x^1 = (−1.5, 1), x^2 = (−1, 2)", xs)
	}
	if !slices.Equal(s.gotX[1], []float64{0, 0}) || !slices.Equal(s.gotX[2], []float64{-1.5, 1}) {
		t.Fatalf("gradients at %v, want at x^0 and x^1", s.gotX)
	}
	if !slices.Equal(st.Vector("e_i"), []float64{-1, 2}) || !slices.Equal(st.Vector("h_i"), []float64{-1, -2}) {
		t.Fatalf("e = %v, h = %v; want (−1, 2), (−1, −2)", st.Vector("e_i"), st.Vector("h_i"))
	}
	if l.Workers[0].Bits != 32*4 {
		t.Fatalf("bits %d, want 128", l.Workers[0].Bits)
	}
}

// EControl with the identity and η = 1 is distributed GD. By hand, two
// clients f_i = ½‖x − b_i‖², b_1 = e_1, b_2 = e_2, γ = ½, x^0 = 0:
// x^1 = (¼, ¼), x^2 = (⅜, ⅜); then 20 more iterations against GD computed
// directly (x ← x − γ(x − b̄)).
func TestEControlIdentityIsGD(t *testing.T) {
	p := Problem{Config: Config{Method: EControl, Eta: 1, Clients: 2, Dim: 2},
		Compressors: mustCompressors(t, "identity", 0, 2, 2),
		Oracles:     []Oracle{quadratic([]float64{1, 0}), quadratic([]float64{0, 1})},
		X0:          []float64{0, 0}, Schedule: Schedule{Gamma: 0.5}, Iterations: 22}
	gd := []float64{0, 0}
	_, err := Reference(p, func(k int, s *Server, _ []*Worker) bool {
		switch k {
		case 1:
			if !slices.Equal(s.X, []float64{0.25, 0.25}) {
				t.Fatalf("x^1 = %v, want (¼, ¼)", s.X)
			}
		case 2:
			if !slices.Equal(s.X, []float64{0.375, 0.375}) {
				t.Fatalf("x^2 = %v, want (⅜, ⅜)", s.X)
			}
		}
		for j := range s.X {
			if math.Abs(s.X[j]-gd[j]) > 1e-15 {
				t.Fatalf("k=%d: x = %v, GD %v", k, s.X, gd)
			}
		}
		for j := range gd {
			gd[j] -= 0.5 * (gd[j] - 0.5)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
}

// With η = 1 every variant is ||EF21-SGD|| (ef21-sgdm with η = 1) bit for
// bit, on stochastic oracles with the same streams.
func TestMomentumVariantsEtaOneIsEF21SGD(t *testing.T) {
	const n, d, K = 3, 8, 40
	ref, err := Reference(sampledProblem(t, Config{Method: EF21SGDM, Normalize: true, Eta: 1}, n, d, K, "top-k"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{EF21IGT, EF21STORM, EF21HM, EF21RHM} {
		l, err := Reference(sampledProblem(t, Config{Method: m, Normalize: true, Eta: 1, Seed: 3}, n, d, K, "top-k"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(l.Server.X, ref.Server.X) || !slices.Equal(l.Server.G, ref.Server.G) {
			t.Fatalf("%s with η = 1: x = %v, ||EF21-SGD|| %v", m, l.Server.X, ref.Server.X)
		}
	}
}

// With exact gradients STORM's correction telescopes (v_i = ∇f_i(x) for every
// η), so ||EF21-STORM|| is ||EF21|| up to rounding; Hessian-corrected
// momentum (and its randomised form) likewise on a quadratic, whose Hessian
// is constant. On a quartic HM is not ||EF21|| (checked: the difference is
// large), so the comparison can fail.
func TestExactGradientsGiveEF21(t *testing.T) {
	const n, d, K = 3, 10, 60
	run := func(c Config, quad bool) []float64 {
		c.Clients, c.Dim = n, d
		r := rand.New(rand.NewPCG(4, 4))
		orcs, extras := make([]Oracle, n), make([]any, n)
		for i := range orcs {
			b := make([]float64, d)
			a := make([]float64, d)
			for j := range b {
				b[j], a[j] = r.NormFloat64(), 0.5+2*r.Float64()
			}
			if quad {
				// f_i = ½ Σ a_j (x_j − b_j)²: ∇ = a(x − b), ∇²v = a·v
				q := quadDiag{a, b}
				orcs[i], extras[i] = q.GradSameBatch, q
			} else {
				orcs[i], extras[i] = func(dst, x []float64) { quarticGrad(dst, x, b) }, quarticExtra{b}
			}
		}
		x0 := make([]float64, d)
		for j := range x0 {
			x0[j] = math.Cos(float64(j))
		}
		l, err := Reference(Problem{Config: c, Compressors: mustCompressors(t, "top-k", 3, d, n), Oracles: orcs, Extras: extras,
			X0: x0, Schedule: Schedule{Gamma: 0.2, Power: 0.5}, Iterations: K}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return l.Server.X
	}
	close := func(a, b []float64, tol float64) bool {
		for j := range a {
			if math.Abs(a[j]-b[j]) > tol {
				return false
			}
		}
		return true
	}
	for _, quad := range []bool{false, true} {
		ef21 := run(Config{Method: EF21, Normalize: true}, quad)
		storm := run(Config{Method: EF21STORM, Normalize: true, Eta: 0.2}, quad)
		if !close(storm, ef21, 1e-10) {
			t.Fatalf("quadratic=%v: STORM %v, ||EF21|| %v", quad, storm, ef21)
		}
		hm := run(Config{Method: EF21HM, Normalize: true, Eta: 0.2}, quad)
		rhm := run(Config{Method: EF21RHM, Normalize: true, Eta: 0.2, Seed: 2}, quad)
		if quad && (!close(hm, ef21, 1e-10) || !close(rhm, ef21, 1e-10)) {
			t.Fatalf("quadratic: HM %v, RHM %v, ||EF21|| %v", hm, rhm, ef21)
		}
		if !quad && close(hm, ef21, 1e-3) {
			t.Fatalf("quartic: HM %v equals ||EF21|| %v, but its Hessian is not constant", hm, ef21)
		}
	}
}

type quadDiag struct{ a, b []float64 }

func (q quadDiag) GradSameBatch(dst, y []float64) {
	for j := range y {
		dst[j] = q.a[j] * (y[j] - q.b[j])
	}
}
func (q quadDiag) HessVecSameBatch(dst, _, v []float64) {
	for j := range v {
		dst[j] = q.a[j] * v[j]
	}
}

// A method that needs a capability refuses an oracle without it, naming the
// method and what it needs.
func TestMissingCapability(t *testing.T) {
	for _, m := range []string{EF21STORM, EF21HM, EF21RHM} {
		p := caseProblem(t, Config{Method: m, Normalize: true, Eta: 0.5}, 2, 3, 1)
		p.Extras = nil
		_, err := NewLoop(p)
		if err == nil || !strings.Contains(err.Error(), m) || !strings.Contains(err.Error(), "needs") {
			t.Fatalf("%s without extras: %v", m, err)
		}
	}
	p := caseProblem(t, Config{Method: EF21IGT, Normalize: true, Eta: 0.5}, 2, 3, 1)
	p.Extras = nil
	if _, err := NewLoop(p); err != nil {
		t.Fatalf("IGT needs no extra oracle: %v", err)
	}
}

// The poly schedules: γ_t = γ0/(t+1)^p and η_t = η0(2/(t+2))^q, per
// iteration and per epoch, against direct evaluation.
func TestPolySchedules(t *testing.T) {
	s := Schedule{Gamma: 2, Power: 0.75}
	if got, want := s.At(15), 2/math.Pow(16, 0.75); got != want || s.At(0) != 2 {
		t.Fatalf("γ_15 = %v, want %v", got, want)
	}
	s.Every = 10
	if s.At(9) != 2 || s.At(10) != 2/math.Pow(2, 0.75) {
		t.Fatalf("per epoch: γ_9 = %v, γ_10 = %v", s.At(9), s.At(10))
	}
	e := EtaSchedule{Eta0: 1, Q: 0.5}
	if e.At(0) != 1 || math.Abs(e.At(2)-math.Sqrt(0.5)) > 1e-16 {
		t.Fatalf("η_0 = %v, η_2 = %v", e.At(0), e.At(2))
	}
	if (EtaSchedule{Eta0: 0.3}).At(100) != 0.3 {
		t.Fatal("constant η changed")
	}
	// ef21-sgdm with the schedule: v^1 = (1−η_0)v^0 + η_0∇ = ∇ with η_0 = 1
	w, _ := NewWorker(Config{Method: EF21SGDM, Eta: 1, EtaQ: 0.5, Clients: 1, Dim: 1}, NewTopK(1))
	w.Init([]float64{4})
	w.Client().(RoundSetter).SetRound(2) // η_2 = √½
	w.Step([]float64{0}, 0)
	if want := (1 - math.Sqrt(0.5)) * 4; math.Abs(w.V[0]-want) > 1e-15 {
		t.Fatalf("v = %v, want %v", w.V[0], want)
	}
}
