package algorithms

import (
	"fmt"

	"github.com/efmpi/efmpi/sparse"
)

// Worker is the client half of a method on one rank, as a concrete type: a
// thin view of the method's Client that exposes its vectors and bit counter
// for callers written before the Method interface (prefer Node and
// Client.State/Restore).
type Worker struct {
	c Client
	// G is g_i, V is v_i (momentum), E is e_i (EF14): views of the client's
	// state (G is all zeros for methods without g_i).
	G, V, E []float64
	// Bits is the cumulative paper-convention cost of every message sent
	// through this Worker (or, inside a Loop, by its client).
	Bits int64
}

// NewWorker returns the client half of rank 0's method for cfg using comp.
// Methods whose clients differ by rank (EF21-W) need NewWorkerRank.
func NewWorker(cfg Config, comp Compressor) (*Worker, error) { return NewWorkerRank(cfg, 0, comp) }

// NewWorkerRank returns the client half of rank r.
func NewWorkerRank(cfg Config, r int, comp Compressor) (*Worker, error) {
	m, err := New(cfg)
	if err != nil {
		return nil, err
	}
	c, err := m.NewClient(r, comp)
	if err != nil {
		return nil, err
	}
	return workerOf(c, cfg.Dim), nil
}

func workerOf(c Client, d int) *Worker {
	st := c.State()
	w := &Worker{c: c, G: st.Vector("g_i"), V: st.Vector("v_i"), E: st.Vector("e_i")}
	if w.G == nil {
		w.G = make([]float64, d)
	}
	return w
}

// Client is the method's client behind w.
func (w *Worker) Client() Client { return w.c }

// Init takes ∇f_i(x^0) (a minibatch gradient for the stochastic methods) and
// returns the initial message, whose aggregate the server installs with
// ApplyInit; nil for methods without an initial round (EF14).
func (w *Worker) Init(grad []float64) *sparse.Vector {
	b := w.c.Bits()
	m := w.c.Init(grad)
	w.Bits += w.c.Bits() - b
	return m
}

// Step takes the rank's gradient for this iteration and returns its message
// (Client.Step):
//   - EF21: grad = ∇f_i(x^{k+1}); c = C(grad − g_i); g_i += c.
//   - EF21-SGDM: grad = ∇f_i(x^{k+1}; ξ); v_i = (1−η)v_i + η·grad;
//     c = C(v_i − g_i); g_i += c.
//   - EF14: grad = ∇f_i(x^k), gamma = γ_k; p = e_i + γ·grad; c = C(p);
//     e_i = p − c.
func (w *Worker) Step(grad []float64, gamma float64) *sparse.Vector {
	b := w.c.Bits()
	m := w.c.Step(grad, gamma)
	w.Bits += w.c.Bits() - b
	return m
}

// Server is the replicated half of a method as a concrete type: a thin view
// of the method's Replica (X, G) plus the rank-order aggregation of rank 0.
type Server struct {
	r Replica
	// X is the iterate x^k and G the estimator g^k (all zeros for methods
	// without one): views of the replica's state.
	X, G []float64
	agg  *Aggregator
	n    int
}

// NewServer returns the replicated state starting at x0 (copied).
func NewServer(cfg Config, x0 []float64) (*Server, error) {
	m, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if len(x0) != cfg.Dim {
		return nil, fmt.Errorf("initial point has %d coordinates, dimension is %d", len(x0), cfg.Dim)
	}
	r, err := m.NewReplica(x0)
	if err != nil {
		return nil, err
	}
	return serverOf(r, cfg.Clients, cfg.Dim), nil
}

func serverOf(r Replica, n, d int) *Server {
	s := &Server{r: r, X: r.X(), G: r.Estimator(), agg: NewAggregator(d), n: n}
	if s.G == nil {
		s.G = make([]float64, d)
	}
	return s
}

// Replica is the method's replica behind s.
func (s *Server) Replica() Replica { return s.r }

// Aggregate sums the clients' messages in rank order 0, 1, …, n−1 into out
// (Aggregator).
func (s *Server) Aggregate(msgs []sparse.Vector, out *sparse.Vector) error {
	if len(msgs) != s.n {
		return fmt.Errorf("aggregate: %d messages for %d clients", len(msgs), s.n)
	}
	return s.agg.Aggregate(msgs, out)
}

// ApplyInit installs the initial estimator g^0 = (1/n) Σ_i g_i^0 from the
// aggregate of the Init messages.
func (s *Server) ApplyInit(agg *sparse.Vector) { s.r.ApplyInit(agg) }

// Apply installs the aggregate of one round of Step messages:
//   - EF21 family: g += agg/n (g = agg/n with the identity compressor);
//   - EF14: x −= agg/n.
//
// Methods whose Apply needs γ_k (the sign methods) need ApplyStep.
func (s *Server) Apply(agg *sparse.Vector) { s.r.Apply(agg, 0) }

// ApplyStep is Apply with the iteration's γ_k.
func (s *Server) ApplyStep(agg *sparse.Vector, gamma float64) { s.r.Apply(agg, gamma) }

// Step moves the iterate of the EF21 family: x −= γ·g, or x −= (γ/‖g‖)·g for
// the normalised variants, which returns ErrZeroEstimator (and leaves x alone)
// when g = 0. EF14 moves x in Apply; Step is a no-op for it.
func (s *Server) Step(gamma float64) error { return s.r.Step(gamma) }
