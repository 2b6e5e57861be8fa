package algorithms

import (
	"fmt"
	"slices"

	"github.com/efmpi/efmpi/sparse"
)

// momentumRule is what distinguishes the momentum variants of normalised EF21
// of the sequel (Sadiev, Demidovich, Sokolov, Malinovsky, Khirirat, Richtárik
// 2025, arXiv 2511.14501): how v_i moves. Each variant is one file
// (ef21igt.go, ef21storm.go, ef21hm.go, ef21rhm.go) that registers a rule;
// this file is the EF21 part they share:
//
//	x^{k+1} = x^k − γ_k g^k/‖g^k‖        (the shared estimatorReplica)
//	v_i^{k+1} = rule(v_i^k, x^{k+1}, x^k)  (the variant)
//	c_i = C(v_i^{k+1} − g_i^k); g_i^{k+1} = g_i^k + c_i; send c_i
//
// and g_i^0 = v_i^0 = the first (uncompressed) stochastic gradient, as in
// the code's gen_sgd.py (EF21_*_NORM branches, "first visit").
type momentumRule struct {
	name  string
	needs Capability
	// evals is the number of gradient evaluations (gradients and
	// Hessian-vector products) per round.
	evals int
	// q is the default exponent of eta_rule = "poly".
	q float64
	// update computes c.v for round k at x = x^{k+1} (c.prev = x^k), with
	// momentum eta; it takes its gradients through c.grad and c.extra.
	update func(c *momentumClient, k int, x []float64, eta float64)
}

// registerMomentum registers a variant: it needs η ∈ (0, 1] and full
// participation.
func registerMomentum(r momentumRule) {
	register(r.name, func(c Config) (Method, error) {
		if err := c.momentum(); err != nil {
			return nil, err
		}
		if err := c.fullParticipation(); err != nil {
			return nil, err
		}
		c.Absolute = false // the messages are always differences
		return &momentumMethod{cfg: c, rule: r}, nil
	})
}

type momentumMethod struct {
	cfg  Config
	rule momentumRule
}

// Name implements Method.
func (m *momentumMethod) Name() string { return m.rule.name }

// Traits implements Method.
func (m *momentumMethod) Traits() Traits {
	return Traits{InitRound: true, Stochastic: true, Estimator: true,
		Needs: m.rule.needs, Evals: m.rule.evals, DefaultQ: m.rule.q}
}

// NewClient implements Method.
func (m *momentumMethod) NewClient(r int, comp Compressor) (Client, error) {
	if r < 0 || r >= m.cfg.Clients {
		return nil, fmt.Errorf("method %s: rank %d outside [0, %d)", m.rule.name, r, m.cfg.Clients)
	}
	d := m.cfg.Dim
	c := &momentumClient{rule: &m.rule, comp: comp, rank: r, seed: m.cfg.Seed,
		eta:            EtaSchedule{Eta0: m.cfg.Eta, Q: m.cfg.EtaQ, Every: m.cfg.EtaEvery},
		initCompressed: m.cfg.InitCompressed,
		g:              make([]float64, d), v: make([]float64, d), prev: make([]float64, d),
		a: make([]float64, d), b: make([]float64, d), hv: make([]float64, d), scratch: make([]float64, d)}
	c.msg = sparse.Vector{Dim: d, Idx: make([]int32, 0, d), Val: make([]float64, 0, d)}
	return c, nil
}

// NewReplica implements Method: x and g, normalised or not, as EF21's.
func (m *momentumMethod) NewReplica(x0 []float64) (Replica, error) {
	if len(x0) != m.cfg.Dim {
		return nil, fmt.Errorf("initial point has %d coordinates, dimension is %d", len(x0), m.cfg.Dim)
	}
	return &estimatorReplica{n: float64(m.cfg.Clients), normalize: m.cfg.Normalize, blocks: m.cfg.Blocks,
		x: slices.Clone(x0), g: make([]float64, m.cfg.Dim)}, nil
}

// momentumClient is g_i, v_i and x^k (prev) of one rank.
type momentumClient struct {
	rule           *momentumRule
	comp           Compressor
	rank           int
	seed           uint64
	eta            EtaSchedule
	initCompressed bool
	grad           Oracle
	same           SameBatchOracle
	hvp            HessVecOracle
	g, v, prev     []float64
	a, b, hv       []float64 // work vectors of the rules
	scratch        []float64
	msg            sparse.Vector
	bits           int64
}

// Bind implements Binder.
func (c *momentumClient) Bind(grad Oracle, extra any) error {
	if miss := c.rule.needs &^ Offers(extra); miss != 0 {
		return needError(c.rule.name, miss)
	}
	c.grad = grad
	c.same, _ = extra.(SameBatchOracle)
	c.hvp, _ = extra.(HessVecOracle)
	return nil
}

// Init implements Client: g_i^0 = v_i^0 = ∇f_i(x^0; ξ), sent uncompressed (or
// C of it with init = "compressed", v_i^0 still the gradient). The core hands
// Init only the gradient; x^0 arrives by SetStart.
func (c *momentumClient) Init(grad []float64) *sparse.Vector {
	copy(c.v, grad)
	if c.initCompressed {
		c.comp.Compress(&c.msg, grad)
		c.msg.ToDense(c.g)
		c.bits += c.comp.Bits(&c.msg)
	} else {
		copy(c.g, grad)
		c.msg.SetDense(grad)
		c.bits += BitsPerValue * int64(len(grad))
	}
	return &c.msg
}

// SetStart implements Starter: prev = x^0.
func (c *momentumClient) SetStart(x0 []float64) { copy(c.prev, x0) }

// StepAt implements Binder: v by the rule at x = x^{k+1}, then EF21's
// compressed difference; prev becomes x^{k+1}.
func (c *momentumClient) StepAt(k int, x []float64, _ float64) *sparse.Vector {
	c.rule.update(c, k, x, c.eta.At(k))
	for j, v := range c.v {
		c.scratch[j] = v - c.g[j]
	}
	c.comp.Compress(&c.msg, c.scratch)
	c.msg.AddTo(c.g)
	c.bits += c.comp.Bits(&c.msg)
	copy(c.prev, x)
	return &c.msg
}

// Step implements Client; the core calls StepAt instead (the client takes its
// own gradients), so Step is only reached without Bind.
func (c *momentumClient) Step([]float64, float64) *sparse.Vector {
	panic("algorithms: method " + c.rule.name + ": Step without Bind (the iteration core binds it)")
}

// Bits implements Client.
func (c *momentumClient) Bits() int64 { return c.bits }

// State implements Client: g_i, v_i and x^k.
func (c *momentumClient) State() State {
	return State{Vectors: []NamedVector{{"g_i", c.g}, {"v_i", c.v}, {"x_prev", c.prev}}, Bits: c.bits}
}

// Restore implements Client.
func (c *momentumClient) Restore(st State) error {
	if err := restoreInto("client", c.State(), st); err != nil {
		return err
	}
	c.bits = st.Bits
	return nil
}

// correct is the STORM and Hessian-corrected update shared by three rules:
// v ← (1−η)(v + corr) + η·grad, corr and grad given.
func (c *momentumClient) correct(grad, corr []float64, eta float64) {
	for j, gj := range grad {
		c.v[j] = (1-eta)*(c.v[j]+corr[j]) + eta*gj
	}
}
