package algorithms

import (
	"fmt"
)

// Oracle writes one client's gradient at x into dst: ∇f_i(x) for the
// deterministic methods, a minibatch gradient drawn from the client's own stream
// for the stochastic ones.
type Oracle func(dst, x []float64)

// Problem is everything a run of a method needs besides communication.
type Problem struct {
	Config      Config
	Compressors []Compressor // one per client, in rank order
	Oracles     []Oracle     // one per client, in rank order
	// Extras are the clients' extra oracles (capability.go), or nil.
	Extras     []any
	X0         []float64
	Schedule   Schedule
	Iterations int // K
}

// Observer is called with the state after initialisation (k = 0) and after
// every iteration k = 1, …, K. Returning false stops the run.
type Observer func(k int, s *Server, workers []*Worker) bool

// Loop runs the method with all n clients in one goroutine: a Node hosting
// every client over the in-memory LocalExchanger. The order of operations of
// an iteration is Node.Round's, the same code the distributed driver runs.
type Loop struct {
	p Problem
	// Node is the iteration core; Server and Workers are views of its
	// replica and clients.
	Node    *Node
	Server  *Server
	Workers []*Worker
	// K is the number of iterations done.
	K  int
	ex *LocalExchanger
}

// NewLoop builds the state and performs the initialisation round (k = 0).
func NewLoop(p Problem) (*Loop, error) {
	n := p.Config.Clients
	if len(p.Compressors) != n || len(p.Oracles) != n {
		return nil, fmt.Errorf("reference: %d clients but %d compressors and %d oracles", n, len(p.Compressors), len(p.Oracles))
	}
	m, err := New(p.Config)
	if err != nil {
		return nil, err
	}
	if len(p.X0) != p.Config.Dim {
		return nil, fmt.Errorf("initial point has %d coordinates, dimension is %d", len(p.X0), p.Config.Dim)
	}
	ranks := make([]int, n)
	for i := range ranks {
		ranks[i] = i
	}
	nd, err := NewNode(NodeConfig{Method: m, X0: p.X0, Ranks: ranks, Compressors: p.Compressors, Oracles: p.Oracles, Extras: p.Extras,
		Schedule: p.Schedule, Participation: Participation{P: p.Config.Participation, Seed: p.Config.ParticipationSeed}})
	if err != nil {
		return nil, err
	}
	l := &Loop{p: p, Node: nd, Server: serverOf(nd.Replica, n, p.Config.Dim), Workers: make([]*Worker, n), ex: NewLocalExchanger(p.Config.Dim)}
	for i, c := range nd.Clients {
		l.Workers[i] = workerOf(c, p.Config.Dim)
	}
	if err := nd.Init(l.ex); err != nil {
		return nil, err
	}
	l.sync()
	return l, nil
}

// sync brings the Workers' bit counters up to date.
func (l *Loop) sync() {
	for i, w := range l.Workers {
		w.Bits = l.Node.Clients[i].Bits()
	}
}

// Iterate performs iteration k → k+1. It returns ErrZeroEstimator, leaving the
// state unchanged, when a normalised method meets g = 0.
func (l *Loop) Iterate() error {
	if err := l.Node.Round(l.K, l.ex); err != nil {
		return err
	}
	l.K++
	l.sync()
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
