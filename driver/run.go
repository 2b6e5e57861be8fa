package driver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/wire"
	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/problems"
	"github.com/efmpi/efmpi/rng"
	"github.com/efmpi/efmpi/sparse"
)

// Run statuses recorded in the HDF5 file (SPEC §6).
const (
	StatusRunning     = "running"
	StatusCompleted   = "completed"
	StatusTolerance   = "stopped-tolerance"
	StatusDiverged    = "diverged"
	StatusFailed      = "failed"
	StatusInterrupted = "interrupted"
)

// Progress is what rank 0 reports every few seconds.
type Progress struct {
	Iteration, Iterations int
	F, GradNormSq         float64
	BitsPerWorker         int64
	ItPerSec              float64
	ETA                   time.Duration
}

// Options are the parts of a run that are not the experiment itself.
type Options struct {
	// Attrs are extra root attributes for the HDF5 file (config text,
	// transport, launcher, version…); rank 0 only.
	Attrs []hdf5io.Attr
	// Start describes this start of the run (launcher, hosts, Slurm ids,
	// binary, command line…; rank 0 only): written to the root attributes,
	// replacing those of an earlier start when the run is resumed, and to
	// the start's own segment /segments/<n> (hdf5io.BeginSegment) with
	// start_iteration, started_at and transport; at the end the segment
	// gets end_iteration, finished_at, status and stop_reason.
	Start []hdf5io.Attr
	// Hosts[r] names the host of rank r for /ranks (rank 0 only; may be nil).
	Hosts []string
	// Progress is called on rank 0 at most every ProgressEvery (default 2 s).
	Progress      func(Progress)
	ProgressEvery time.Duration
	// OnRecorder, if set, is called on rank 0 once the output file is open
	// with a function that records a status and stop_reason in it and
	// flushes it (or, with final, closes it), safe to call from another
	// goroutine until the run closes the file (later calls do nothing). It
	// is meant for a watchdog that must leave a truthful file behind when
	// the main thread is stuck in a collective and the process is about to
	// be killed (the MPI transport); the run's own end overwrites what a
	// non-final mark wrote. After a final mark the process must exit.
	OnRecorder func(mark func(status, reason string, final bool))
}

// Result is how a rank's run ended.
type Result struct {
	Status     string
	Reason     string // why it stopped, in words
	Iterations int    // iterations done
	Rows       int    // trajectory rows written (rank 0)
	X          []float64
	G          []float64
	Timing     Timing
	// ImagesPerSec is, for a network, the training images of every rank
	// (iterations × ranks × batch) per second of the rounds (rank 0's
	// gradient, compression, communication and step time: metric rows and
	// recording excluded); 0 otherwise.
	ImagesPerSec float64
	// CheckpointErr is set when a stop signal asked for a checkpoint and
	// writing it failed: the run cannot be resumed from this point.
	CheckpointErr error
}

// Timing is rank 0's wall time per phase, in seconds.
type Timing struct {
	Setup, Gradient, Compression, Communication, Step, Metrics, Recording, Total float64
}

// phase clocks one part of the loop (rank 0's: the others' are off, which
// saves every rank but one its clock reads).
type phase struct {
	last time.Time
	off  bool
}

func (p *phase) start() { p.last = time.Now() }
func (p *phase) add(acc *float64) {
	if p.off {
		return
	}
	now := time.Now()
	*acc += now.Sub(p.last).Seconds()
	p.last = now
}

// oracle is one rank's gradient source: exact, or minibatches from the rank's
// own stream (partial Fisher–Yates over a persistent permutation, so drawing
// a batch costs O(b) and allocates nothing).
type oracle struct {
	obj   problems.Objective
	perm  []int32
	batch []int32
	rng   *rand.Rand
	src   *rand.PCG // rng's state, for checkpoints
	lastB int       // the size of the last minibatch (perm[:lastB])
	hvp   problems.HessVecer
	// noise is added to every gradient of a stochastic method, drawn from
	// the same stream after the batch (so checkpoints need no new state).
	noise algorithms.Noise
}

func newOracle(obj problems.Objective, stochastic bool, seed uint64, rank int, noise algorithms.Noise) *oracle {
	o := &oracle{obj: obj}
	if stochastic && obj.Samples() > 0 {
		o.perm = make([]int32, obj.Samples())
		for i := range o.perm {
			o.perm[i] = int32(i)
		}
	}
	if stochastic && noise.Kind != algorithms.NoiseNone {
		o.noise = noise
	}
	if o.perm != nil || o.noise.Kind != algorithms.NoiseNone {
		o.rng, o.src = rng.New(seed, rng.Minibatch, uint64(rank))
	}
	return o
}

// exact reports whether grad computes the full gradient (no minibatches, no
// noise).
func (o *oracle) exact() bool { return o.rng == nil }

// grad writes the gradient at x: a minibatch of size b when stochastic, plus
// the configured noise.
func (o *oracle) grad(dst, x []float64, b int) {
	if b <= 0 && o.perm != nil { // init_batch = 0: the whole shard, in training mode where the problem has one
		if s, ok := o.obj.(problems.ShardGradient); ok {
			s.ShardGrad(dst, x)
		} else {
			o.obj.Grad(dst, x)
		}
		return
	}
	if o.perm == nil {
		o.obj.Grad(dst, x)
	} else {
		m := len(o.perm)
		for i := 0; i < b; i++ {
			j := i + o.rng.IntN(m-i)
			o.perm[i], o.perm[j] = o.perm[j], o.perm[i]
		}
		o.lastB = b
		o.obj.MinibatchGrad(dst, x, o.perm[:b])
	}
	if o.noise.Kind != algorithms.NoiseNone {
		o.noise.Add(dst, o.rng)
	}
}

