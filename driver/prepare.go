// Package driver runs one job: it glues a method (algorithms), a problem
// (problems, datasets), a communicator (collective) and a recorder (hdf5io) into
// the distributed iteration loop of ARCHITECTURE.md. It knows nothing about TOML
// or flags: cmd/efmpi turns a config into a Spec.
package driver

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/problems"
	"github.com/efmpi/efmpi/rng"
)

// ErrInvalid marks errors in the user's input found while preparing the job
// (dataset contents, k > d, more ranks than samples, an unreadable x0 file…).
var ErrInvalid = errors.New("invalid input")

// Spec is one job, fully resolved. Every rank builds the same Spec.
type Spec struct {
	// Problem: "logreg", "leastsq" (least squares on the same data, the
	// labels as targets), "polynomial" or "nn" (a network on images, NN);
	// problems.Kinds lists them.
	Problem string
	Lambda  float64
	PolyDim int
	// Data (logreg): Source "libsvm" (DataPath) or "synthetic" (Samples ×
	// Features); Features also fixes a LIBSVM file's dimension when > 0.
	Source            string
	DataPath          string
	Features, Samples int
	Shuffle           bool
	Split             string
	// SplitAlpha is the concentration of Split "dirichlet".
	SplitAlpha float64
	// TestPath (a LIBSVM file) or TestFraction (held out from the data with
	// the seed) give a test set; EvalEvery > 0 evaluates the training and
	// test loss and accuracy on the recorded rows at multiples of it.
	TestPath     string
	TestFraction float64
	EvalEvery    int
	// Synthetic-sparse data: nonzeros per row, the power-law exponent of
	// column popularity, the label-noise probability (Samples × Features).
	RowNNZ     int
	Exponent   float64
	LabelNoise float64

	Method    string // algorithms.EF21, EF21SGDM, EF14, EF21W, SignSGD
	Normalize bool
	// NormalizeLayer, with Normalize, normalises each block of the
	// problem's coordinates (problems.Blocker: a network's parameter
	// tensors) by its own norm (normalize = "layer").
	NormalizeLayer bool
	Compressor     string
	K              int
	InitCompressed bool
	Batch          int
	InitBatch      int
	Momentum       string // "constant" | "eta-theory"
	Eta, Eta0      float64
	// EtaRule "poly" (issue 24): η_t = Eta·(2/(t+2))^EtaQ (EtaQ 0: the
	// method's default exponent), t counted per EtaPer ("iteration" or
	// "epoch"; "" is per iteration).
	EtaRule string
	EtaQ    float64
	EtaPer  string
	// Power and StepPer are rule "poly"'s γ_t = Gamma0/(t+1)^Power, t per
	// StepPer ("iteration", "epoch").
	Power   float64
	StepPer string
	// HVP is how Hessian-vector products are computed for the methods that
	// need them: "analytic" (the problem's own; "" too) or "central"
	// (problems.CentralHVP with displacement HVPEps, 0: the default).
	HVP    string
	HVPEps float64
	// Participation is EF21-PP's p (0: every client, every iteration).
	Participation float64
	// Noise is added to every stochastic gradient (the stochastic methods).
	Noise algorithms.Noise

	Rule                  string // step-size rule
	Gamma, Gamma0, Factor float64

	X0     string // "normal" | "zeros" | path (.txt or .h5)
	Sigma0 float64

	Iterations int
	Seed       uint64
	LogEvery   int
	FlushEvery int
	Tolerance  float64
	Output     string
	Overwrite  bool
	Downlink   string // "sparse" | "dense"
	// CheckpointEvery > 0 writes a checkpoint every that many iterations (a
	// checkpoint is also written when a signal stops the run); Resume
	// continues from the newest complete checkpoint of Output.
	CheckpointEvery int
	Resume          bool

	// NN is the network job of Problem "nn" (see prepare_nn.go).
	NN NNSpec
	// KFraction > 0 sets k = max(1, round(KFraction·d)) once d is known.
	KFraction float64
}

