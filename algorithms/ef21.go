package algorithms

import (
	"fmt"
	"slices"

	"github.com/efmpi/efmpi/sparse"
)

// EF21 (Richtárik, Sokolov, Fatkhullin 2021), ||EF21||, EF21-SGDM (Fatkhullin,
// Tyurin, Richtárik 2023) and ||EF21-SGDM|| (SPEC §3):
//
//	x^{k+1} = x^k − γ_k g^k            (or γ_k g^k/‖g^k‖)
//	v_i^{k+1} = (1−η) v_i^k + η ∇f_i(x^{k+1}; ξ)   (EF21-SGDM; v_i = ∇f_i(x^{k+1}) for EF21)
//	c_i^k = C(v_i^{k+1} − g_i^k); g_i^{k+1} = g_i^k + c_i^k
//	g^{k+1} = g^k + (1/n) Σ_i c_i^k
//
// With p < 1 (Config.Participation) EF21 is EF21-PP (Fatkhullin et al. 2021,
// "EF21 with bells & whistles", EF21-PP): the iteration core skips
// the clients outside the round's set, which keep g_i and send nothing.
func init() {
	register(EF21, func(c Config) (Method, error) { return newEF21(c, false) })
	register(EF21SGDM, func(c Config) (Method, error) {
		if err := c.momentum(); err != nil {
			return nil, err
		}
		if err := c.fullParticipation(); err != nil {
			return nil, err
		}
		return newEF21(c, true)
	})
}

// ef21 is the EF21 family (and, with weights, EF21-W).
type ef21 struct {
	cfg      Config
	momentum bool
	// scale[i] is s_i = 1/(n w_i) of EF21-W; nil for EF21.
	scale []float64
}

func newEF21(c Config, momentum bool) (*ef21, error) {
	if !(Participation{P: c.Participation}).Full() {
		// The identity's shortcut replaces g by the average of the messages,
		// which under partial participation would drop the absent clients'
		// g_i: send differences instead (C = identity, so c_i = ∇f_i − g_i).
		c.Absolute = false
	}
	return &ef21{cfg: c, momentum: momentum}, nil
}

// Name implements Method.
func (m *ef21) Name() string { return m.cfg.Method }

// Traits implements Method.
func (m *ef21) Traits() Traits {
	t := Traits{InitRound: true, Stochastic: m.momentum, Estimator: true}
	if m.momentum {
		t.DefaultQ = QHeavyBall
	}
	return t
}

// NewClient implements Method.
func (m *ef21) NewClient(r int, comp Compressor) (Client, error) {
	if r < 0 || r >= m.cfg.Clients {
		return nil, fmt.Errorf("method %s: rank %d outside [0, %d)", m.cfg.Method, r, m.cfg.Clients)
	}
	d := m.cfg.Dim
	c := &ef21Client{comp: comp, eta: m.cfg.Eta, momentum: m.momentum,
		sched:          EtaSchedule{Eta0: m.cfg.Eta, Q: m.cfg.EtaQ, Every: m.cfg.EtaEvery},
		initCompressed: m.cfg.InitCompressed, absolute: m.cfg.Absolute,
		g: make([]float64, d), scratch: make([]float64, d)}
	c.msg = sparse.Vector{Dim: d, Idx: make([]int32, 0, d), Val: make([]float64, 0, d)}
	if m.momentum {
		c.v = make([]float64, d)
	}
	if m.scale != nil && m.scale[r] != 1 {
		c.weighted, c.s, c.u = true, m.scale[r], 1/m.scale[r]
	}
	return c, nil
}

// NewReplica implements Method.
func (m *ef21) NewReplica(x0 []float64) (Replica, error) {
	if len(x0) != m.cfg.Dim {
		return nil, fmt.Errorf("initial point has %d coordinates, dimension is %d", len(x0), m.cfg.Dim)
	}
	return &estimatorReplica{n: float64(m.cfg.Clients), normalize: m.cfg.Normalize, blocks: m.cfg.Blocks, absolute: m.cfg.Absolute,
		x: slices.Clone(x0), g: make([]float64, m.cfg.Dim)}, nil
}

// ef21Client is g_i (and v_i) of one rank.
type ef21Client struct {
	comp                     Compressor
	eta                      float64
	sched                    EtaSchedule // eta_rule = "poly" when sched.Q > 0
	momentum                 bool
	initCompressed, absolute bool
	// EF21-W: the client tracks s·∇f_i with s = 1/(n w_i) and sends u·c with
	// u = n w_i, so that the server's g += (1/n)Σ u_i c_i is Σ_i w_i c_i.
	weighted bool
	s, u     float64
	g, v     []float64
	scratch  []float64
	msg      sparse.Vector
	bits     int64
}

// Init implements Client: g_i^0 = ∇f_i(x^0) (or C of it), v_i^0 = ∇f_i(x^0).
func (c *ef21Client) Init(grad []float64) *sparse.Vector {
	if c.momentum {
		copy(c.v, grad)
	}
	target := grad
	if c.weighted {
		for j, x := range grad {
			c.scratch[j] = c.s * x
		}
		target = c.scratch
	}
	if c.initCompressed {
		c.comp.Compress(&c.msg, target)
		c.msg.ToDense(c.g)
		c.bits += c.comp.Bits(&c.msg)
	} else {
		copy(c.g, target)
		c.msg.SetDense(target)
		c.bits += BitsPerValue * int64(len(grad))
	}
	c.rescale()
	return &c.msg
}

