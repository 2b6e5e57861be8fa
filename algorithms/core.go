package algorithms

import (
	"errors"
	"fmt"

	"github.com/efmpi/efmpi/sparse"
)

// Exchanger carries one round's messages. It is the only thing that differs
// between the single-process reference loop (an in-memory sum over all n
// clients) and the distributed driver (a collective over the ranks).
type Exchanger interface {
	// Exchange takes the messages of the clients this node hosts, in rank
	// order (nil: the client sent nothing this round), and writes into agg
	// the sum of all n clients' messages in rank order (Aggregator's sum).
	Exchange(msgs []*sparse.Vector, agg *sparse.Vector) error
}

// XSyncer is an Exchanger whose ranks do not all replicate g (a dense
// downlink: only the root keeps g and steps, and x^{k+1} travels instead of
// the aggregate).
type XSyncer interface {
	Exchanger
	// Steps reports whether this node applies aggregates and steps itself.
	Steps() bool
	// SyncX is called after the step of every iteration with the stop
	// decision of the nodes that step; it makes x identical on every node
	// and returns the agreed decision.
	SyncX(x []float64, stop bool) (bool, error)
}

// Phase names a part of a round, for a Marker.
type Phase int

// The phases of a round, in the order a round passes through them.
const (
	PhaseStep        Phase = iota // the replica's step and the aggregate's application
	PhaseGradient                 // a client's gradient
	PhaseCompression              // a client's message
)

// Marker is an Exchanger that wants to be told when a phase ends (the
// driver's per-phase clocks). Communication is timed by Exchange itself.
type Marker interface {
	Mark(Phase)
}

// NodeConfig is what one process holds of a run: the method, the clients it
// hosts and their gradient oracles.
type NodeConfig struct {
	Method Method
	X0     []float64
	// Ranks are the hosted clients' ranks, increasing; Compressors and
	// Oracles are theirs, in the same order.
	Ranks       []int
	Compressors []Compressor
	Oracles     []Oracle
	// InitOracles, when set, give the gradients of the initial round (a
	// minibatch of init_batch); Oracles are used otherwise.
	InitOracles []Oracle
	// Extras, when set, are the hosted clients' extra oracles (capabilities,
	// capability.go), in the same order; a Binder client gets its own.
	Extras        []any
	Schedule      Schedule
	Participation Participation
}

// Node is the iteration core: one process's replica and hosted clients, and
// the one definition of the order of operations of a round that the
// reference loop and the distributed driver share:
//
//	init (methods with an initial round): every client sends Init(∇f_i(x^0));
//	      the replica installs the aggregate.
//	round k = 0, 1, …: x moves (Replica.Step, γ_k; the EF21 family);
//	      every client in the round's set takes its gradient at the replica's x
//	      and sends Step(∇f_i, γ_k); the rest send nothing;
//	      the replica applies the aggregate (Replica.Apply; EF14 and the sign
//	      methods move x here).
type Node struct {
	Method  Method
	Replica Replica
	Clients []Client
	cfg     NodeConfig
	traits  Traits
	grads   [][]float64 // by hosted client
	msgs    []*sparse.Vector
	agg     sparse.Vector
	// fresh[i]: grads[i] holds hosted client i's gradient at the current x.
	fresh []bool
	// evals[i]: hosted client i's gradient evaluations so far.
	evals []int64
}

// NewNode builds the replica and the hosted clients.
func NewNode(cfg NodeConfig) (*Node, error) {
	h := len(cfg.Ranks)
	if len(cfg.Compressors) != h || len(cfg.Oracles) != h || (cfg.InitOracles != nil && len(cfg.InitOracles) != h) ||
		(cfg.Extras != nil && len(cfg.Extras) != h) {
		return nil, fmt.Errorf("core: %d hosted clients but %d compressors and %d oracles", h, len(cfg.Compressors), len(cfg.Oracles))
	}
	rep, err := cfg.Method.NewReplica(cfg.X0)
	if err != nil {
		return nil, err
	}
	d := len(cfg.X0)
	nd := &Node{Method: cfg.Method, Replica: rep, Clients: make([]Client, h), cfg: cfg, traits: cfg.Method.Traits(),
		grads: make([][]float64, h), msgs: make([]*sparse.Vector, h), fresh: make([]bool, h), evals: make([]int64, h)}
	for i := range nd.grads {
		nd.grads[i] = make([]float64, d)
	}
	nd.agg = sparse.Vector{Dim: d, Idx: make([]int32, 0, d), Val: make([]float64, 0, d)}
	for i, r := range cfg.Ranks {
		if nd.Clients[i], err = cfg.Method.NewClient(r, cfg.Compressors[i]); err != nil {
			return nil, err
		}
		if b, ok := nd.Clients[i].(Binder); ok {
			var extra any
			if cfg.Extras != nil {
				extra = cfg.Extras[i]
			}
			if err := b.Bind(cfg.Oracles[i], extra); err != nil {
				return nil, fmt.Errorf("rank %d: %w", r, err)
			}
		}
	}
	return nd, nil
}

// Grad is hosted client i's gradient buffer: after a round, its gradient of
// the round if it took part.
func (nd *Node) Grad(i int) []float64 { return nd.grads[i] }

