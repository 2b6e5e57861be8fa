package algorithms

import (
	"fmt"
	"slices"

	"github.com/efmpi/efmpi/sparse"
)

// EF14, classic error feedback (Seide et al. 2014; Stich, Cordonnier, Jaggi
// 2018), SPEC §3:
//
//	e_i^0 = 0; p_i^k = e_i^k + γ_k ∇f_i(x^k); c_i^k = C(p_i^k); e_i^{k+1} = p_i^k − c_i^k
//	x^{k+1} = x^k − (1/n) Σ_i c_i^k
//
// The normalised EF14 is left undefined by SPEC §3 and rejected.
func init() {
	register(EF14, func(c Config) (Method, error) {
		if c.Normalize {
			return nil, fmt.Errorf("method ef14: normalize = true is not supported (SPEC §3 leaves the normalised EF14 undefined)")
		}
		if err := c.fullParticipation(); err != nil {
			return nil, err
		}
		return &ef14{cfg: c}, nil
	})
}

type ef14 struct{ cfg Config }

// Name implements Method.
func (m *ef14) Name() string { return EF14 }

// Traits implements Method: no initial round, x moves in Apply.
func (m *ef14) Traits() Traits { return Traits{MovesXInApply: true} }

// NewClient implements Method.
func (m *ef14) NewClient(r int, comp Compressor) (Client, error) {
	if r < 0 || r >= m.cfg.Clients {
		return nil, fmt.Errorf("method ef14: rank %d outside [0, %d)", r, m.cfg.Clients)
	}
	d := m.cfg.Dim
	c := &ef14Client{comp: comp, e: make([]float64, d), scratch: make([]float64, d)}
	c.msg = sparse.Vector{Dim: d, Idx: make([]int32, 0, d), Val: make([]float64, 0, d)}
	return c, nil
}

// NewReplica implements Method.
func (m *ef14) NewReplica(x0 []float64) (Replica, error) {
	if len(x0) != m.cfg.Dim {
		return nil, fmt.Errorf("initial point has %d coordinates, dimension is %d", len(x0), m.cfg.Dim)
	}
	return &ef14Replica{n: float64(m.cfg.Clients), x: slices.Clone(x0)}, nil
}

// ef14Client is e_i of one rank.
type ef14Client struct {
	comp    Compressor
	e       []float64
	scratch []float64
	msg     sparse.Vector
	bits    int64
}

// Init implements Client: e_i^0 = 0, no message.
func (c *ef14Client) Init([]float64) *sparse.Vector {
	clear(c.e)
	return nil
}

// Step implements Client: grad = ∇f_i(x^k); p = e_i + γ·grad; c = C(p); e_i = p − c.
func (c *ef14Client) Step(grad []float64, gamma float64) *sparse.Vector {
	for j, x := range grad {
		c.scratch[j] = c.e[j] + gamma*x
	}
	c.comp.Compress(&c.msg, c.scratch)
	for j, i := range c.msg.Idx {
		c.scratch[i] -= c.msg.Val[j]
	}
	copy(c.e, c.scratch)
	c.bits += c.comp.Bits(&c.msg)
	return &c.msg
}

// Bits implements Client.
func (c *ef14Client) Bits() int64 { return c.bits }

// State implements Client.
func (c *ef14Client) State() State {
	return State{Vectors: []NamedVector{{"e_i", c.e}}, Bits: c.bits}
}

// Restore implements Client.
func (c *ef14Client) Restore(st State) error {
	if err := restoreInto("client", c.State(), st); err != nil {
		return err
	}
	c.bits = st.Bits
	return nil
}

// ef14Replica is x alone.
type ef14Replica struct {
	n    float64
	x    []float64
	down int64
}

// X implements Replica.
func (s *ef14Replica) X() []float64 { return s.x }

// Estimator implements Replica: EF14 keeps none.
func (s *ef14Replica) Estimator() []float64 { return nil }

// ApplyInit implements Replica: EF14 has no initial round.
func (s *ef14Replica) ApplyInit(*sparse.Vector) {}

// Step implements Replica: EF14 moves x in Apply.
func (s *ef14Replica) Step(float64) error { return nil }

// Apply implements Replica: x −= agg/n.
func (s *ef14Replica) Apply(agg *sparse.Vector, _ float64) {
	s.down += BitsPerValue * int64(agg.Len())
	for j, i := range agg.Idx {
		s.x[i] -= agg.Val[j] / s.n
	}
}

// DownBits implements Replica.
func (s *ef14Replica) DownBits() int64 { return s.down }

// State implements Replica.
func (s *ef14Replica) State() State {
	return State{Vectors: []NamedVector{{"x", s.x}}, Bits: s.down}
}

// Restore implements Replica.
func (s *ef14Replica) Restore(st State) error {
	if err := restoreInto("replica", s.State(), st); err != nil {
		return err
	}
	s.down = st.Bits
	return nil
}