// lastBatch is the minibatch of the last gradient (nil: the full shard).
func (o *oracle) lastBatch() []int32 {
	if o.perm == nil {
		return nil
	}
	return o.perm[:o.lastB]
}

// sameBatch is a rank's extra oracle (algorithms.SameBatchOracle): the
// gradient at another point on the minibatch of its last gradient.
type sameBatch struct{ o *oracle }

// GradSameBatch implements algorithms.SameBatchOracle.
func (s sameBatch) GradSameBatch(dst, y []float64) {
	if b := s.o.lastBatch(); b != nil {
		s.o.obj.MinibatchGrad(dst, y, b)
	} else {
		s.o.obj.Grad(dst, y)
	}
}

// sameBatchHVP adds Hessian-vector products (algorithms.HessVecOracle).
type sameBatchHVP struct{ sameBatch }

// HessVecSameBatch implements algorithms.HessVecOracle.
func (s sameBatchHVP) HessVecSameBatch(dst, z, v []float64) {
	s.o.hvp.MinibatchHessVec(dst, z, v, s.o.lastBatch())
}

// extra returns the extra oracle the method needs of orc (nil when it needs
// none), or an error naming the method and the problem.
func (sh *Shared) extra(orc *oracle) (any, error) {
	needs := sh.Traits.Needs
	if needs == 0 {
		return nil, nil
	}
	if sh.Spec.Noise.Kind != algorithms.NoiseNone {
		return nil, invalid("method %s needs %s, which is not defined with [noise] (the second evaluation would need the same noise)", sh.Spec.Method, needs)
	}
	if needs&algorithms.CapHessVec == 0 {
		return sameBatch{orc}, nil
	}
	if sh.Spec.HVP == "central" {
		eps := sh.Spec.HVPEps
		if eps == 0 {
			eps = problems.DefaultHVPEps
		}
		c, err := problems.NewCentralHVP(orc.obj, eps)
		if err != nil {
			return nil, invalid("%v", err)
		}
		orc.hvp = c
		return sameBatchHVP{sameBatch{orc}}, nil
	}
	hv, ok := orc.obj.(problems.HessVecer)
	if !ok {
		return nil, invalid("method %s needs Hessian-vector products; problem %s has no analytic one (set [algorithm] hvp = \"central\" for central differences of its gradients)", sh.Spec.Method, sh.Spec.Problem)
	}
	orc.hvp = hv
	return sameBatchHVP{sameBatch{orc}}, nil
}

// Oracles returns the gradient oracles of all n clients exactly as RunRank
// builds them, for the single-process reference loop (algorithms.Reference).
func (sh *Shared) Oracles() ([]algorithms.Oracle, error) {
	out := make([]algorithms.Oracle, sh.Ranks)
	for r := range out {
		obj, err := sh.Objective(r)
		if err != nil {
			return nil, err
		}
		o := newOracle(obj, sh.stochastic(), sh.Spec.Seed, r, sh.Spec.Noise)
		first := sh.Traits.InitRound // the initial round draws init_batch
		out[r] = func(dst, x []float64) {
			b := sh.Spec.Batch
			if first {
				b, first = sh.Spec.InitBatch, false
			}
			o.grad(dst, x, b)
		}
	}
	return out, nil
}

// Compressor returns rank r's compressor with its own random stream.
func (sh *Shared) Compressor(r int) (algorithms.Compressor, error) {
	c, _, err := sh.compressor(r)
	return c, err
}

// compressor also returns the state of the rank's compressor stream.
func (sh *Shared) compressor(r int) (algorithms.Compressor, *rand.PCG, error) {
	stream, src := rng.New(sh.Spec.Seed, rng.Compressor, uint64(r))
	c, err := algorithms.NewCompressor(sh.Spec.Compressor, sh.Spec.K, sh.Dim, stream)
	return c, src, err
}

// MethodConfig is the algorithms.Config of this job.
func (sh *Shared) MethodConfig() algorithms.Config {
	return algorithms.Config{
		Method: sh.Spec.Method, Normalize: sh.Spec.Normalize, Eta: sh.Eta,
		InitCompressed: sh.Spec.InitCompressed, Clients: sh.Ranks, Dim: sh.Dim,
		Absolute: sh.Spec.Compressor == "identity", Smoothness: sh.LI,
		Participation: sh.Spec.Participation, ParticipationSeed: sh.Spec.Seed,
		EtaQ: sh.EtaQ, EtaEvery: sh.EtaEvery, Seed: sh.Spec.Seed, Blocks: sh.Blocks,
	}
}

// RankError wraps a failure of the communication layer; rank 0 records the
// run as failed.
type RankError struct{ Err error }

func (e *RankError) Error() string { return e.Err.Error() }
func (e *RankError) Unwrap() error { return e.Err }