// GradAtX reports whether Grad(i) holds hosted client i's gradient at the
// current x (it took part in the round and x has not moved since), so a
// metric that needs that gradient can reuse it when the oracle is exact.
func (nd *Node) GradAtX(i int) bool { return nd.fresh[i] }

// Evals is hosted client i's number of gradient evaluations (gradients and
// Hessian-vector products, each on one minibatch) so far, the initial round's
// included.
func (nd *Node) Evals(i int) int64 { return nd.evals[i] }

// SetRounds sets the evaluation counters to what they are after the initial
// round and rounds 0, …, k−1 (a resumed run), from the participation sets.
func (nd *Node) SetRounds(k int) {
	for i, r := range nd.cfg.Ranks {
		n := int64(0)
		if nd.traits.InitRound {
			n = 1
		}
		if nd.cfg.Participation.Full() {
			n += int64(k) * nd.perRound()
		} else {
			for j := 0; j < k; j++ {
				if nd.cfg.Participation.In(j, r) {
					n += nd.perRound()
				}
			}
		}
		nd.evals[i] = n
	}
}

func (nd *Node) perRound() int64 { return int64(max(1, nd.traits.Evals)) }

// Aggregate is the last aggregate the node received.
func (nd *Node) Aggregate() *sparse.Vector { return &nd.agg }

func steps(ex Exchanger) bool {
	if s, ok := ex.(XSyncer); ok {
		return s.Steps()
	}
	return true
}

func mark(ex Exchanger, p Phase) {
	if m, ok := ex.(Marker); ok {
		m.Mark(p)
	}
}

// Init performs the initialisation round.
func (nd *Node) Init(ex Exchanger) error {
	x := nd.Replica.X()
	if !nd.traits.InitRound {
		for _, c := range nd.Clients {
			c.Init(nil)
		}
		clear(nd.fresh)
		mark(ex, PhaseStep)
		return nil
	}
	for i, c := range nd.Clients {
		orc := nd.cfg.Oracles[i]
		if nd.cfg.InitOracles != nil {
			orc = nd.cfg.InitOracles[i]
		}
		orc(nd.grads[i], x)
		nd.evals[i]++
		mark(ex, PhaseGradient)
		if st, ok := c.(Starter); ok {
			st.SetStart(x)
		}
		nd.msgs[i] = c.Init(nd.grads[i])
		mark(ex, PhaseCompression)
		nd.fresh[i] = true
	}
	if err := ex.Exchange(nd.msgs, &nd.agg); err != nil {
		return err
	}
	if steps(ex) {
		nd.Replica.ApplyInit(&nd.agg)
	}
	mark(ex, PhaseStep)
	return nil
}

// Round performs iteration k → k+1. It returns ErrZeroEstimator, before any
// client computes or sends, when a normalised method meets g = 0; errors of
// the exchanger are returned as they are.
func (nd *Node) Round(k int, ex Exchanger) error {
	gamma := nd.cfg.Schedule.At(k)
	st := steps(ex)
	stop := false
	if st {
		if err := nd.Replica.Step(gamma); errors.Is(err, ErrZeroEstimator) {
			stop = true
		} else if err != nil {
			return err
		}
	}
	if s, ok := ex.(XSyncer); ok {
		var err error
		if stop, err = s.SyncX(nd.Replica.X(), stop); err != nil {
			return err
		}
	}
	if stop {
		return ErrZeroEstimator
	}
	mark(ex, PhaseStep)
	x := nd.Replica.X()
	for i, c := range nd.Clients {
		nd.fresh[i] = false
		if !nd.cfg.Participation.In(k, nd.cfg.Ranks[i]) {
			nd.msgs[i] = nil
			continue
		}
		nd.evals[i] += nd.perRound()
		if b, ok := c.(Binder); ok {
			nd.msgs[i] = b.StepAt(k, x, gamma)
			mark(ex, PhaseCompression)
			continue
		}
		if rs, ok := c.(RoundSetter); ok {
			rs.SetRound(k)
		}
		nd.cfg.Oracles[i](nd.grads[i], x)
		mark(ex, PhaseGradient)
		nd.msgs[i] = c.Step(nd.grads[i], gamma)
		mark(ex, PhaseCompression)
		nd.fresh[i] = !nd.traits.MovesXInApply
	}
	if err := ex.Exchange(nd.msgs, &nd.agg); err != nil {
		return err
	}
	if st {
		nd.Replica.Apply(&nd.agg, gamma)
	}
	mark(ex, PhaseStep)
	return nil
}

// LocalExchanger is the in-memory exchanger of a node that hosts all n
// clients (the reference loop): the aggregate is the rank-order sum of the
// messages it is given.
type LocalExchanger struct {
	agg *Aggregator
}

// NewLocalExchanger returns the in-memory exchanger for dimension d.
func NewLocalExchanger(d int) *LocalExchanger { return &LocalExchanger{agg: NewAggregator(d)} }

// Exchange implements Exchanger.
func (e *LocalExchanger) Exchange(msgs []*sparse.Vector, agg *sparse.Vector) error {
	for r, m := range msgs {
		if err := e.agg.Add(r, m); err != nil {
			return err
		}
	}
	e.agg.Sum(agg)
	return nil
}
