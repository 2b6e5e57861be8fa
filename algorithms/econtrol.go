package algorithms

import (
	"fmt"
	"slices"

	"github.com/efmpi/efmpi/sparse"
)

// EControl (Gao, Islamov, Stich 2023, arXiv 2311.05645), as the sequel's code
// has it (gen_sgd.py, branch ECONTROL): e_i^0 = 0, h_i^0 = ∇f_i(x^0; ξ) sent
// uncompressed, and in round k, with the gradient ∇f_i(x^k; ξ) at the current x:
//
//	Δ_i = C(η e_i + ∇f_i(x^k; ξ) − h_i)
//	e_i ← e_i + ∇f_i(x^k; ξ) − h_i − Δ_i
//	h_i ← h_i + Δ_i;  send Δ_i
//	h ← h + (1/n) Σ_i Δ_i;  x^{k+1} = x^k − γ_k h    (no normalisation)
//
// The server keeps h = (1/n) Σ_i h_i (the estimator of ∇f). In the code the
// first call both sets h_i = ∇f_i(x^0; ξ) and steps with it, on one minibatch;
// here the initial round sends h_i^0 and round 0 draws its own minibatch at
// x^0 (with exact gradients Δ_i^0 = C(0) = 0 and the two agree). The paper's
// own statement of the algorithm could not be read here; the definition is the
// code's and the issue's. With the identity compressor and η = 1, Δ_i =
// ∇f_i(x^k) − h_i, e_i stays 0 and h_i = ∇f_i(x^k): distributed gradient
// descent.
func init() {
	register(EControl, func(c Config) (Method, error) {
		if err := c.momentum(); err != nil {
			return nil, err
		}
		if err := c.fullParticipation(); err != nil {
			return nil, err
		}
		if c.Normalize {
			return nil, fmt.Errorf("method econtrol: normalize = true is not supported (EControl steps with h unnormalised)")
		}
		if c.EtaQ != 0 {
			return nil, fmt.Errorf("method econtrol: eta_rule = \"poly\" is not defined for EControl (its η is a constant of the error control)")
		}
		return &econtrol{cfg: c}, nil
	})
}

// EControl is the method name of EControl.
const EControl = "econtrol"

type econtrol struct{ cfg Config }

// Name implements Method.
func (m *econtrol) Name() string { return EControl }

// Traits implements Method: an initial round, minibatches, an estimator h,
// and x moves when the aggregate is applied.
func (m *econtrol) Traits() Traits {
	return Traits{InitRound: true, Stochastic: true, Estimator: true, MovesXInApply: true}
}

// NewClient implements Method.
func (m *econtrol) NewClient(r int, comp Compressor) (Client, error) {
	if r < 0 || r >= m.cfg.Clients {
		return nil, fmt.Errorf("method econtrol: rank %d outside [0, %d)", r, m.cfg.Clients)
	}
	d := m.cfg.Dim
	c := &econtrolClient{comp: comp, eta: m.cfg.Eta, initCompressed: m.cfg.InitCompressed,
		e: make([]float64, d), h: make([]float64, d), scratch: make([]float64, d)}
	c.msg = sparse.Vector{Dim: d, Idx: make([]int32, 0, d), Val: make([]float64, 0, d)}
	return c, nil
}

// NewReplica implements Method.
func (m *econtrol) NewReplica(x0 []float64) (Replica, error) {
	if len(x0) != m.cfg.Dim {
		return nil, fmt.Errorf("initial point has %d coordinates, dimension is %d", len(x0), m.cfg.Dim)
	}
	return &econtrolReplica{n: float64(m.cfg.Clients), x: slices.Clone(x0), h: make([]float64, m.cfg.Dim)}, nil
}

// econtrolClient is e_i and h_i of one rank.
type econtrolClient struct {
	comp           Compressor
	eta            float64
	initCompressed bool
	e, h, scratch  []float64
	msg            sparse.Vector
	bits           int64
}

// Init implements Client: e_i = 0, h_i = ∇f_i(x^0; ξ) (or C of it with init =
// "compressed"), sent.
func (c *econtrolClient) Init(grad []float64) *sparse.Vector {
	clear(c.e)
	if c.initCompressed {
		c.comp.Compress(&c.msg, grad)
		c.msg.ToDense(c.h)
		c.bits += c.comp.Bits(&c.msg)
	} else {
		copy(c.h, grad)
		c.msg.SetDense(grad)
		c.bits += BitsPerValue * int64(len(grad))
	}
	return &c.msg
}

// Step implements Client: Δ = C(η e + ∇ − h); e += ∇ − h − Δ; h += Δ.
func (c *econtrolClient) Step(grad []float64, _ float64) *sparse.Vector {
	for j, gj := range grad {
		c.scratch[j] = c.eta*c.e[j] + gj - c.h[j]
	}
	c.comp.Compress(&c.msg, c.scratch)
	for j, gj := range grad {
		c.e[j] += gj - c.h[j]
	}
	for j, i := range c.msg.Idx {
		c.e[i] -= c.msg.Val[j]
	}
	c.msg.AddTo(c.h)
	c.bits += c.comp.Bits(&c.msg)
	return &c.msg
}

// Bits implements Client.
func (c *econtrolClient) Bits() int64 { return c.bits }

// State implements Client.
func (c *econtrolClient) State() State {
	return State{Vectors: []NamedVector{{"e_i", c.e}, {"h_i", c.h}}, Bits: c.bits}
}

// Restore implements Client.
func (c *econtrolClient) Restore(st State) error {
	if err := restoreInto("client", c.State(), st); err != nil {
		return err
	}
	c.bits = st.Bits
	return nil
}

// econtrolReplica is x and h = (1/n) Σ h_i.
type econtrolReplica struct {
	n    float64
	x, h []float64
	down int64
}

// X implements Replica.
func (s *econtrolReplica) X() []float64 { return s.x }

// Estimator implements Replica: h.
func (s *econtrolReplica) Estimator() []float64 { return s.h }

// ApplyInit implements Replica: h = agg/n.
func (s *econtrolReplica) ApplyInit(agg *sparse.Vector) {
	s.down += BitsPerValue * int64(agg.Len())
	clear(s.h)
	for j, i := range agg.Idx {
		s.h[i] = agg.Val[j] / s.n
	}
}

// Step implements Replica: EControl moves x in Apply.
func (s *econtrolReplica) Step(float64) error { return nil }

// Apply implements Replica: h += agg/n; x −= γ h.
func (s *econtrolReplica) Apply(agg *sparse.Vector, gamma float64) {
	s.down += BitsPerValue * int64(agg.Len())
	for j, i := range agg.Idx {
		s.h[i] += agg.Val[j] / s.n
	}
	for j, h := range s.h {
		s.x[j] -= gamma * h
	}
}

// DownBits implements Replica.
func (s *econtrolReplica) DownBits() int64 { return s.down }

// State implements Replica.
func (s *econtrolReplica) State() State {
	return State{Vectors: []NamedVector{{"x", s.x}, {"h", s.h}}, Bits: s.down}
}

// Restore implements Replica.
func (s *econtrolReplica) Restore(st State) error {
	if err := restoreInto("replica", s.State(), st); err != nil {
		return err
	}
	s.down = st.Bits
	return nil
}