// loop is the state of one process's part of the job: one rank, or, in the
// in-process world of nodes (inproc.NewHosted, collective.Hoster), a block
// of consecutive ranks driven by one goroutine with one replica of x and g.
// Everything indexed by hosted client i belongs to rank ranks[i].
type loop struct {
	sh   *Shared
	comm collective.Comm
	coll collective.Collectives // comm's collectives
	// host is comm as a collective.Hoster when this node hosts a block of
	// ranks; nil for one rank per communicator.
	host collective.Hoster
	sum  collective.SumFunc // the rank-order sum of the messages (aggr)
	// ranks are the hosted ranks, increasing; root: ranks[0] is rank 0.
	ranks []int
	root  bool
	n, d  int // ranks of the computation, dimension
	opts  Options
	// node is the iteration core (algorithms.Node) hosting the ranks'
	// clients; the loop is its Exchanger.
	node   *algorithms.Node
	traits algorithms.Traits
	noG    []float64 // zeros: g of a method without an estimator
	empty  sparse.Vector
	orcs   []*oracle
	// compSrcs are the states of the compressors' random streams
	// (checkpoints).
	compSrcs []*rand.PCG
	// gradAtX[i]: node.Grad(i) holds rank ranks[i]'s exact gradient at the
	// current x (a full-gradient method after its step), so a metric row
	// reuses it instead of computing it again.
	gradAtX []bool
	msgs    []sparse.Vector        // rank 0, dense downlink: gathered messages
	hmsgs   []*sparse.Vector       // hosted messages, empty ones filled in
	aggr    *algorithms.Aggregator // the rank-order sum
	// metric buffers: mlocs[i] = [f_i, ∇f_i (d values), stop flag] of hosted
	// client i, msum their sum over the ranks
	mlocs [][]float64
	msum  []float64
	// fuse: the metric sums of a row travel with the aggregate of the round
	// that reaches it (one meeting instead of two; every node decides the
	// same from the config): hosted nodes, full-gradient methods whose
	// x does not move in Apply, every client in every round. round is the
	// round in progress (−1 outside one); fused: msum already holds the
	// sums of the row after the last round.
	fuse  bool
	round int
	fused bool
	// ctx is the run's context (a fused row's stop flag)
	ctx       context.Context
	ctrl      [2]float64
	rec       *hdf5io.Recorder
	recMu     sync.Mutex // guards recClosed, for mark
	recClosed bool
	t         Timing
	clock     phase
	start     time.Time
	// up, down: the algorithm's wire bytes to and from each hosted rank
	// (README "wire bytes"); rank 0's are recorded
	up, down []int64
	lastX    []float64
	lastRow  hdf5io.Row
	// evalStats: rank 0's running statistics, broadcast before every
	// metric row's full passes (eval_nn.go); nil when there are none
	evalStats  []float64
	lastReport time.Time
	lastIter   int
}

// RunRank runs this process's rank of the job over comm. Rank 0 records the
// trajectory in sh.Spec.Output. Every rank returns the same status; the error
// is non-nil for bad input, a failed rank (a *RankError) or a recording error.
func RunRank(ctx context.Context, sh *Shared, comm collective.Comm, opts Options) (Result, error) {
	t0 := time.Now()
	l := &loop{sh: sh, comm: comm, coll: collective.Of(comm), ranks: []int{comm.Rank()}, n: comm.Size(), d: sh.Dim, opts: opts}
	if h, ok := comm.(collective.Hoster); ok {
		lo, hi := h.Hosted()
		l.host, l.n, l.ranks = h, h.Ranks(), make([]int, hi-lo)
		for i := range l.ranks {
			l.ranks[i] = lo + i
		}
	}
	l.root = l.ranks[0] == 0
	l.clock.off = !l.root
	if l.n != sh.Ranks {
		return Result{}, fmt.Errorf("%w: communicator has %d ranks, the job was prepared for %d", ErrInvalid, l.n, sh.Ranks)
	}
	if l.host != nil && sh.pending() {
		return Result{}, fmt.Errorf("%w: a hosted in-process node needs every constant prepared (Prepare, not PrepareRank)", ErrInvalid)
	}
	if err := sh.connect(comm); err != nil {
		return Result{}, err
	}
	defer l.closeOracles()
	if err := l.setup(); err != nil {
		return Result{}, err
	}
	from := fresh
	if sh.Spec.Resume {
		var err error
		if from, err = l.restore(); err != nil {
			return Result{}, err
		}
	}
	if l.rec != nil && opts.OnRecorder != nil {
		opts.OnRecorder(l.mark)
	}
	l.t.Setup = time.Since(t0).Seconds()
	res, err := l.run(ctx, from)
	l.t.Total = time.Since(t0).Seconds()
	res.Timing = l.t
	res.ImagesPerSec = l.imagesPerSec(res.Iterations)
	if l.rec != nil {
		res.Rows = l.rec.Rows()
		if cerr := l.finish(&res, err); cerr != nil && err == nil {
			err = cerr
		}
	}
	return res, err
}

