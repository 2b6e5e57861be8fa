package algorithms

import (
	"fmt"
	"math"
	"strings"

	"github.com/efmpi/efmpi/sparse"
)

// Capability is an evaluation beyond "the gradient at the replica's x" that a
// method asks of its clients' oracles (issue 24). A method names what it needs
// in Traits.Needs; the driver offers each capability through an optional
// interface of the value it passes as a client's extra oracle
// (NodeConfig.Extras), in the manner of io.WriterTo, and never looks at the
// method's name.
type Capability uint8

// The capabilities.
const (
	// CapSameBatch: the gradient at another point on the minibatch of the
	// client's last gradient (SameBatchOracle).
	CapSameBatch Capability = 1 << iota
	// CapHessVec: a Hessian-vector product on the minibatch of the client's
	// last gradient (HessVecOracle).
	CapHessVec
)

// String names the capabilities in c.
func (c Capability) String() string {
	var s []string
	if c&CapSameBatch != 0 {
		s = append(s, "a second gradient on the same minibatch")
	}
	if c&CapHessVec != 0 {
		s = append(s, "Hessian-vector products")
	}
	if len(s) == 0 {
		return "nothing beyond gradients"
	}
	return strings.Join(s, " and ")
}

// SameBatchOracle is the extra oracle of CapSameBatch.
type SameBatchOracle interface {
	// GradSameBatch writes ∇f_i(y; ξ) into dst, ξ the minibatch of the
	// client's last gradient (the exact gradient for exact oracles). It draws
	// nothing from any random stream.
	GradSameBatch(dst, y []float64)
}

// HessVecOracle is the extra oracle of CapHessVec.
type HessVecOracle interface {
	// HessVecSameBatch writes ∇²f_i(z; ξ)·v into dst, ξ the minibatch of the
	// client's last gradient. It draws nothing from any random stream.
	HessVecSameBatch(dst, z, v []float64)
}

// Offers reports the capabilities extra provides.
func Offers(extra any) Capability {
	var c Capability
	if _, ok := extra.(SameBatchOracle); ok {
		c |= CapSameBatch
	}
	if _, ok := extra.(HessVecOracle); ok {
		c |= CapHessVec
	}
	return c
}

// Binder is a Client that takes its gradients itself: NewNode binds it to its
// rank's oracle and extra oracle, and Round calls StepAt instead of taking the
// gradient and calling Step. Init still receives the core's gradient at x^0.
type Binder interface {
	Client
	// Bind gives the client its gradient oracle and its extra oracle (nil when
	// the driver offers none); it reports a capability the method needs and
	// extra lacks.
	Bind(grad Oracle, extra any) error
	// StepAt performs round k at the replica's current x with step γ_k and
	// returns the message.
	StepAt(k int, x []float64, gamma float64) *sparse.Vector
}

// RoundSetter is a Client whose parameters change with the round (a
// momentum schedule): the core calls SetRound(k) before round k's Step.
type RoundSetter interface {
	SetRound(k int)
}

// needError is the error of a method that needs what an oracle lacks.
func needError(method string, missing Capability) error {
	return fmt.Errorf("method %s needs %s, which this problem's oracle does not provide", method, missing)
}

// EtaSchedule is the momentum schedule of issue 24: with Q = 0 the constant
// η = Eta0; with rule "poly" (Q > 0) η_t = Eta0·(2/(t+2))^Q, t = k/Every (the
// iteration, or the epoch with Every iterations per epoch). This is the
// schedule of the sequel's code (train.py, counted per epoch there).
type EtaSchedule struct {
	Eta0  float64
	Q     float64
	Every int
}

// At returns η_k.
func (s EtaSchedule) At(k int) float64 {
	if s.Q == 0 {
		return s.Eta0
	}
	t := k
	if s.Every > 1 {
		t = k / s.Every
	}
	return s.Eta0 * math.Pow(2/float64(t+2), s.Q)
}

// Default momentum exponents q of eta_rule = "poly" per kind of momentum, as
// the sequel's code (repro_training.py presets: q_exps 0.5, 0.57, 0.67, 0.67)
// and the issue give them: heavy-ball 1/2, IGT 4/7, STORM and Hessian-corrected
// 2/3. The code's presets are these fractions rounded to two digits; efmpi
// uses the fractions. The paper's theorems could not be read here.
const (
	QHeavyBall = 1.0 / 2
	QIGT       = 4.0 / 7
	QSTORM     = 2.0 / 3
	QHessian   = 2.0 / 3
)

// Starter is a Client that keeps a copy of a past iterate: the core calls
// SetStart(x^0) at the initial round.
type Starter interface {
	SetStart(x0 []float64)
}