// SetRound implements RoundSetter: η_k of eta_rule = "poly" (issue 24).
func (c *ef21Client) SetRound(k int) {
	if c.momentum && c.sched.Q != 0 {
		c.eta = c.sched.At(k)
	}
}

// Step implements Client: c = C(v − g_i), g_i += c, with v the gradient or
// the momentum.
func (c *ef21Client) Step(grad []float64, _ float64) *sparse.Vector {
	target := grad
	if c.momentum {
		eta := c.eta
		for j, x := range grad {
			c.v[j] = (1-eta)*c.v[j] + eta*x
		}
		target = c.v
	}
	if c.absolute {
		if c.weighted {
			for j, x := range target {
				c.scratch[j] = c.s * x
			}
			target = c.scratch
		}
		copy(c.g, target)
		c.msg.SetDense(target)
		c.bits += c.comp.Bits(&c.msg)
		c.rescale()
		return &c.msg
	}
	if c.weighted {
		for j, x := range target {
			c.scratch[j] = c.s*x - c.g[j]
		}
	} else {
		for j, x := range target {
			c.scratch[j] = x - c.g[j]
		}
	}
	c.comp.Compress(&c.msg, c.scratch)
	c.msg.AddTo(c.g)
	c.bits += c.comp.Bits(&c.msg)
	c.rescale()
	return &c.msg
}

// rescale turns the EF21-W client's message c into u·c (same support, same
// bits).
func (c *ef21Client) rescale() {
	if !c.weighted {
		return
	}
	for j := range c.msg.Val {
		c.msg.Val[j] *= c.u
	}
}

// Bits implements Client.
func (c *ef21Client) Bits() int64 { return c.bits }

// State implements Client: g_i and, for the momentum methods, v_i.
func (c *ef21Client) State() State {
	st := State{Vectors: []NamedVector{{"g_i", c.g}}, Bits: c.bits}
	if c.momentum {
		st.Vectors = append(st.Vectors, NamedVector{"v_i", c.v})
	}
	return st
}

// Restore implements Client.
func (c *ef21Client) Restore(st State) error {
	if err := restoreInto("client", c.State(), st); err != nil {
		return err
	}
	c.bits = st.Bits
	return nil
}

// estimatorReplica is x and g of the EF21 family.
type estimatorReplica struct {
	n                   float64
	normalize, absolute bool
	blocks              []int // layer-wise normalisation's boundaries; nil: global
	x, g                []float64
	down                int64
}

// X implements Replica.
func (s *estimatorReplica) X() []float64 { return s.x }

// Estimator implements Replica.
func (s *estimatorReplica) Estimator() []float64 { return s.g }

// ApplyInit implements Replica: g^0 = agg/n.
func (s *estimatorReplica) ApplyInit(agg *sparse.Vector) {
	s.replace(agg)
	s.down += BitsPerValue * int64(agg.Len())
}

func (s *estimatorReplica) replace(agg *sparse.Vector) {
	clear(s.g)
	for j, i := range agg.Idx {
		s.g[i] = agg.Val[j] / s.n
	}
}

// Step implements Replica: x −= γ g, or x −= (γ/‖g‖) g, or layer-wise
// x_b −= (γ/‖g_b‖) g_b for every block b.
func (s *estimatorReplica) Step(gamma float64) error {
	if !s.normalize {
		for j, g := range s.g {
			s.x[j] -= gamma * g
		}
		return nil
	}
	if s.blocks != nil {
		return stepBlocks(s.x, s.g, s.blocks, gamma)
	}
	norm := Norm(s.g)
	if norm == 0 {
		return ErrZeroEstimator
	}
	scale := gamma / norm
	for j, g := range s.g {
		s.x[j] -= scale * g
	}
	return nil
}

// stepBlocks is the layer-wise normalised step x_b −= (γ/‖g_b‖) g_b over the
// blocks x[b[i]:b[i+1]], each norm summed in index order. A block whose g_b
// is zero stays where it is (the authors' code divides a tensor by its norm
// only when that is positive, so such a tensor moves by nothing there too);
// when all of g is zero it returns ErrZeroEstimator and leaves x alone, as
// the global step does.
func stepBlocks(x, g []float64, b []int, gamma float64) error {
	zero := true
	for _, v := range g {
		if v != 0 {
			zero = false
			break
		}
	}
	if zero {
		return ErrZeroEstimator
	}
	for i := 0; i+1 < len(b); i++ {
		gb := g[b[i]:b[i+1]]
		norm := Norm(gb)
		if norm == 0 {
			continue
		}
		scale := gamma / norm
		xb := x[b[i]:b[i+1]]
		for j, v := range gb {
			xb[j] -= scale * v
		}
	}
	return nil
}

// Apply implements Replica: g += agg/n (g = agg/n with the identity).
func (s *estimatorReplica) Apply(agg *sparse.Vector, _ float64) {
	s.down += BitsPerValue * int64(agg.Len())
	if s.absolute {
		s.replace(agg)
		return
	}
	for j, i := range agg.Idx {
		s.g[i] += agg.Val[j] / s.n
	}
}

// DownBits implements Replica.
func (s *estimatorReplica) DownBits() int64 { return s.down }

// State implements Replica.
func (s *estimatorReplica) State() State {
	return State{Vectors: []NamedVector{{"x", s.x}, {"g", s.g}}, Bits: s.down}
}

// Restore implements Replica.
func (s *estimatorReplica) Restore(st State) error {
	if err := restoreInto("replica", s.State(), st); err != nil {
		return err
	}
	s.down = st.Bits
	return nil
}