// Shared is everything the ranks of one process need that does not depend on
// communication: their data, x^0, the constants of the step-size rule.
// Prepare builds it for every rank of an in-process world (one copy of the
// data; each rank a view of its rows); PrepareRank for the single rank of a
// process in a launcher's world, reading only that rank's rows. Ranks of one
// process share it (read-only).
type Shared struct {
	Spec  Spec
	Ranks int
	Dim   int
	// First is the first rank whose data this process holds; views[r−First]
	// is rank r's shard, a view of block (rows in shard order).
	First int
	// oneRank: this process runs one rank of a launcher's world
	// (PrepareRank), not an in-process world
	oneRank bool
	block   *datasets.Dataset
	views   []*datasets.Dataset
	// dimFrom says what set Dim (the LIBSVM line of the largest index), for
	// the memory check's message
	dimFrom string
	source  string
	// rowsHash is a SHA-256 of this process's rows (every held rank's
	// shard, in rank order: dimension, row pointers, columns, values,
	// labels); zero for the polynomial.
	rowsHash [32]byte
	// Read counts the array elements read from an HDF5 input file (zero for
	// other sources): evidence that a process reads only its rows.
	Read hdf5io.ReadCounts
	// pendingL: the ef21-theory constants need the other ranks' data and
	// are computed over the communicator when the rank starts (connect).
	pendingL bool
	// pendingLI: EF21-W's weights need every L_i, computed likewise.
	pendingLI bool
	polys     []*problems.Polynomial
	X0        []float64
	// Schedule is the step size; Eta the momentum actually used.
	Schedule algorithms.Schedule
	Eta      float64
	// EtaQ and EtaEvery are the momentum schedule of eta_rule = "poly"
	// (EtaQ 0: constant η).
	EtaQ     float64
	EtaEvery int
	// Alpha is the compressor's contraction; Theory is set for ef21-theory.
	Alpha  float64
	Theory *algorithms.Theory
	// ShardSizes[r] is m_r (0 for the polynomial).
	ShardSizes []int64
	// Traits are the method's; LI holds every L_i when the method (EF21-W)
	// or the rule needs them.
	Traits algorithms.Traits
	LI     []float64
	// Blocks are the boundaries of normalize = "layer" (nil: global).
	Blocks []int
	// Test is the held-out test set (nil without one).
	Test *datasets.Dataset
	// full is the whole training set, in shard order, when this process
	// holds every rank (nil otherwise): what the training-set evaluation
	// scores.
	full *datasets.Dataset
	// Classes are the dataset's labels in increasing order and
	// LabelCounts[r][c] the number of rank r's samples of class c (nil for
	// the polynomial). A process holding one rank fills them in connect.
	Classes       []float64
	LabelCounts   [][]int64
	pendingCounts bool
	// Data identifies the job's data (size and content hash; zero for the
	// polynomial): checkpoints record it and multi-process ranks agree on it.
	// It describes the whole dataset and is the same in every process,
	// whichever rows it holds (see loadBlock for what is hashed).
	Data DataPrint
	// nn holds the images and shards of Problem "nn" (prepare_nn.go).
	nn *nnJob
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Prepare loads the data of every rank of an n-rank job into this process
// (one copy: each rank's shard is a view of its rows), checks everything that
// depends on it and computes the step size. Setup costs O(m + nnz + n·d).
func Prepare(spec Spec, n int) (*Shared, error) { return prepare(spec, n, 0, n) }

// PrepareRank is Prepare for the one rank of a process in a launcher's
// world: it reads (or generates) only rank's rows, so per-process memory is
// O(m/n·nnz per row + m + d). The constants of ef21-theory, which need every
// rank's data, are computed over the communicator when RunRank starts
// (a distributed Lanczos iteration), bit for bit as Prepare computes them.
func PrepareRank(spec Spec, n, rank int) (*Shared, error) {
	if n >= 1 && (rank < 0 || rank >= n) {
		return nil, invalid("rank %d outside [0, %d)", rank, n)
	}
	sh, err := prepare(spec, n, rank, rank+1)
	if sh != nil {
		sh.oneRank = true
	}
	return sh, err
}

// prepare holds ranks [r0, r1) of n.
func prepare(spec Spec, n, r0, r1 int) (*Shared, error) {
	if n < 1 {
		return nil, invalid("%d ranks: need at least 1", n)
	}
	if wholeData(spec) {
		r0, r1 = 0, n // a test set or the training-set evaluation needs every row here
	}
	sh := &Shared{Spec: spec, Ranks: n, First: r0}
	probe := algorithms.Config{Method: spec.Method, Normalize: spec.Normalize, Eta: 1, InitCompressed: spec.InitCompressed,
		Clients: n, Dim: 1, Participation: spec.Participation, Smoothness: make([]float64, n)}
	for i := range probe.Smoothness {
		probe.Smoothness[i] = 1
	}
	m, err := algorithms.New(probe)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	sh.Traits = m.Traits()
	if err := spec.Noise.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	_, isData := problems.LookupDataProblem(spec.Problem) // logreg, leastsq, or registered (problems/registry.go)
	switch {
	case isData:
		ld, err := loadBlock(spec, n, r0, r1, &sh.Read)
		if err != nil {
			if errors.Is(err, ErrInvalid) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		block := ld.block
		sh.block, sh.Dim, sh.source, sh.Data, sh.Test = block, block.Cols(), block.Source, ld.print, ld.test
		sh.dimFrom = block.ColsFrom
		sh.ShardSizes = ld.plan.Sizes()
		base, _ := ld.plan.Bounds(r0)
		h := sha256.New()
		for r := r0; r < r1; r++ {
			lo, hi := ld.plan.Bounds(r)
			v := block.Slice(lo-base, hi-base)
			sh.views = append(sh.views, v)
			hashShard(h, v)
		}
		if len(sh.views) == n {
			sh.full = block
			sh.Classes = datasets.Classes(block.Labels)
			for _, v := range sh.views {
				sh.LabelCounts = append(sh.LabelCounts, datasets.LabelCounts(v, sh.Classes))
			}
		} else {
			sh.pendingCounts = true
		}
		h.Sum(sh.rowsHash[:0])
		minShard := slices.Min(sh.ShardSizes)
		if sh.stochastic() {
			if b := max(spec.Batch, spec.InitBatch); int64(b) > minShard {
				return nil, invalid("minibatch size %d exceeds the smallest shard (%d samples with %d ranks)", b, minShard, n)
			}
		}
	case spec.Problem == problems.KindPolynomial:
		if spec.PolyDim < 1 {
			return nil, invalid("polynomial dimension %d: need at least 1", spec.PolyDim)
		}
		sh.Dim = spec.PolyDim
		if err := checkMemory(16*float64(n)*float64(sh.Dim), fmt.Sprintf("the polynomial of dimension %d for %d ranks", sh.Dim, n)); err != nil {
			return nil, err
		}
		sh.ShardSizes = make([]int64, n)
		for r := range n {
			p, err := problems.NewPolynomial(sh.Dim, spec.Seed, r)
			if err != nil {
				return nil, err
			}
			sh.polys = append(sh.polys, p)
		}
	case spec.Problem == problems.KindNN:
		if err := sh.prepareNN(); err != nil {
			return nil, err
		}
	default:
		return nil, invalid("unknown problem %q", spec.Problem)
	}
	d := sh.Dim
	if err := checkDimension(d, 1, sh.dimFrom); err != nil { // every process holds at least one rank
		return nil, err
	}
	if spec.KFraction > 0 {
		spec.K = max(1, int(math.Round(spec.KFraction*float64(d))))
		sh.Spec.K = spec.K
	}
	if algorithms.CompressorUsesK(spec.Compressor) && (spec.K < 1 || spec.K > d) {
		return nil, invalid("k = %d must be in [1, d = %d]", spec.K, d)
	}
	x0, err := initialPoint(spec, d)
	if err != nil {
		return nil, err
	}
	if sh.nn != nil && spec.X0 == "normal" {
		x0 = sh.nn.x0 // Kaiming-normal initialisation from the seed
	}
	sh.X0 = x0
	if spec.NormalizeLayer {
		if sh.Blocks, err = sh.blocks(); err != nil {
			return nil, err
		}
	}
	comp, err := algorithms.NewCompressor(spec.Compressor, spec.K, d, nil)
	if err != nil && spec.Compressor != "rand-k" {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if comp == nil {
		comp = algorithms.NewRandK(spec.K, nil)
	}
	sh.Alpha = comp.Alpha(d)
	sgdm := sh.Traits.Stochastic
	sh.Eta = spec.Eta
	if sgdm && spec.Momentum == "eta-theory" {
		sh.Eta = algorithms.EtaTheory(spec.Eta0, spec.Iterations)
	}
	if spec.EtaRule == "poly" {
		if sh.EtaQ = spec.EtaQ; sh.EtaQ == 0 {
			sh.EtaQ = sh.Traits.DefaultQ
		}
		if !(sh.EtaQ > 0) {
			return nil, invalid("eta_rule poly: method %s has no default exponent q; set [algorithm] eta_q", spec.Method)
		}
		if sh.EtaEvery, err = sh.epochLength(spec.EtaPer); err != nil {
			return nil, err
		}
	}
	sh.Schedule = algorithms.Schedule{Rule: spec.Rule}
	switch spec.Rule {
	case algorithms.RuleEF21Theory, algorithms.RuleEF21TheoryAM, algorithms.RuleEF21PPTheory:
		if !sh.holdsAll() {
			sh.pendingL = true
			return sh, nil
		}
		l, li, err := sh.Smoothness()
		if err != nil {
			return nil, err
		}
		if err := sh.setTheory(l, li); err != nil {
			return nil, err
		}
	case algorithms.RuleNormTheory:
		sh.Schedule.Gamma = algorithms.NormTheory(spec.Gamma0, spec.Iterations, sgdm)
	case algorithms.RuleConstant:
		sh.Schedule.Gamma = spec.Gamma
	case algorithms.RuleDecreasing:
		sh.Schedule.Gamma, sh.Schedule.Decreasing = spec.Gamma0, true
	case algorithms.RulePoly:
		if !(spec.Power > 0) {
			return nil, invalid("rule poly: exponent p = %v must be positive", spec.Power)
		}
		sh.Schedule.Gamma, sh.Schedule.Power = spec.Gamma0, spec.Power
		if sh.Schedule.Every, err = sh.epochLength(spec.StepPer); err != nil {
			return nil, err
		}
	default:
		return nil, invalid("unknown step-size rule %q", spec.Rule)
	}
	if spec.Method == algorithms.EF21W && sh.LI == nil {
		// EF21-W's weights need every L_i (with a theory rule setTheory
		// keeps them); a process holding one rank gets them in connect
		if !sh.holdsAll() {
			sh.pendingLI = true
		} else if _, sh.LI, err = sh.Smoothness(); err != nil {
			return nil, err
		}
	}
	return sh, sh.checkGamma()
}

// epochLength is the number of iterations a schedule counted per "epoch"
// holds: ⌈m_0/b⌉, rank 0's shard in minibatches (the sequel's train.py runs
// len(train_loader_workers[0]) iterations per epoch); 1 per iteration.
func (sh *Shared) epochLength(per string) (int, error) {
	if per != "epoch" {
		return 1, nil
	}
	if len(sh.ShardSizes) == 0 || sh.ShardSizes[0] == 0 || !sh.stochastic() {
		return 0, invalid("a schedule per epoch needs minibatches of a data problem (method %s, problem %s)", sh.Spec.Method, sh.Spec.Problem)
	}
	b := int64(sh.Spec.Batch)
	return int((sh.ShardSizes[0] + b - 1) / b), nil
}

// setTheory sets the ef21-theory (ef21-theory-am, ef21-pp-theory) step from L
// and every L_i, and keeps the L_i (EF21-W's weights).
func (sh *Shared) setTheory(l float64, li []float64) error {
	var th algorithms.Theory
	var err error
	switch sh.Spec.Rule {
	case algorithms.RuleEF21TheoryAM:
		th, err = algorithms.EF21TheoryAM(sh.Alpha, l, li, sh.Spec.Factor)
	case algorithms.RuleEF21PPTheory:
		th, err = algorithms.EF21PPTheory(sh.Alpha, l, li, sh.participation(), sh.Spec.Factor)
	default:
		th, err = algorithms.EF21Theory(sh.Alpha, l, li, sh.Spec.Factor)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	sh.Theory, sh.Schedule.Gamma, sh.LI = &th, th.Gamma, li
	return sh.checkGamma()
}

// participation is EF21-PP's p: Spec.Participation, 1 when unset (0).
func (sh *Shared) participation() float64 {
	if p := sh.Spec.Participation; p != 0 {
		return p
	}
	return 1
}

// theoryAttrs are the run-file attributes of the rule-specific theory
// constants beyond L, L̃, θ, β and factor: L_AM for ef21-theory-am; for
// ef21-pp-theory p, θ_p, B/L̃² ("B_p") and, when p < 1, EF21-PP's ρ
// ("pp_rho", algorithms.EF21PPTheory).
func (sh *Shared) theoryAttrs() []hdf5io.Attr {
	th := sh.Theory
	if th == nil {
		return nil
	}
	switch sh.Spec.Rule {
	case algorithms.RuleEF21TheoryAM:
		return []hdf5io.Attr{attr("L_AM", th.LAM)}
	case algorithms.RuleEF21PPTheory:
		a := []hdf5io.Attr{attr("theta_p", th.ThetaP), attr("B_p", th.BP)}
		if th.P < 1 {
			a = append(a, attr("pp_rho", th.Rho))
		}
		return a
	}
	return nil
}

func (sh *Shared) checkGamma() error {
	if g := sh.Schedule.Gamma; !(g > 0) || math.IsInf(g, 0) {
		return invalid("step size %v from rule %s is not a positive finite number", g, sh.Spec.Rule)
	}
	return nil
}

// holdsAll reports whether this process holds every rank's data.
func (sh *Shared) holdsAll() bool { return sh.polys != nil || len(sh.views) == sh.Ranks }

// Source names the data (a file path, "synthetic", "synthetic-sparse"); ""
// for the polynomial.
func (sh *Shared) Source() string { return sh.source }

// shard returns rank r's samples.
func (sh *Shared) shard(r int) (*datasets.Dataset, error) {
	i := r - sh.First
	if i < 0 || i >= len(sh.views) {
		return nil, fmt.Errorf("rank %d's data is not held by this process (it holds ranks %d to %d)", r, sh.First, sh.First+len(sh.views)-1)
	}
	return sh.views[i], nil
}

// blocks is the block boundaries of the layer-wise normalisation, from the
// objective of the first rank this process holds (problems.Blocker).
func (sh *Shared) blocks() ([]int, error) {
	obj, err := sh.Objective(sh.First)
	if err != nil {
		return nil, err
	}
	if c, ok := obj.(interface{ Close() }); ok {
		defer c.Close()
	}
	var b []int
	if bl, ok := obj.(problems.Blocker); ok {
		b = bl.Blocks()
	}
	if b == nil {
		return nil, invalid("normalize = \"layer\" needs a problem whose coordinates fall into blocks (a network's parameter tensors); problem %q has none", sh.Spec.Problem)
	}
	return b, nil
}

// Objective builds rank r's f_r.
func (sh *Shared) Objective(r int) (problems.Objective, error) {
	if sh.polys != nil {
		return sh.polys[r], nil
	}
	if sh.nn != nil {
		return sh.nnObjective(r)
	}
	s, err := sh.shard(r)
	if err != nil {
		return nil, err
	}
	dp, ok := problems.LookupDataProblem(sh.Spec.Problem)
	if !ok {
		return nil, invalid("unknown problem %q", sh.Spec.Problem)
	}
	return dp.New(s, sh.Spec.Lambda)
}

// Smoothness returns L (of f) and every L_i, as SPEC §5 defines them. It
// needs every rank's data in this process (Prepare); a process holding one
// rank computes them with SmoothnessComm. L is the constant of
// f = (1/n) Σ_i f_i, where each f_i averages over its own m_i samples: for
// logistic regression λ_max((1/n) Σ_i A_iᵀA_i/m_i)/4 + 2λ, from
// problems.LambdaMaxShards over the ranks' shards, with the products summed
// in the order of collective.Allreduce (sumLikeAllreduce), which is what the
// distributed computation gives, bit for bit. (λ_max(AᵀA)/(4m) + 2λ of the
// whole data is the same number only when every shard has the same size.)
func (sh *Shared) Smoothness() (float64, []float64, error) {
	if !sh.holdsAll() {
		return 0, nil, fmt.Errorf("smoothness: this process holds %d of %d ranks (use SmoothnessComm)", len(sh.views), sh.Ranks)
	}
	li := make([]float64, sh.Ranks)
	for r := range li {
		obj, err := sh.Objective(r)
		if err != nil {
			return 0, nil, err
		}
		if li[r], err = obj.Smoothness(sh.X0); err != nil {
			return 0, nil, fmt.Errorf("L_%d: %w", r, err)
		}
	}
	if sh.polys != nil {
		l, err := problems.MeanPolynomial(sh.polys).Smoothness(sh.X0)
		return l, li, err
	}
	dp, ok := problems.LookupDataProblem(sh.Spec.Problem)
	if !ok {
		return 0, nil, invalid("unknown problem %q", sh.Spec.Problem)
	}
	if dp.FromLambdaMax == nil { // a registered problem without the formula
		// Its Smoothness on the whole data is L of (1/n) Σ_i f_i only when
		// every f_i averages over as many samples.
		if !slices.Equal(sh.ShardSizes[:len(sh.ShardSizes)-1], sh.ShardSizes[1:]) {
			return 0, nil, invalid("problem %q: L of shards of unequal sizes %v needs its L as a function of λ_max (problems.DataProblem.FromLambdaMax)", sh.Spec.Problem, sh.ShardSizes)
		}
		l, err := dp.Smoothness(sh.block, sh.Spec.Lambda)
		return l, li, err
	}
	scratch := make([]float64, (sh.Ranks-1)*sh.Dim)
	lmax, err := problems.LambdaMaxShards(sh.views, func(dst []float64, parts [][]float64) {
		sumLikeAllreduce(dst, parts, scratch)
	})
	if err != nil {
		return 0, nil, fmt.Errorf("%s smoothness: %w", sh.Spec.Problem, err)
	}
	return dp.FromLambdaMax(lmax, sh.Ranks, sh.Spec.Lambda), li, nil
}

// sumLikeAllreduce sets dst to the sum of parts (one per rank, in rank
// order) in exactly the order collective.Allreduce adds the ranks'
// contributions (collective.TreeSum), so that the in-process Lanczos
// iteration of Smoothness and the distributed one of SmoothnessComm return
// the same bits; TestSumLikeAllreduce checks it against the real collective
// for several world sizes. scratch holds (len(parts)−1)·len(dst) values.
func sumLikeAllreduce(dst []float64, parts [][]float64, scratch []float64) {
	collective.TreeSum(dst, parts, scratch)
}

// SmoothnessComm returns L and every L_i like Smoothness, for a process
// holding one rank of comm: each rank computes its L_i from its own shard
// (gathered by an allreduce of n values, each rank filling its own slot, so
// the sum is exact), and L by a Lanczos iteration whose product
// Σ_i A_iᵀA_i v/m_i is summed over the ranks by collective.Allreduce (in its fixed
// order, the same on every transport). Every rank must call it.
func (sh *Shared) SmoothnessComm(comm collective.Comm) (float64, []float64, error) {
	if sh.polys != nil || sh.holdsAll() {
		return sh.Smoothness()
	}
	r := comm.Rank()
	view, err := sh.shard(r)
	if err != nil {
		return 0, nil, err
	}
	dp, ok := problems.LookupDataProblem(sh.Spec.Problem)
	if !ok || dp.FromLambdaMax == nil {
		return 0, nil, invalid("problem %q: ef21-theory under a launcher needs its L as a function of λ_max (problems.DataProblem.FromLambdaMax)", sh.Spec.Problem)
	}
	obj, err := dp.New(view, sh.Spec.Lambda)
	if err != nil {
		return 0, nil, fmt.Errorf("rank %d: %w", r, err)
	}
	mine := make([]float64, sh.Ranks)
	if mine[r], err = obj.Smoothness(sh.X0); err != nil {
		return 0, nil, fmt.Errorf("L_%d: %w", r, err)
	}
	li := make([]float64, sh.Ranks)
	if err := collective.Allreduce(comm, mine, li); err != nil {
		return 0, nil, commErr("smoothness: L_i", err)
	}
	op, err := problems.NewGramOp(view)
	if err != nil {
		return 0, nil, fmt.Errorf("rank %d: %w", r, err)
	}
	local := make([]float64, op.Dim())
	lmax, err := problems.LambdaMax(op.Dim(), sh.source, func(w, v []float64) error {
		op.ApplyMean(local, v)
		if err := collective.Allreduce(comm, local, w); err != nil {
			return commErr("smoothness: lanczos", err)
		}
		return nil
	})
	if err != nil {
		var re *RankError
		if errors.As(err, &re) {
			return 0, nil, re
		}
		return 0, nil, err
	}
	return dp.FromLambdaMax(lmax, sh.Ranks, sh.Spec.Lambda), li, nil
}

// connect completes what preparation left for the communicator, in a
// process holding one rank: every rank's label counts (an allreduce of n×2
// counts, each rank filling its own slots: exact), and the ef21-theory
// constants.
func (sh *Shared) connect(comm collective.Comm) error {
	if sh.pendingCounts {
		r := comm.Rank()
		v, err := sh.shard(r)
		if err != nil {
			return err
		}
		mine, all := make([]float64, 2*sh.Ranks), make([]float64, 2*sh.Ranks)
		for _, y := range v.Labels {
			if y < 0 {
				mine[2*r]++
			} else {
				mine[2*r+1]++
			}
		}
		if err := collective.Allreduce(comm, mine, all); err != nil {
			return commErr("label counts", err)
		}
		var tot [2]float64
		for q := range sh.Ranks {
			tot[0] += all[2*q]
			tot[1] += all[2*q+1]
		}
		sh.Classes = nil
		for c, y := range []float64{-1, 1} {
			if tot[c] > 0 {
				sh.Classes = append(sh.Classes, y)
			}
		}
		sh.LabelCounts = make([][]int64, sh.Ranks)
		for q := range sh.Ranks {
			for c := range 2 {
				if tot[c] > 0 {
					sh.LabelCounts[q] = append(sh.LabelCounts[q], int64(all[2*q+c]))
				}
			}
		}
		sh.pendingCounts = false
	}
	if !sh.pendingL && !sh.pendingLI {
		return nil
	}
	l, li, err := sh.SmoothnessComm(comm)
	if err != nil {
		return err
	}
	if sh.pendingLI && !sh.pendingL {
		sh.LI, sh.pendingLI = li, false
		return nil
	}
	sh.pendingL, sh.pendingLI = false, false
	return sh.setTheory(l, li)
}

// pending reports whether some constant still needs the other ranks
// (connect computes it over the communicator).
func (sh *Shared) pending() bool { return sh.pendingCounts || sh.pendingL || sh.pendingLI }

// wholeData reports whether every process must hold every row: a test set
// (held out or from a file) and the training-set evaluation are computed on
// rank 0 from the whole data, as before shard-local loading.
func wholeData(spec Spec) bool {
	return spec.TestFraction > 0 || spec.TestPath != "" || spec.EvalEvery > 0
}

// hashShard feeds one shard into h (little-endian, through a small buffer).
func hashShard(h hash.Hash, ds *datasets.Dataset) {
	var buf [8 << 10]byte
	n := 0
	put := func(u uint64) {
		if n+8 > len(buf) {
			h.Write(buf[:n])
			n = 0
		}
		binary.LittleEndian.PutUint64(buf[n:], u)
		n += 8
	}
	put(uint64(ds.Cols()))
	put(uint64(ds.Rows()))
	if s := ds.Sparse; s != nil {
		for _, p := range s.RowPtr {
			put(uint64(p))
		}
		for _, c := range s.ColIdx {
			put(uint64(c))
		}
		for _, v := range s.Val {
			put(math.Float64bits(v))
		}
	} else {
		for _, v := range ds.Dense.Data {
			put(math.Float64bits(v))
		}
	}
	for _, v := range ds.Labels {
		put(math.Float64bits(v))
	}
	h.Write(buf[:n])
}

// initialPoint builds x^0: N(0, σ0² I) from the seed, zeros, or a file (text,
// one value per line; or HDF5, a run's /x_final).
func initialPoint(spec Spec, d int) ([]float64, error) {
	x := make([]float64, d)
	switch spec.X0 {
	case "normal", "":
		r, _ := rng.New(spec.Seed, rng.InitPoint, 0)
		for j := range x {
			x[j] = spec.Sigma0 * r.NormFloat64()
		}
		return x, nil
	case "zeros":
		return x, nil
	}
	path := spec.X0
	var v []float64
	if strings.HasSuffix(path, ".h5") || strings.HasSuffix(path, ".hdf5") {
		run, err := hdf5io.Open(path)
		if err != nil {
			return nil, fmt.Errorf("%w: x0: %v", ErrInvalid, err)
		}
		if run.XFinal == nil {
			return nil, invalid("x0 %s: no /x_final dataset", path)
		}
		v = run.XFinal
	} else {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, invalid("x0 %s: %v", path, err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			f, err := strconv.ParseFloat(line, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, invalid("x0 %s line %d: %q is not a finite number", path, i+1, line)
			}
			v = append(v, f)
		}
	}
	if len(v) != d {
		return nil, invalid("x0 %s has %d values, the problem has dimension %d", filepath.Clean(path), len(v), d)
	}
	return v, nil
}
