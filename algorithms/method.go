package algorithms

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/efmpi/efmpi/sparse"
)

// Method names (SPEC §3 and issue 16). Normalisation, the compressor, the
// momentum and the participation probability are switches on these, so
// ||EF21-SGD|| (η = 1), ||SGDM|| (identity compressor), GD and normalised GD
// (EF21 / ||EF21|| with identity), ||EF21-W||, EF21-PP (EF21 with p < 1) and
// signSGD with majority vote (signsgd with n > 1) and Signum (signsgd with η < 1) are configurations, not code.
const (
	EF21     = "ef21"
	EF21SGDM = "ef21-sgdm"
	EF14     = "ef14"
	EF21W    = "ef21-w"
	SignSGD  = "signsgd"
)

// ErrZeroEstimator is returned by Step when a normalised method meets g = 0:
// every g_i agrees with a stationary point and the run stops.
var ErrZeroEstimator = errors.New("estimator g is zero: every client's estimator is at a stationary point")

// Config describes one method. It is shared by every rank.
type Config struct {
	Method    string // one of the method names above
	Normalize bool   // the ||·|| variants
	// Eta is the momentum η ∈ (0, 1] of EF21-SGDM and of the sign methods
	// (Signum's β is 1 − η); ignored otherwise.
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
	// Smoothness holds the clients' constants L_i in rank order; EF21-W
	// derives its weights w_i = L_i / Σ_j L_j from them.
	Smoothness []float64
	// Participation is the probability p ∈ (0, 1] with which each client takes
	// part in an iteration (EF21-PP); 0 means 1. ParticipationSeed names the
	// shared stream the participating sets are drawn from.
	Participation     float64
	ParticipationSeed uint64
	// EtaQ > 0 makes η a schedule (eta_rule = "poly", issue 24): η_k =
	// Eta·(2/(t+2))^EtaQ with t = k/EtaEvery (EtaEvery ≤ 1: per iteration).
	EtaQ     float64
	EtaEvery int
	// Seed names the stateless random draws of a method (ef21-rhm's q).
	Seed uint64
	// Blocks, with Normalize, makes the normalisation layer-wise
	// (normalize = "layer"): the increasing boundaries of the blocks, block b
	// being x[Blocks[b]:Blocks[b+1]] from 0 to Dim, each normalised by its
	// own norm. Nil: one block, the whole vector.
	Blocks []int
}

// Validate reports a configuration the methods cannot run.
func (c Config) Validate() error {
	_, err := New(c)
	return err
}

// common checks what every method needs.
func (c Config) common() error {
	if c.Clients < 1 {
		return fmt.Errorf("method %s: %d clients, need at least 1", c.Method, c.Clients)
	}
	if c.Dim < 1 {
		return fmt.Errorf("method %s: dimension %d, need at least 1", c.Method, c.Dim)
	}
	if p := c.Participation; p != 0 && !(p > 0 && p <= 1) {
		return fmt.Errorf("method %s: participation p = %v must be in (0, 1]", c.Method, p)
	}
	return c.checkBlocks()
}

// fullParticipation rejects p < 1 for the methods whose partial-participation
// variant no paper here defines.
func (c Config) fullParticipation() error {
	if c.Participation != 0 && c.Participation != 1 {
		return fmt.Errorf("method %s: participation = %v is only defined for ef21 and ef21-w (EF21-PP)", c.Method, c.Participation)
	}
	return nil
}

// momentum checks η ∈ (0, 1].
func (c Config) momentum() error {
	if !(c.Eta > 0 && c.Eta <= 1) {
		return fmt.Errorf("method %s: momentum eta = %v must be in (0, 1]", c.Method, c.Eta)
	}
	return nil
}

// Method is one distributed method, in the manner of gonum/optimize's Method:
// it only makes the two halves that hold state. A Client runs on each rank
// and turns the rank's gradient into a message; a Replica is held by every
// rank and applies the aggregate of the messages, so x (and g) stay bitwise
// equal everywhere. Neither does I/O: the iteration core (Node.Round) passes
// the messages, which is the etcd-io/raft lesson of a pure step over messages.
//
// Adding a method is one file: a type implementing Method, Client and
// Replica, and a call to register in that file's init.
type Method interface {
	// Name is the config name.
	Name() string
	// Traits says how the iteration core drives the method.
	Traits() Traits
	// NewClient returns the client half of rank r using its compressor.
	NewClient(r int, comp Compressor) (Client, error)
	// NewReplica returns the replicated half starting at x0 (copied).
	NewReplica(x0 []float64) (Replica, error)
}

