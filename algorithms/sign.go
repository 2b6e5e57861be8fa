package algorithms

import (
	"fmt"
	"slices"

	"github.com/efmpi/efmpi/sparse"
)

// signSGD with majority vote (Bernstein, Wang, Azizzadenesheli, Anandkumar
// 2018, "signSGD: Compressed Optimisation for Non-Convex Problems": signSGD
// and its momentum counterpart Signum for one worker, and "signSGD with
// majority vote" for n workers — the abstract's 1-bit compression "in both
// directions"; the paper's algorithm and theorem numbers could not be checked
// with the tools here, only its abstract), with momentum η ∈ (0, 1]
// (Signum's β = 1 − η; η = 1 is signSGD):
//
//	m_i^{k+1} = (1−η) m_i^k + η g̃_i(x^k),  m_i^0 = 0   (g̃_i: minibatch gradient, plus noise)
//	worker i sends s_i = sign(m_i^{k+1}): 1 bit per coordinate
//	server broadcasts S = sign(Σ_i s_i): 1 bit per coordinate
//	x^{k+1} = x^k − γ_k S
//
// Tie rule (the paper leaves sign(0) open; chosen here and tested): sign(0) =
// +1 on both sides, so every message really is one bit per coordinate. A
// worker coordinate with m_j = 0 votes +1; a vote Σ_i s_i = 0 (possible only
// for an even n) moves the coordinate by −γ, as a +1 would. With n = 1 the
// method is signSGD / Signum; with n odd and identical workers the vote is
// unanimous, so it equals signSGD on one worker bit for bit. A NaN votes −1
// (it fails m ≥ 0); the driver's finiteness check catches the run anyway.
//
// Step size: Bernstein et al.'s non-convex theorem for signSGD takes, as I
// recall it, a constant γ = 1/√(‖L⃗‖₁ K) with a coordinate-wise smoothness
// vector L⃗ that the problems here do not compute; not implemented, the
// constant and decreasing rules are the ones to use.
func init() {
	register(SignSGD, func(c Config) (Method, error) {
		if err := c.momentum(); err != nil {
			return nil, err
		}
		if c.Normalize {
			return nil, fmt.Errorf("method signsgd: normalize = true is meaningless (a sign step already has length γ√d)")
		}
		if c.InitCompressed {
			return nil, fmt.Errorf("method signsgd: init = compressed does not apply (no initial round)")
		}
		if err := c.fullParticipation(); err != nil {
			return nil, err
		}
		return &signSGD{cfg: c}, nil
	})
}

type signSGD struct{ cfg Config }

// Name implements Method.
func (m *signSGD) Name() string { return SignSGD }

// Traits implements Method: stochastic, no initial round, x moves in Apply.
func (m *signSGD) Traits() Traits { return Traits{Stochastic: true, MovesXInApply: true} }

// NewClient implements Method.
func (m *signSGD) NewClient(r int, _ Compressor) (Client, error) {
	if r < 0 || r >= m.cfg.Clients {
		return nil, fmt.Errorf("method signsgd: rank %d outside [0, %d)", r, m.cfg.Clients)
	}
	d := m.cfg.Dim
	c := &signClient{eta: m.cfg.Eta, m: make([]float64, d)}
	c.msg = sparse.Vector{Dim: d, Idx: make([]int32, 0, d), Val: make([]float64, 0, d)}
	return c, nil
}

// NewReplica implements Method.
func (m *signSGD) NewReplica(x0 []float64) (Replica, error) {
	if len(x0) != m.cfg.Dim {
		return nil, fmt.Errorf("initial point has %d coordinates, dimension is %d", len(x0), m.cfg.Dim)
	}
	return &signReplica{x: slices.Clone(x0)}, nil
}

// Sign1 is the one-bit sign: +1 for x ≥ 0 (zero included), −1 otherwise.
func Sign1(x float64) float64 {
	if x >= 0 {
		return 1
	}
	return -1
}

// signClient is the momentum m_i of one worker.
type signClient struct {
	eta  float64
	m    []float64
	msg  sparse.Vector
	bits int64
}

// Init implements Client: m_i^0 = 0, no message.
func (c *signClient) Init([]float64) *sparse.Vector {
	clear(c.m)
	return nil
}

// Step implements Client: m = (1−η)m + η·grad; send sign(m), d bits.
func (c *signClient) Step(grad []float64, _ float64) *sparse.Vector {
	d := len(grad)
	c.msg.Reset(d)
	eta := c.eta
	for j, x := range grad {
		if eta == 1 {
			c.m[j] = x
		} else {
			c.m[j] = (1-eta)*c.m[j] + eta*x
		}
		c.msg.Append(int32(j), Sign1(c.m[j]))
	}
	c.bits += int64(d)
	return &c.msg
}

// Bits implements Client: one bit per coordinate per message.
func (c *signClient) Bits() int64 { return c.bits }

// State implements Client.
func (c *signClient) State() State {
	return State{Vectors: []NamedVector{{"m_i", c.m}}, Bits: c.bits}
}

// Restore implements Client.
func (c *signClient) Restore(st State) error {
	if err := restoreInto("client", c.State(), st); err != nil {
		return err
	}
	c.bits = st.Bits
	return nil
}

// signReplica is x; the vote moves it.
type signReplica struct {
	x    []float64
	down int64
}

// X implements Replica.
func (s *signReplica) X() []float64 { return s.x }

// Estimator implements Replica: none.
func (s *signReplica) Estimator() []float64 { return nil }

// ApplyInit implements Replica: no initial round.
func (s *signReplica) ApplyInit(*sparse.Vector) {}

// Step implements Replica: x moves in Apply.
func (s *signReplica) Step(float64) error { return nil }

// Apply implements Replica: x −= γ·sign(Σ_i s_i), sign(0) = +1; the
// broadcast vote costs one bit per coordinate. A coordinate no message
// holds has vote 0 (it cannot happen with full participation).
func (s *signReplica) Apply(agg *sparse.Vector, gamma float64) {
	s.down += int64(len(s.x))
	j := 0
	for i := range s.x {
		v := 0.0
		if j < len(agg.Idx) && int(agg.Idx[j]) == i {
			v = agg.Val[j]
			j++
		}
		s.x[i] -= gamma * Sign1(v)
	}
}

// DownBits implements Replica.
func (s *signReplica) DownBits() int64 { return s.down }

// State implements Replica.
func (s *signReplica) State() State {
	return State{Vectors: []NamedVector{{"x", s.x}}, Bits: s.down}
}

// Restore implements Replica.
func (s *signReplica) Restore(st State) error {
	if err := restoreInto("replica", s.State(), st); err != nil {
		return err
	}
	s.down = st.Bits
	return nil
}
