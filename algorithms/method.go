package algorithms

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/efmpi/efmpi/sparse"
)

// Method names (SPEC §3). Normalisation, the compressor and the momentum are
// switches on these, so ||EF21-SGD|| (η = 1), ||SGDM|| (identity compressor), GD
// and normalised GD (EF21 / ||EF21|| with identity) are configurations, not code.
const (
	EF21     = "ef21"
	EF21SGDM = "ef21-sgdm"
	EF14     = "ef14"
)

// ErrZeroEstimator is returned by Step when a normalised method meets g = 0:
// every g_i agrees with a stationary point and the run stops.
var ErrZeroEstimator = errors.New("estimator g is zero: every client's estimator is at a stationary point")

// Config describes one method. It is shared by every rank.
type Config struct {
	Method    string // EF21, EF21SGDM or EF14
	Normalize bool   // the ||·|| variants
	// Eta is the momentum η ∈ (0, 1] of EF21-SGDM; ignored otherwise.
	Eta float64
	// InitCompressed sends g_i^0 = C(∇f_i(x^0)) instead of the uncompressed
	// gradient.
	InitCompressed bool
	// Clients is n, Dim is d.
	Clients, Dim int
	// Absolute is set for the identity compressor: clients send their new
	// estimator itself and the server replaces g by the average, which is the
	// same mathematics as g_i + (∇f_i − g_i) without its rounding, so EF21 with
	// the identity is GD bit for bit.
	Absolute bool
}

// Validate reports a configuration the methods cannot run.
func (c Config) Validate() error {
	switch c.Method {
	case EF21, EF14:
	case EF21SGDM:
		if !(c.Eta > 0 && c.Eta <= 1) {
			return fmt.Errorf("method %s: momentum eta = %v must be in (0, 1]", c.Method, c.Eta)
		}
	default:
		return fmt.Errorf("unknown method %q (want ef21, ef21-sgdm or ef14)", c.Method)
	}
	if c.Method == EF14 && c.Normalize {
		return fmt.Errorf("method ef14: normalize = true is not supported (SPEC §3 leaves the normalised EF14 undefined)")
	}
	if c.Clients < 1 {
		return fmt.Errorf("method %s: %d clients, need at least 1", c.Method, c.Clients)
	}
	if c.Dim < 1 {
		return fmt.Errorf("method %s: dimension %d, need at least 1", c.Method, c.Dim)
	}
	return nil
}

// Worker is the client half of a method on one rank: it keeps g_i (and v_i for
// momentum, e_i for EF14) and turns a local gradient into the message c_i.
// Nothing here allocates after NewWorker.
type Worker struct {
	cfg  Config
	comp Compressor
	// G is g_i, V is v_i (EF21-SGDM), E is e_i (EF14). Exported for checkpoints
	// and tests; the worker owns them.
	G, V, E []float64
	scratch []float64
	msg     sparse.Vector
	// Bits is the cumulative paper-convention cost of every message sent.
	Bits int64
}

// NewWorker returns the client half for cfg using comp.
func NewWorker(cfg Config, comp Compressor) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := cfg.Dim
	w := &Worker{cfg: cfg, comp: comp, G: make([]float64, d), scratch: make([]float64, d)}
	w.msg = sparse.Vector{Dim: d, Idx: make([]int32, 0, d), Val: make([]float64, 0, d)}
	switch cfg.Method {
	case EF21SGDM:
		w.V = make([]float64, d)
	case EF14:
		w.E = make([]float64, d)
	}
	return w, nil
}

// Init takes ∇f_i(x^0) (a minibatch gradient for EF21-SGDM) and returns the
// initial message, whose aggregate the server installs with ApplyInit. EF14 has
// no initial message: Init returns nil.
func (w *Worker) Init(grad []float64) *sparse.Vector {
	switch w.cfg.Method {
	case EF14:
		clear(w.E)
		return nil
	case EF21SGDM:
		copy(w.V, grad)
	}
	if w.cfg.InitCompressed {
		w.comp.Compress(&w.msg, grad)
		w.msg.ToDense(w.G)
		w.Bits += w.comp.Bits(&w.msg)
	} else {
		copy(w.G, grad)
		w.msg.SetDense(grad)
		w.Bits += BitsPerValue * int64(len(grad))
	}
	return &w.msg
}

// Step takes the rank's gradient for this iteration and returns c_i^k:
//   - EF21: grad = ∇f_i(x^{k+1}); c = C(grad − g_i); g_i += c.
//   - EF21-SGDM: grad = ∇f_i(x^{k+1}; ξ); v_i = (1−η)v_i + η·grad;
//     c = C(v_i − g_i); g_i += c.
//   - EF14: grad = ∇f_i(x^k), gamma = γ_k; p = e_i + γ·grad; c = C(p);
//     e_i = p − c.
//
// With the identity compressor (Config.Absolute) EF21 and EF21-SGDM send the
// new g_i itself. The returned vector is owned by the worker and valid until the
// next call.
func (w *Worker) Step(grad []float64, gamma float64) *sparse.Vector {
	target := grad
	switch w.cfg.Method {
	case EF21SGDM:
		eta := w.cfg.Eta
		for j, x := range grad {
			w.V[j] = (1-eta)*w.V[j] + eta*x
		}
		target = w.V
	case EF14:
		for j, x := range grad {
			w.scratch[j] = w.E[j] + gamma*x
		}
		w.comp.Compress(&w.msg, w.scratch)
		for j, i := range w.msg.Idx {
			w.scratch[i] -= w.msg.Val[j]
		}
		copy(w.E, w.scratch)
		w.Bits += w.comp.Bits(&w.msg)
		return &w.msg
	}
	if w.cfg.Absolute {
		copy(w.G, target)
		w.msg.SetDense(target)
		w.Bits += w.comp.Bits(&w.msg)
		return &w.msg
	}
	for j, x := range target {
		w.scratch[j] = x - w.G[j]
	}
	w.comp.Compress(&w.msg, w.scratch)
	w.msg.AddTo(w.G)
	w.Bits += w.comp.Bits(&w.msg)
	return &w.msg
}

