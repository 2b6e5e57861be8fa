package algorithms

import (
	"slices"
	"testing"
)

// methodCases are configurations of every registered method, for the tests
// that must hold for all of them.
func methodCases(n int) map[string]Config {
	li := make([]float64, n)
	for i := range li {
		li[i] = float64(1 + i*i)
	}
	return map[string]Config{
		"ef21":        {Method: EF21},
		"||ef21||":    {Method: EF21, Normalize: true},
		"ef21-sgdm":   {Method: EF21SGDM, Normalize: true, Eta: 0.3},
		"ef14":        {Method: EF14},
		"ef21-w":      {Method: EF21W, Smoothness: li},
		"||ef21-w||":  {Method: EF21W, Normalize: true, Smoothness: li},
		"ef21-pp":     {Method: EF21, Participation: 0.4, ParticipationSeed: 8},
		"signsgd":     {Method: SignSGD, Eta: 1},
		"signum":      {Method: SignSGD, Eta: 0.2},
		"ef21-w-pp":   {Method: EF21W, Smoothness: li, Participation: 0.6, ParticipationSeed: 2},
		"ef21 init c": {Method: EF21, InitCompressed: true},
		// issue 24's methods (their extra oracles: caseProblem's Extras)
		"ef21-igt":       {Method: EF21IGT, Normalize: true, Eta: 0.3},
		"ef21-storm":     {Method: EF21STORM, Normalize: true, Eta: 0.3},
		"ef21-hm":        {Method: EF21HM, Normalize: true, Eta: 0.3},
		"ef21-rhm":       {Method: EF21RHM, Normalize: true, Eta: 0.3, Seed: 5},
		"ef21-hm poly":   {Method: EF21HM, Normalize: true, Eta: 1, EtaQ: QHessian, EtaEvery: 3},
		"ef21-sgdm poly": {Method: EF21SGDM, Normalize: true, Eta: 1, EtaQ: QHeavyBall},
		"econtrol":       {Method: EControl, Eta: 0.3},
	}
}

func caseProblem(t testing.TB, c Config, n, d, K int) Problem {
	c.Clients, c.Dim = n, d
	oracles, bs := randomQuartics(n, d, 17)
	x0 := make([]float64, d)
	for j := range x0 {
		x0[j] = 0.5 * float64(j%4-1)
	}
	return Problem{Config: c, Compressors: mustCompressors(t, "top-k", 2, d, n), Oracles: oracles, Extras: quarticExtras(bs), X0: x0,
		Schedule: Schedule{Gamma: 0.02, Decreasing: true}, Iterations: K}
}

// snapshot copies every state of the loop.
func snapshot(l *Loop) (Replica State, clients []State) {
	cp := func(s State) State {
		o := State{Bits: s.Bits}
		for _, v := range s.Vectors {
			o.Vectors = append(o.Vectors, NamedVector{v.Name, slices.Clone(v.Values)})
		}
		return o
	}
	Replica = cp(l.Node.Replica.State())
	for _, c := range l.Node.Clients {
		clients = append(clients, cp(c.State()))
	}
	return
}

// Every method resumes bit for bit from State/Restore: 12 iterations straight
// equal 5 iterations, a restore into a fresh loop, and 7 more.
func TestStateRestoreBitwiseEveryMethod(t *testing.T) {
	const n, d = 3, 9
	for name, c := range methodCases(n) {
		straight, err := Reference(caseProblem(t, c, n, d, 12), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		first, err := Reference(caseProblem(t, c, n, d, 5), nil)
		if err != nil {
			t.Fatal(err)
		}
		rs, cs := snapshot(first)
		second, err := NewLoop(caseProblem(t, c, n, d, 12))
		if err != nil {
			t.Fatal(err)
		}
		if err := second.Node.Replica.Restore(rs); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i, cl := range second.Node.Clients {
			if err := cl.Restore(cs[i]); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		second.K = first.K
		for second.K < 12 {
			if err := second.Iterate(); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(straight.Server.X, second.Server.X) || !slices.Equal(straight.Server.G, second.Server.G) {
			t.Fatalf("%s: resumed run differs:\n%v\n%v", name, straight.Server.X, second.Server.X)
		}
		for i := range straight.Workers {
			if straight.Workers[i].Bits != second.Workers[i].Bits {
				t.Fatalf("%s: bits of client %d: %d vs %d", name, i, straight.Workers[i].Bits, second.Workers[i].Bits)
			}
		}
		if straight.Node.Replica.DownBits() != second.Node.Replica.DownBits() {
			t.Fatalf("%s: downlink bits differ", name)
		}
		// a state of the wrong shape is refused
		bad := State{Vectors: []NamedVector{{"x", make([]float64, d+1)}}}
		if second.Node.Replica.Restore(bad) == nil || second.Node.Clients[0].Restore(bad) == nil {
			t.Fatalf("%s: restore accepted a malformed state", name)
		}
	}
}

// Same configuration and seed, same bits: two runs of every method agree.
func TestEveryMethodDeterministic(t *testing.T) {
	const n, d = 4, 7
	for name, c := range methodCases(n) {
		a, err := Reference(caseProblem(t, c, n, d, 25), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := Reference(caseProblem(t, c, n, d, 25), nil)
		if !slices.Equal(a.Server.X, b.Server.X) {
			t.Fatalf("%s: two runs differ", name)
		}
	}
}

// One node per rank, each over an exchanger that sums the other nodes'
// messages as a collective would, reproduces the reference loop bit for bit
// for every method: the distributed shape of the same core.
func TestNodesPerRankMatchReference(t *testing.T) {
	const n, d, K = 3, 6, 15
	for name, c := range methodCases(n) {
		p := caseProblem(t, c, n, d, K)
		ref, err := Reference(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		p = caseProblem(t, c, n, d, K)
		m, _ := New(p.Config)
		nodes := make([]*Node, n)
		for r := range nodes {
			nodes[r], err = NewNode(NodeConfig{Method: m, X0: p.X0, Ranks: []int{r}, Compressors: p.Compressors[r : r+1],
				Oracles: p.Oracles[r : r+1], Extras: p.Extras[r : r+1], Schedule: p.Schedule,
				Participation: Participation{P: p.Config.Participation, Seed: p.Config.ParticipationSeed}})
			if err != nil {
				t.Fatal(err)
			}
		}
		// lock-step: every node runs its half of the round up to Exchange,
		// the messages are summed, then every node finishes.
		w := &lockstep{nodes: nodes, agg: NewAggregator(d)}
		if err := w.run(func(nd *Node, ex Exchanger) error { return nd.Init(ex) }); err != nil {
			t.Fatal(err)
		}
		for k := 0; k < K; k++ {
			if err := w.run(func(nd *Node, ex Exchanger) error { return nd.Round(k, ex) }); err != nil {
				t.Fatal(err)
			}
		}
		for r, nd := range nodes {
			if !slices.Equal(nd.Replica.X(), ref.Server.X) {
				t.Fatalf("%s: rank %d x differs from the reference", name, r)
			}
		}
	}
}
