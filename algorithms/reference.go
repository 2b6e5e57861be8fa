package algorithms

import (
	"fmt"

	"github.com/efmpi/efmpi/sparse"
)

// Oracle writes one client's gradient at x into dst: ∇f_i(x) for the
// deterministic methods, a minibatch gradient drawn from the client's own stream
// for EF21-SGDM.
type Oracle func(dst, x []float64)

// Problem is everything a run of a method needs besides communication.
type Problem struct {
	Config      Config
	Compressors []Compressor // one per client, in rank order
	Oracles     []Oracle     // one per client, in rank order
	X0          []float64
	Schedule    Schedule
	Iterations  int // K
}

// Observer is called with the state after initialisation (k = 0) and after
// every iteration k = 1, …, K. Returning false stops the run.
type Observer func(k int, s *Server, workers []*Worker) bool

// Loop runs the method with all n clients in one goroutine, passing messages by
// hand in rank order. It is the executable definition of an iteration that the
// distributed driver must reproduce bit for bit:
//
//	init:  g_i^0 from Init(∇f_i(x^0)); g^0 = (1/n) Σ g_i^0
//	EF21 family, k = 0..K−1: x^{k+1} = x^k − γ_k g^k (/‖g^k‖);
//	       c_i = Step(∇f_i(x^{k+1})); g^{k+1} = g^k + (1/n) Σ c_i
//	EF14, k = 0..K−1: c_i = Step(∇f_i(x^k), γ_k); x^{k+1} = x^k − (1/n) Σ c_i
type Loop struct {
	p       Problem
	Server  *Server
	Workers []*Worker
	// K is the number of iterations done.
	K    int
	grad []float64
	msgs []sparse.Vector
	agg  sparse.Vector
}

// NewLoop builds the state and performs the initialisation round (k = 0).
func NewLoop(p Problem) (*Loop, error) {
	n := p.Config.Clients
	if len(p.Compressors) != n || len(p.Oracles) != n {
		return nil, fmt.Errorf("reference: %d clients but %d compressors and %d oracles", n, len(p.Compressors), len(p.Oracles))
	}
	srv, err := NewServer(p.Config, p.X0)
	if err != nil {
		return nil, err
	}
	l := &Loop{p: p, Server: srv, Workers: make([]*Worker, n), grad: make([]float64, p.Config.Dim), msgs: make([]sparse.Vector, n)}
	for i := range l.Workers {
		if l.Workers[i], err = NewWorker(p.Config, p.Compressors[i]); err != nil {
			return nil, err
		}
	}
	if p.Config.Method == EF14 {
		for _, w := range l.Workers {
			w.Init(nil)
		}
		return l, nil
	}
	for i, w := range l.Workers {
		p.Oracles[i](l.grad, srv.X)
		l.msgs[i].CopyFrom(w.Init(l.grad))
	}
	if err := srv.Aggregate(l.msgs, &l.agg); err != nil {
		return nil, err
	}
	srv.ApplyInit(&l.agg)
	return l, nil
}

// Iterate performs iteration k → k+1. It returns ErrZeroEstimator, leaving the
// state unchanged, when a normalised method meets g = 0.
func (l *Loop) Iterate() error {
	gamma := l.p.Schedule.At(l.K)
	if err := l.Server.Step(gamma); err != nil {
		return err
	}
	for i, w := range l.Workers {
		l.p.Oracles[i](l.grad, l.Server.X)
		l.msgs[i].CopyFrom(w.Step(l.grad, gamma))
	}
	if err := l.Server.Aggregate(l.msgs, &l.agg); err != nil {
		return err
	}
	l.Server.Apply(&l.agg)
	l.K++
	return nil
}

// Reference runs p for its configured iterations, calling observe after the
// initialisation (k = 0) and after every iteration; observe returning false
// stops the run. It returns the loop and ErrZeroEstimator if a normalised
// method stopped on g = 0.
func Reference(p Problem, observe Observer) (*Loop, error) {
	l, err := NewLoop(p)
	if err != nil {
		return nil, err
	}
	if observe != nil && !observe(0, l.Server, l.Workers) {
		return l, nil
	}
	for l.K < p.Iterations {
		if err := l.Iterate(); err != nil {
			return l, err
		}
		if observe != nil && !observe(l.K, l.Server, l.Workers) {
			return l, nil
		}
	}
	return l, nil
}