func (l *loop) setup() error {
	sh, d, h := l.sh, l.d, len(l.ranks)
	method, err := algorithms.New(sh.MethodConfig())
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	l.traits = method.Traits()
	batch, initBatch := sh.Spec.Batch, sh.Spec.InitBatch
	cfg := algorithms.NodeConfig{Method: method, X0: sh.X0, Ranks: l.ranks,
		Compressors: make([]algorithms.Compressor, h), Oracles: make([]algorithms.Oracle, h),
		InitOracles: make([]algorithms.Oracle, h), Extras: make([]any, h), Schedule: sh.Schedule,
		Participation: algorithms.Participation{P: sh.Spec.Participation, Seed: sh.Spec.Seed}}
	l.orcs, l.compSrcs = make([]*oracle, h), make([]*rand.PCG, h)
	for i, r := range l.ranks {
		obj, err := sh.Objective(r)
		if err != nil {
			return fmt.Errorf("rank %d: %w", r, err)
		}
		if cfg.Compressors[i], l.compSrcs[i], err = sh.compressor(r); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		orc := newOracle(obj, sh.stochastic(), sh.Spec.Seed, r, sh.Spec.Noise)
		l.orcs[i] = orc
		cfg.Oracles[i] = func(dst, x []float64) { orc.grad(dst, x, batch) }
		cfg.InitOracles[i] = func(dst, x []float64) { orc.grad(dst, x, initBatch) }
		if cfg.Extras[i], err = sh.extra(orc); err != nil {
			return err
		}
	}
	l.setupStats()
	if l.node, err = algorithms.NewNode(cfg); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	l.noG = make([]float64, d)
	l.empty = sparse.Vector{Dim: d}
	l.aggr = algorithms.NewAggregator(d)
	l.sum = func(msgs []sparse.Vector, out *sparse.Vector) error {
		if len(msgs) != l.n {
			return &aggregateError{fmt.Errorf("aggregate: %d messages for %d clients", len(msgs), l.n)}
		}
		if err := l.aggr.Aggregate(msgs, out); err != nil {
			return &aggregateError{err}
		}
		return nil
	}
	l.gradAtX, l.hmsgs = make([]bool, h), make([]*sparse.Vector, h)
	l.up, l.down = make([]int64, h), make([]int64, h)
	l.mlocs, l.msum = make([][]float64, h), make([]float64, d+2)
	for i := range l.mlocs {
		l.mlocs[i] = make([]float64, d+2)
	}
	l.lastX = make([]float64, d)
	l.fuse = l.host != nil && !l.traits.MovesXInApply && !sh.stochastic() && cfg.Participation.Full()
	l.round = -1
	if l.root && l.dense() && l.host == nil {
		l.msgs = make([]sparse.Vector, l.n)
	}
	if l.root && !sh.Spec.Resume {
		if l.rec, err = hdf5io.Create(sh.Spec.Output, sh.Spec.Overwrite, sh.Spec.FlushEvery, l.attrs()); err != nil {
			return err
		}
		if err := l.rec.BeginSegment(l.segmentAttrs(0)...); err != nil {
			return err
		}
		if err := l.rec.WriteVector("x0", sh.X0); err != nil {
			return err
		}
		hosts := l.opts.Hosts
		if len(hosts) != l.n {
			hosts = make([]string, l.n)
		}
		if err := l.rec.WriteRanks(sh.ShardSizes, hosts); err != nil {
			return err
		}
		if sh.LabelCounts != nil {
			if err := l.rec.WriteLabelCounts(sh.LabelCounts, sh.Classes); err != nil {
				return err
			}
		}
		if sh.evaluates() {
			if err := l.rec.PrepareEval(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *loop) attrs() []hdf5io.Attr {
	sh, s := l.sh, l.sh.Spec
	gamma := sh.Schedule.Gamma
	a := []hdf5io.Attr{
		attr("method", s.Method), attr("normalize", normalizeAttr(s)), attr("compressor", s.Compressor),
		attr("k", s.K), attr("contraction_alpha", sh.Alpha), attr("n_ranks", l.n), attr("d", l.d),
		attr("iterations", s.Iterations), attr("stepsize_rule", s.Rule), attr("gamma", gamma),
		attr("seed", int64(s.Seed)), attr("problem", s.Problem), attr("downlink", s.Downlink),
		attr("started_at", time.Now().UTC().Format(time.RFC3339)),
		attr("transport", l.comm.Transport()),
	}
	switch s.Rule {
	case algorithms.RuleNormTheory, algorithms.RuleDecreasing:
		a = append(a, attr("gamma0", s.Gamma0))
	}
	if th := sh.Theory; th != nil {
		a = append(a, attr("L", th.L), attr("L_tilde", th.LTilde),
			attr("theta", th.Theta), attr("beta", th.Beta),
			attr("factor", th.Factor))
	}
	if l.traits.Stochastic {
		a = append(a, attr("eta", sh.Eta), attr("batch", s.Batch))
	}
	if sh.EtaQ != 0 { // eta_rule = "poly" (issue 24)
		a = append(a, attr("eta_rule", "poly"), attr("eta_q", sh.EtaQ), attr("eta_every", sh.EtaEvery))
	}
	if s.Rule == algorithms.RulePoly {
		a = append(a, attr("gamma0", s.Gamma0), attr("p", s.Power), attr("step_every", sh.Schedule.Every))
	}
	if l.traits.Needs&algorithms.CapHessVec != 0 {
		hvp := "analytic"
		if s.HVP == "central" {
			hvp = "central"
			eps := s.HVPEps
			if eps == 0 {
				eps = problems.DefaultHVPEps
			}
			a = append(a, attr("hvp_eps", eps))
		}
		a = append(a, attr("hvp", hvp))
	}
	a = append(a, sh.theoryAttrs()...) // L_AM, EF21-PP's θ_p, B_p, ρ (prepare.go)
	if s.Participation != 0 {
		a = append(a, attr("participation", s.Participation))
	}
	if s.Noise.Kind != algorithms.NoiseNone && l.traits.Stochastic {
		a = append(a, attr("noise", s.Noise.Kind), attr("noise_scale", s.Noise.Scale), attr("noise_nu", s.Noise.Nu))
	}
	// a registered compressor's parameters (algorithms.CompressorInfo.Params)
	params := algorithms.CompressorParams(s.Compressor, s.K, l.d)
	for _, name := range slices.Sorted(maps.Keys(params)) {
		a = append(a, attr("compressor_"+name, params[name]))
	}
	if sh.Source() != "" { // a data problem
		a = append(a, attr("lambda", s.Lambda), attr("dataset", sh.Source()), attr("split", s.Split))
		if s.Split == "dirichlet" {
			a = append(a, attr("dirichlet_alpha", s.SplitAlpha))
		}
		if s.EvalEvery > 0 {
			a = append(a, attr("eval_every", s.EvalEvery))
		}
		if t := sh.Test; t != nil {
			a = append(a, attr("test_set", t.Source), attr("test_samples", t.Rows()))
			if s.TestFraction > 0 {
				a = append(a, attr("test_fraction", s.TestFraction))
			}
		}
	}
	a = append(a, sh.nnAttrs()...)
	a = append(a, l.opts.Attrs...)
	return append(a, l.opts.Start...)
}

// commErr wraps an error of the communication layer.
func commErr(what string, err error) error {
	return &RankError{Err: fmt.Errorf("%s: %w", what, err)}
}

// Exchange implements algorithms.Exchanger for the iteration core: the
// hosted ranks' messages (an empty one for a client that sits the round
// out) go to the exchange, and agg receives the aggregate.
func (l *loop) Exchange(msgs []*sparse.Vector, agg *sparse.Vector) error {
	for i, m := range msgs {
		if m == nil {
			m = &l.empty
		}
		l.hmsgs[i] = m
	}
	if l.host != nil {
		return l.exchangeHosted(l.hmsgs, agg)
	}
	return l.exchange(l.hmsgs[0], agg)
}

// Steps implements algorithms.XSyncer: with a dense downlink only rank 0
// keeps g and steps.
func (l *loop) Steps() bool { return !l.dense() || l.root }

// SyncX implements algorithms.XSyncer: with a dense downlink rank 0 sends
// x^{k+1} and its stop decision to every rank.
func (l *loop) SyncX(x []float64, stop bool) (bool, error) {
	if !l.dense() {
		return stop, nil
	}
	flag := 0.0
	if stop {
		flag = 1
	}
	if err := l.broadcastX(x, &flag); err != nil {
		return false, err
	}
	return flag != 0, nil
}

// Mark implements algorithms.Marker: the per-phase clocks.
func (l *loop) Mark(p algorithms.Phase) {
	switch p {
	case algorithms.PhaseGradient:
		l.clock.add(&l.t.Gradient)
	case algorithms.PhaseCompression:
		l.clock.add(&l.t.Compression)
	default:
		l.clock.add(&l.t.Step)
	}
}

// exchange brings every rank's message together. With the sparse downlink
// (and for methods whose x moves in Apply: EF14, the sign methods) every
// rank ends with the aggregate agg, the rank-order sum of the messages
// (collective.AggregateSparse: an allgather, or the transport's
// equivalent); with the dense downlink only rank 0 needs it, so the messages
// are gathered there. The wire bytes to and from this rank are accumulated
// as the README defines them: each message counted once, as the frame that
// carries it, independent of the transport.
func (l *loop) exchange(msg *sparse.Vector, agg *sparse.Vector) error {
	if l.dense() {
		if err := l.coll.GatherSparse(msg, l.msgs); err != nil {
			return commErr("gather", err)
		}
		l.clock.add(&l.t.Communication)
		if l.root {
			for r := 1; r < l.n; r++ {
				l.up[0] += int64(wire.SparseFrameSize(l.msgs[r].Len()))
			}
			if err := l.aggr.Aggregate(l.msgs, agg); err != nil {
				return err
			}
		} else {
			l.down[0] += int64(wire.SparseFrameSize(msg.Len()))
		}
		l.clock.add(&l.t.Step)
		return nil
	}
	tr, err := l.coll.AggregateSparse(msg, l.sum, agg)
	if err != nil {
		return aggregateFailure(err)
	}
	l.up[0] += tr.Received
	l.down[0] += tr.Sent
	l.clock.add(&l.t.Communication)
	return nil
}

// exchangeHosted is exchange for a node hosting a block of ranks
// (collective.Hoster): every rank's message meets in one aggregate, summed
// in rank order, and each hosted rank's wire bytes are what it would count
// alone. With the dense downlink only rank 0's node uses the aggregate.
// When the round ends at a metric row and the loop fuses, the row's
// [f_i, ∇f_i, stop] (the round's gradients are at x^{k+1}) are summed in
// the same meeting.
func (l *loop) exchangeHosted(msgs []*sparse.Vector, agg *sparse.Vector) error {
	var srcs [][]float64
	if l.fuse && l.round >= 0 && l.metricsAfter(l.round) {
		l.noteGrads()
		l.fillMetrics(stopRequested(l.ctx))
		l.clock.add(&l.t.Metrics)
		srcs = l.mlocs
	}
	total, err := l.host.AggregateReduceHosted(msgs, l.sum, agg, srcs, l.msum)
	if err != nil {
		return aggregateFailure(err)
	}
	l.fused = srcs != nil
	for i, m := range msgs {
		own := int64(wire.SparseFrameSize(m.Len()))
		switch {
		case !l.dense():
			l.up[i] += total - own
			l.down[i] += own
		case l.ranks[i] == 0: // gathers every other rank's message
			l.up[i] += total - own
		default:
			l.down[i] += own
		}
	}
	l.clock.add(&l.t.Communication)
	return nil
}

// aggregateFailure is the error of a failed aggregate: bad messages as
// they are, a failure of the communication as a *RankError.
func aggregateFailure(err error) error {
	var bad *aggregateError
	if errors.As(err, &bad) {
		return err
	}
	return commErr("aggregate", err)
}

// aggregateError marks a failure of the server's aggregation itself (a
// message of the wrong dimension), as opposed to one of the communication.
type aggregateError struct{ err error }

func (e *aggregateError) Error() string { return e.err.Error() }
func (e *aggregateError) Unwrap() error { return e.err }

// dense reports whether this run broadcasts x instead of the aggregate: then
// only rank 0 keeps g and steps, and the others receive x^{k+1}.
func (l *loop) dense() bool {
	return l.sh.Spec.Downlink == "dense" && !l.traits.MovesXInApply
}

func (l *loop) run(ctx context.Context, from resumePoint) (Result, error) {
	l.ctx = ctx
	l.start = time.Now().Add(-time.Duration(from.elapsed * float64(time.Second)))
	l.lastReport = time.Now()
	l.clock.start()
	if from.restored {
		return l.iterate(ctx, int(from.iter))
	}
	// initialisation round
	if err := l.node.Init(l); err != nil {
		return l.result(StatusFailed, err.Error(), 0), err
	}
	l.noteGrads()
	if st, why, err := l.observe(ctx, 0, true); st != "" || err != nil {
		return l.stopped(st, why, 0, err)
	}
	return l.iterate(ctx, 0)
}

// iterate runs iterations start, start+1, …, K−1.
func (l *loop) iterate(ctx context.Context, start int) (Result, error) {
	spec := l.sh.Spec
	K := spec.Iterations
	for k := start; k < K; k++ {
		copy(l.lastX, l.x()) // x^k is finite (checked below): the iterate kept if x^{k+1} is not
		// one iteration, in the order algorithms.Node.Round defines
		l.round = k
		err := l.node.Round(k, l)
		l.round = -1
		if errors.Is(err, algorithms.ErrZeroEstimator) {
			return l.zeroEstimator(k)
		} else if err != nil {
			return l.result(StatusFailed, err.Error(), k), err
		}
		atX := l.noteGrads()
		due := l.rowDue(k + 1)
		// With a tolerance, a full-gradient method (its ∇f_i(x^{k+1}) is at
		// hand) checks ‖∇f‖² every iteration, recording only the stopping
		// row between log rows; other methods check on recorded rows only.
		if !due && spec.Tolerance > 0 && atX {
			if st, why, err := l.observeRow(ctx, k+1, false); st != "" || err != nil {
				return l.stopped(st, why, k+1, err)
			}
		} else if st, why, err := l.observe(ctx, k+1, due); st != "" || err != nil {
			return l.stopped(st, why, k+1, err)
		}
		if spec.CheckpointEvery > 0 && (k+1)%spec.CheckpointEvery == 0 && k+1 < K {
			if err := l.checkpoint(k + 1); err != nil {
				return l.result(StatusFailed, err.Error(), k+1), err
			}
		}
	}
	return l.result(StatusCompleted, fmt.Sprintf("%d iterations", K), K), nil
}

// rowDue reports whether row k is recorded: every log_every iterations,
// the last, and whenever x^k or the estimator g^k is not finite — checked
// every iteration (one branch-free O(d) pass over both, replicated on every
// rank, so no communication): the run then stops as diverged at the first
// such iteration, whatever log_every is. (g^{k} holds the clients'
// gradients at x^k, so a gradient that overflows is caught at k, not one
// iteration later through x^{k+1}.)
func (l *loop) rowDue(k int) bool {
	spec := l.sh.Spec
	return k%spec.LogEvery == 0 || k == spec.Iterations || !finitePair(l.x(), l.g())
}

// metricsAfter reports, during round k of a fusing loop (x is x^{k+1} and
// every gradient is at it), whether metrics are evaluated at row k+1: a
// recorded row, or every row under a tolerance (iterate's decision).
func (l *loop) metricsAfter(k int) bool {
	return l.rowDue(k+1) || l.sh.Spec.Tolerance > 0
}

// stopRequested is the stop flag this rank contributes to a metric row.
func stopRequested(ctx context.Context) float64 {
	if ctx.Err() != nil {
		return 1
	}
	return 0
}

// noteGrads records, after a round, which hosted ranks' gradients are
// exact gradients at the current x, and reports whether all are.
func (l *loop) noteGrads() bool {
	all := true
	for i := range l.gradAtX {
		l.gradAtX[i] = l.node.GradAtX(i) && l.orcs[i].exact()
		all = all && l.gradAtX[i]
	}
	return all
}

// broadcastX sends x^{k+1} (and a stop flag) from rank 0 to every rank.
func (l *loop) broadcastX(x []float64, stop *float64) error {
	buf := l.mlocs[0][:l.d+1]
	if l.root {
		copy(buf, x)
		buf[l.d] = *stop
	}
	if err := l.coll.BroadcastDense(buf); err != nil {
		return commErr("broadcast x", err)
	}
	for i, r := range l.ranks {
		if r == 0 {
			l.down[i] += int64(wire.DenseFrameSize(len(buf)))
		} else {
			l.up[i] += int64(wire.DenseFrameSize(len(buf)))
		}
	}
	copy(x, buf[:l.d])
	*stop = buf[l.d]
	return nil
}

func (l *loop) zeroEstimator(k int) (Result, error) {
	return l.result(StatusTolerance, "the estimator g is zero (every client at a stationary point)", k), nil
}

// controlEvery is how often, at most, ranks agree on stopping between metric
// rows, so a signal is acted on within that many iterations.
const controlEvery = 32

// observe evaluates the exact metrics when a row is due (every rank joins the
// reduce, so every rank reaches the same decision), records the row on rank
// 0, and between rows checks every controlEvery iterations whether any rank
// was asked to stop. It returns a final status when the run must end.
func (l *loop) observe(ctx context.Context, k int, due bool) (string, string, error) {
	if due {
		return l.observeRow(ctx, k, true)
	}
	if k%controlEvery != 0 {
		return "", "", nil
	}
	l.ctrl[0] = 0
	if ctx.Err() != nil {
		l.ctrl[0] = 1
	}
	if err := l.coll.Allreduce(l.ctrl[:1], l.ctrl[1:]); err != nil {
		return StatusFailed, err.Error(), commErr("control", err)
	}
	l.clock.add(&l.t.Metrics)
	if l.ctrl[1] != 0 {
		return StatusInterrupted, "interrupted by a signal", nil
	}
	return "", "", nil
}

// observeRow evaluates the exact metrics at x^k (every rank joins the
// reduce) and decides whether the run stops; rank 0 records the row when
// record is set, or when the run stops here.
func (l *loop) observeRow(ctx context.Context, k int, record bool) (string, string, error) {
	x := l.x()
	var mt algorithms.RowMetrics
	var stop bool
	var err error
	if l.fused { // summed with the round's aggregate
		l.fused = false
		mt, stop = l.rowMetrics()
	} else {
		if err = l.shareStats(); err == nil {
			l.fillMetrics(stopRequested(ctx))
			mt, stop, err = l.reduceMetrics()
		}
	}
	if err != nil {
		return StatusFailed, err.Error(), commErr("metrics", err)
	}
	l.clock.add(&l.t.Metrics)
	xFinite := finitePair(x, l.g())
	if mt.Finite() && xFinite {
		copy(l.lastX, x)
	}
	f, gn, tol := mt.F, mt.GradNormSq, l.sh.Spec.Tolerance
	status, why := "", ""
	switch algorithms.StopRule(mt, xFinite, stop, tol) {
	case algorithms.Diverged:
		status, why = StatusDiverged, fmt.Sprintf("non-finite values at iteration %d (f = %v, ‖∇f‖² = %v%s)", k, f, gn, nonFinite(x, l.g()))
	case algorithms.Interrupted:
		status, why = StatusInterrupted, "interrupted by a signal"
	case algorithms.StoppedTolerance:
		status, why = StatusTolerance, fmt.Sprintf("‖∇f‖² = %.3g ≤ tolerance %.3g at iteration %d", gn, tol, k)
	}
	if l.root && (record || status != "") {
		row := hdf5io.Row{Iteration: int64(k), F: f, GradNormSq: gn, EstErrSq: mt.EstErrSq,
			StepSize: l.sh.Schedule.At(k), BitsPerWorker: l.node.Clients[0].Bits(), GradEvals: l.node.Evals(0),
			WireBytesUp: l.up[0], WireBytesDown: l.down[0], TimeS: time.Since(l.start).Seconds()}
		if err := l.rec.Append(row); err != nil {
			return StatusFailed, err.Error(), err
		}
		l.lastRow = row
		if l.evalDue(k, status != "" || k == l.sh.Spec.Iterations) {
			if err := l.evaluate(k, x); err != nil {
				return StatusFailed, err.Error(), err
			}
		}
		l.report(k, false)
	}
	l.clock.add(&l.t.Recording)
	return status, why, nil
}

// fillMetrics writes every hosted client's [f_i(x), ∇f_i(x), stop] into
// mlocs at the current x, reusing the round's gradient where it is at x.
func (l *loop) fillMetrics(stopFlag float64) {
	d, x := l.d, l.x()
	for i, o := range l.orcs {
		mloc, obj := l.mlocs[i], o.obj
		if vg, ok := obj.(problems.ValueGrader); ok && !l.gradAtX[i] {
			mloc[0] = vg.ValueGrad(mloc[1:d+1], x) // one pass for both
		} else {
			if l.gradAtX[i] {
				copy(mloc[1:d+1], l.node.Grad(i)) // the same computation, bit for bit
			} else {
				obj.Grad(mloc[1:d+1], x)
			}
			mloc[0] = obj.Value(x) // after the Grad at x: from its margins
		}
		mloc[d+1] = stopFlag
	}
}

// reduceMetrics sums the hosted ranks' [f_i, ∇f_i, stop] over every rank
// (in TreeSum order) and returns the row's metrics (rowMetrics) and whether
// some rank was asked to stop. Only rank 0 needs the d-vector ∇f: over a
// communicator of one rank per process the sum is a Reduce to rank 0, which
// broadcasts the three scalars every rank decides on; a hosted in-process
// node receives the whole sum from shared memory. Either way every rank gets
// rank 0's bits.
func (l *loop) reduceMetrics() (algorithms.RowMetrics, bool, error) {
	if l.host != nil {
		if err := l.host.AllreduceHosted(l.mlocs, l.msum); err != nil {
			return algorithms.RowMetrics{}, false, err
		}
		mt, stop := l.rowMetrics()
		return mt, stop, nil
	}
	if err := l.coll.Reduce(l.mlocs[0], l.msum); err != nil {
		return algorithms.RowMetrics{}, false, err
	}
	var mt algorithms.RowMetrics
	stop := false
	if l.root {
		mt, stop = l.rowMetrics()
	}
	buf := l.mlocs[0][:3]
	buf[0], buf[1], buf[2] = mt.F, mt.GradNormSq, 0
	if stop {
		buf[2] = 1
	}
	if err := l.coll.BroadcastDense(buf); err != nil {
		return algorithms.RowMetrics{}, false, err
	}
	mt.F, mt.GradNormSq, stop = buf[0], buf[1], buf[2] != 0
	if !l.root {
		mt.EstErrSq = math.NaN()
	}
	return mt, stop, nil
}

// rowMetrics reads the row's metrics from the sums in msum
// (algorithms.MetricsOf; the estimator's error is rank 0's, NaN elsewhere)
// and whether some rank was asked to stop.
func (l *loop) rowMetrics() (algorithms.RowMetrics, bool) {
	var g []float64 // the estimator where it is kept
	if l.traits.Estimator && l.root {
		g = l.g()
	}
	mt := algorithms.MetricsOf(l.msum[:l.d+1], g, l.n)
	if !l.root {
		mt.EstErrSq = math.NaN()
	}
	return mt, l.msum[l.d+1] != 0
}

// finitePair reports whether every entry of x and of g (of x's length) is
// finite, in one branch-free pass: v·0 is 0 for a finite v and NaN for ±Inf
// or NaN, so the sum is 0 exactly when all are finite.
func finitePair(x, g []float64) bool {
	g = g[:len(x)]
	var s0, s1 float64
	for i, v := range x {
		s0 += v * 0
		s1 += g[i] * 0
	}
	return s0+s1 == 0
}

// nonFinite names, for a divergence message, which of x and g hold a
// non-finite entry.
func nonFinite(x, g []float64) string {
	out := ""
	if !allFinite(x) {
		out += ", x non-finite"
	}
	if !allFinite(g) {
		out += ", g non-finite"
	}
	return out
}

func allFinite(x []float64) bool {
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// report calls the progress hook at most every ProgressEvery.
func (l *loop) report(k int, force bool) {
	if l.opts.Progress == nil {
		return
	}
	every := l.opts.ProgressEvery
	if every <= 0 {
		every = 2 * time.Second
	}
	now := time.Now()
	if !force && now.Sub(l.lastReport) < every {
		return
	}
	el := now.Sub(l.start).Seconds()
	p := Progress{Iteration: k, Iterations: l.sh.Spec.Iterations, F: l.lastRow.F, GradNormSq: l.lastRow.GradNormSq,
		BitsPerWorker: l.lastRow.BitsPerWorker}
	if el > 0 && k > 0 {
		p.ItPerSec = float64(k) / el
		p.ETA = time.Duration(float64(p.Iterations-k) / p.ItPerSec * float64(time.Second))
	}
	l.lastReport = now
	l.opts.Progress(p)
}

func (l *loop) result(status, reason string, k int) Result {
	x := l.x()
	if status == StatusDiverged {
		x = l.lastX
	}
	return Result{Status: status, Reason: reason, Iterations: k, X: append([]float64(nil), x...), G: append([]float64(nil), l.g()...)}
}

// x is the replica's iterate.
func (l *loop) x() []float64 { return l.node.Replica.X() }

// g is the replica's estimator (zeros for a method without one).
func (l *loop) g() []float64 {
	if g := l.node.Replica.Estimator(); g != nil {
		return g
	}
	return l.noG
}

// mark records status and reason in the file from any goroutine, until
// finish closes it (Options.OnRecorder).
func (l *loop) mark(status, reason string, final bool) {
	l.recMu.Lock()
	defer l.recMu.Unlock()
	if l.recClosed {
		return
	}
	now := time.Now().UTC().Format(time.RFC3339)
	l.rec.SetAttrs(attr("stop_reason", reason), attr("finished_at", now))
	l.rec.SetSegmentAttrs(attr("stop_reason", reason), attr("finished_at", now), attr("status", status))
	if final {
		l.recClosed = true
		l.rec.Close(status)
		return
	}
	l.rec.SetStatus(status)
}

// finish writes the end of the file on rank 0: x_final, timing, status.
func (l *loop) finish(res *Result, runErr error) error {
	l.recMu.Lock()
	defer l.recMu.Unlock()
	if l.recClosed {
		return errors.New("the output file was closed by the watchdog")
	}
	l.recClosed = true
	l.report(res.Iterations, true)
	status := res.Status
	if runErr != nil && status == "" {
		status = StatusFailed
	}
	var lost *collective.RankLostError
	attrs := []hdf5io.Attr{attr("finished_at", time.Now().UTC().Format(time.RFC3339)),
		attr("stop_reason", res.Reason), attr("iterations_done", res.Iterations),
		// the downlink in the paper's convention (the aggregate's values at 32
		// bits, or one bit per coordinate for the sign methods' vote), per worker
		attr("bits_down_per_worker", l.node.Replica.DownBits())}
	if errors.As(runErr, &lost) {
		attrs = append(attrs, attr("failed_rank", lost.Rank))
	}
	timing := []hdf5io.Attr{attr("setup_s", l.t.Setup), attr("gradient_s", l.t.Gradient),
		attr("compression_s", l.t.Compression), attr("communication_s", l.t.Communication),
		attr("step_s", l.t.Step), attr("metrics_s", l.t.Metrics), attr("recording_s", l.t.Recording),
		attr("total_s", time.Since(l.start).Seconds()+l.t.Setup)}
	if res.ImagesPerSec > 0 { // a network (README "Neural networks")
		timing = append(timing, attr("images_per_s", res.ImagesPerSec))
	}
	errs := []error{
		l.rec.SetAttrs(attrs...),
		l.rec.SetSegmentAttrs(attrs[0], attrs[1], attr("end_iteration", res.Iterations), attr("status", status)),
		l.rec.WriteVector("x_final", res.X),
		l.rec.WriteTiming(timing),
		l.rec.Close(status),
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if status == StatusCompleted || status == StatusTolerance {
		// The run is over: its checkpoints have nothing left to resume.
		os.RemoveAll(CheckpointDir(l.sh.Spec.Output))
	}
	return nil
}

// segmentAttrs are the attributes that open the segment of this start of
// the run, which begins at iteration start: Options.Start, the transport,
// start_iteration and started_at.
func (l *loop) segmentAttrs(start int64) []hdf5io.Attr {
	a := append([]hdf5io.Attr(nil), l.opts.Start...)
	return append(a, attr("transport", l.comm.Transport()), attr("start_iteration", start),
		attr("started_at", time.Now().UTC().Format(time.RFC3339)), attr("status", StatusRunning))
}

// attr is shorthand for a named HDF5 attribute.
// normalizeAttr is the normalize attribute: true or false, or "layer" for
// the layer-wise normalisation.
func normalizeAttr(s Spec) any {
	if s.Normalize && s.NormalizeLayer {
		return "layer"
	}
	return s.Normalize
}

func attr(name string, value any) hdf5io.Attr { return hdf5io.Attr{Name: name, Value: value} }