// Traits describe a method to the iteration core and the driver.
type Traits struct {
	// InitRound: the clients send an initial message at x^0 (g_i^0).
	InitRound bool
	// Stochastic: the clients' gradients are minibatches (and heavy-tailed
	// noise, where configured, is added to them).
	Stochastic bool
	// Estimator: the replica keeps g^k ≈ ∇f(x^k), so ‖g − ∇f‖² is a metric.
	Estimator bool
	// MovesXInApply: x changes when the aggregate is applied, so a gradient
	// taken during the round is not at the new x.
	MovesXInApply bool
	// Needs are the oracle capabilities beyond the gradient at x that the
	// clients ask for (issue 24); the driver must offer them.
	Needs Capability
	// Evals is the number of gradient evaluations (gradients and
	// Hessian-vector products) a client makes per round; 0 means 1.
	Evals int
	// DefaultQ is the exponent of eta_rule = "poly" when none is configured
	// (0: the method has no default).
	DefaultQ float64
}

// Client is the half of a method that runs on one rank. Its vectors are its
// own; the messages it returns are owned by it and valid until the next call.
type Client interface {
	// Init takes the rank's gradient at x^0 and returns the initial message,
	// or nil when the method has no initial round.
	Init(grad []float64) *sparse.Vector
	// Step takes the rank's gradient for iteration k (at the point the method
	// defines) and γ_k, and returns the message of the iteration.
	Step(grad []float64, gamma float64) *sparse.Vector
	// Bits is the cumulative paper-convention cost of every message sent.
	Bits() int64
	// State returns the client's state for a checkpoint. The vectors are views
	// of the live state, to be copied before the client steps again.
	State() State
	// Restore installs a state taken from a client of the same configuration.
	Restore(State) error
}

// Replica is the replicated half of a method: every rank holds one and applies
// the same aggregate in the same order.
type Replica interface {
	// X is the iterate x^k (a view of the live state).
	X() []float64
	// Estimator is g^k, or nil when the method keeps none.
	Estimator() []float64
	// ApplyInit installs the aggregate of the initial messages.
	ApplyInit(agg *sparse.Vector)
	// Step moves x before the clients' gradients of iteration k are taken
	// (the EF21 family). It returns ErrZeroEstimator, leaving x alone, when a
	// normalised method meets g = 0.
	Step(gamma float64) error
	// Apply installs the aggregate of iteration k's messages.
	Apply(agg *sparse.Vector, gamma float64)
	// DownBits is the cumulative paper-convention cost of the aggregates the
	// server broadcast (the downlink), per receiving worker.
	DownBits() int64
	// State and Restore are the replica's checkpoint, as for Client.
	State() State
	Restore(State) error
}

// State is a method half's checkpoint: named vectors (views) and the bit
// counter. Names are stable: they are part of the checkpoint format.
type State struct {
	Vectors []NamedVector
	Bits    int64
}

// NamedVector is one vector of a State.
type NamedVector struct {
	Name   string
	Values []float64
}

// Vector returns the values of the vector called name, or nil.
func (s State) Vector(name string) []float64 {
	for _, v := range s.Vectors {
		if v.Name == name {
			return v.Values
		}
	}
	return nil
}

// restoreInto copies the vectors of src into the same-named vectors of dst,
// checking names and lengths.
func restoreInto(what string, dst, src State) error {
	if len(dst.Vectors) != len(src.Vectors) {
		return fmt.Errorf("%s state: %d vectors, want %d", what, len(src.Vectors), len(dst.Vectors))
	}
	for _, d := range dst.Vectors {
		s := src.Vector(d.Name)
		if len(s) != len(d.Values) {
			return fmt.Errorf("%s state: %s has %d values, want %d", what, d.Name, len(s), len(d.Values))
		}
	}
	for _, d := range dst.Vectors {
		copy(d.Values, src.Vector(d.Name))
	}
	return nil
}

// factories is the method registry, written only by the init functions of
// the method files.
var factories = map[string]func(Config) (Method, error){}

// register adds a method; called from init.
func register(name string, f func(Config) (Method, error)) {
	if _, dup := factories[name]; dup {
		panic("algorithms: method " + name + " registered twice")
	}
	factories[name] = f
}

// Methods lists the registered method names, sorted.
func Methods() []string {
	names := make([]string, 0, len(factories))
	for n := range factories {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// New returns the method cfg names, after checking cfg.
func New(cfg Config) (Method, error) {
	f, ok := factories[cfg.Method]
	if !ok {
		return nil, fmt.Errorf("unknown method %q (want %s)", cfg.Method, strings.Join(Methods(), ", "))
	}
	if err := cfg.common(); err != nil {
		return nil, err
	}
	return f(cfg)
}

// checkBlocks reports blocks that do not cut [0, Dim) into nonempty pieces.
func (c Config) checkBlocks() error {
	b := c.Blocks
	if b == nil {
		return nil
	}
	if !c.Normalize {
		return fmt.Errorf("method %s: blocks are the layer-wise normalisation, which needs normalize", c.Method)
	}
	if len(b) < 2 || b[0] != 0 || b[len(b)-1] != c.Dim {
		return fmt.Errorf("method %s: blocks %v must run from 0 to the dimension %d", c.Method, b, c.Dim)
	}
	for i := 1; i < len(b); i++ {
		if b[i] <= b[i-1] {
			return fmt.Errorf("method %s: block boundaries must increase (%d after %d)", c.Method, b[i], b[i-1])
		}
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