// Server is the replicated half of a method: every rank holds one and applies
// the same aggregate, so X (x^k) and G (g^k) stay bitwise equal everywhere.
// Rank 0 additionally uses Aggregate to sum the gathered messages.
type Server struct {
	cfg Config
	// X is the iterate x^k and G the estimator g^k (unused by EF14).
	X, G []float64
	// aggregation scratch (rank 0)
	acc     []float64
	seen    []bool
	touched []int32
}

// NewServer returns the replicated state starting at x0 (copied).
func NewServer(cfg Config, x0 []float64) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(x0) != cfg.Dim {
		return nil, fmt.Errorf("initial point has %d coordinates, dimension is %d", len(x0), cfg.Dim)
	}
	d := cfg.Dim
	s := &Server{cfg: cfg, X: slices.Clone(x0), G: make([]float64, d),
		acc: make([]float64, d), seen: make([]bool, d), touched: make([]int32, 0, d)}
	return s, nil
}

// Aggregate sums the clients' messages in rank order 0, 1, …, n−1 into out:
// out[j] = m_0[j] + m_1[j] + … over the messages that hold index j, starting
// from the first such message's value. The fixed order makes the aggregate,
// and hence every replica, bitwise reproducible.
func (s *Server) Aggregate(msgs []sparse.Vector, out *sparse.Vector) error {
	if len(msgs) != s.cfg.Clients {
		return fmt.Errorf("aggregate: %d messages for %d clients", len(msgs), s.cfg.Clients)
	}
	d := s.cfg.Dim
	s.touched = s.touched[:0]
	for r := range msgs {
		m := &msgs[r]
		if m.Dim != d {
			return fmt.Errorf("aggregate: message from rank %d has dimension %d, want %d", r, m.Dim, d)
		}
		for j, i := range m.Idx {
			if int(i) < 0 || int(i) >= d {
				return fmt.Errorf("aggregate: message from rank %d has index %d outside [0, %d)", r, i, d)
			}
			if s.seen[i] {
				s.acc[i] += m.Val[j]
			} else {
				s.seen[i] = true
				s.acc[i] = m.Val[j]
				s.touched = append(s.touched, i)
			}
		}
	}
	out.Reset(d)
	if 8*len(s.touched) > d {
		for i, seen := range s.seen {
			if seen {
				out.Append(int32(i), s.acc[i])
				s.seen[i] = false
			}
		}
		return nil
	}
	slices.Sort(s.touched)
	for _, i := range s.touched {
		out.Append(i, s.acc[i])
		s.seen[i] = false
	}
	return nil
}

// ApplyInit installs the initial estimator g^0 = (1/n) Σ_i g_i^0 from the
// aggregate of the Init messages.
func (s *Server) ApplyInit(agg *sparse.Vector) {
	clear(s.G)
	n := float64(s.cfg.Clients)
	for j, i := range agg.Idx {
		s.G[i] = agg.Val[j] / n
	}
}

// Apply installs the aggregate of one round of Step messages:
//   - EF21 family: g += agg/n (g = agg/n with the identity compressor);
//   - EF14: x −= agg/n.
func (s *Server) Apply(agg *sparse.Vector) {
	n := float64(s.cfg.Clients)
	switch {
	case s.cfg.Method == EF14:
		for j, i := range agg.Idx {
			s.X[i] -= agg.Val[j] / n
		}
	case s.cfg.Absolute:
		s.ApplyInit(agg)
	default:
		for j, i := range agg.Idx {
			s.G[i] += agg.Val[j] / n
		}
	}
}

// Step moves the iterate of the EF21 family: x −= γ·g, or x −= (γ/‖g‖)·g for
// the normalised variants, which returns ErrZeroEstimator (and leaves x alone)
// when g = 0. EF14 moves x in Apply; Step is a no-op for it.
func (s *Server) Step(gamma float64) error {
	if s.cfg.Method == EF14 {
		return nil
	}
	if !s.cfg.Normalize {
		for j, g := range s.G {
			s.X[j] -= gamma * g
		}
		return nil
	}
	norm := Norm(s.G)
	if norm == 0 {
		return ErrZeroEstimator
	}
	scale := gamma / norm
	for j, g := range s.G {
		s.X[j] -= scale * g
	}
	return nil
}

// Norm is the Euclidean norm, summed in index order (the same bits on every
// rank).
func Norm(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}
