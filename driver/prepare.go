// Package driver runs one job: it glues a method (algorithms), a problem
// (problems, datasets), a communicator (collective) and a recorder (hdf5io) into
// the distributed iteration loop of ARCHITECTURE.md. It knows nothing about TOML
// or flags: cmd/efmpi turns a config into a Spec.
package driver

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/efmpi/efmpi/algorithms"
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
	// labels as targets) or "polynomial".
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

	Method         string // algorithms.EF21, EF21SGDM, EF14, EF21W, SignSGD
	Normalize      bool
	Compressor     string
	K              int
	InitCompressed bool
	Batch          int
	InitBatch      int
	Momentum       string // "constant" | "eta-theory"
	Eta, Eta0      float64
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
}

// Shared is everything a rank needs that does not depend on communication:
// the loaded data, x^0, the constants of the step-size rule. Prepare builds it
// once per process; in-process ranks share one (read-only).
type Shared struct {
	Spec  Spec
	Ranks int
	Dim   int
	full  *datasets.Dataset
	polys []*problems.Polynomial
	X0    []float64
	// Schedule is the step size; Eta the momentum actually used.
	Schedule algorithms.Schedule
	Eta      float64
	// Alpha is the compressor's contraction; Theory is set for ef21-theory.
	Alpha  float64
	Theory *algorithms.Theory
	// ShardSizes[r] is m_r (0 for the polynomial).
	ShardSizes []int64
	// Traits are the method's; LI holds every L_i when the method (EF21-W)
	// or the rule needs them.
	Traits algorithms.Traits
	LI     []float64
	// Test is the held-out test set (nil without one).
	Test *datasets.Dataset
	// Classes are the dataset's labels in increasing order and
	// LabelCounts[r][c] the number of rank r's samples of class c (nil for
	// the polynomial).
	Classes     []float64
	LabelCounts [][]int64
	// Data identifies the loaded data (size and content hash; zero for the
	// polynomial): checkpoints record it and multi-process ranks agree on it.
	Data DataPrint
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Prepare loads the data, checks everything that depends on it and computes
// the step size for n ranks.
func Prepare(spec Spec, n int) (*Shared, error) {
	if n < 1 {
		return nil, invalid("%d ranks: need at least 1", n)
	}
	sh := &Shared{Spec: spec, Ranks: n}
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
		var ds *datasets.Dataset
		var err error
		if spec.Source != "libsvm" {
			if err := checkMemory(8*float64(spec.Samples)*float64(spec.Features), fmt.Sprintf("synthetic data of %d × %d", spec.Samples, spec.Features)); err != nil {
				return nil, err
			}
		}
		if spec.Source == "libsvm" {
			ds, err = datasets.ReadLIBSVM(spec.DataPath, datasets.ReadOptions{Features: spec.Features})
		} else {
			ds, err = datasets.Synthetic(spec.Samples, spec.Features, spec.Seed)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		if spec.TestFraction > 0 {
			if ds, sh.Test, err = datasets.HoldOut(ds, spec.TestFraction, spec.Seed); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
			}
		} else if spec.TestPath != "" {
			if sh.Test, err = datasets.ReadLIBSVM(spec.TestPath, datasets.ReadOptions{Features: ds.Cols()}); err != nil {
				return nil, fmt.Errorf("%w: test set: %v", ErrInvalid, err)
			}
		}
		if ds.Rows() < n {
			return nil, invalid("dataset %s has %d samples, fewer than the %d ranks", ds.Source, ds.Rows(), n)
		}
		sh.full, sh.Dim = ds, ds.Cols()
		sh.Data = fingerprintData(ds)
		sh.ShardSizes = make([]int64, n)
		minShard := ds.Rows()
		for r := range n {
			s, err := sh.shard(r)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
			}
			sh.ShardSizes[r] = int64(s.Rows())
			minShard = min(minShard, s.Rows())
			if r == 0 {
				sh.Classes = datasets.Classes(ds.Labels)
			}
			sh.LabelCounts = append(sh.LabelCounts, datasets.LabelCounts(s, sh.Classes))
		}
		if sh.Traits.Stochastic {
			if b := max(spec.Batch, spec.InitBatch); b > minShard {
				return nil, invalid("minibatch size %d exceeds the smallest shard (%d samples with %d ranks)", b, minShard, n)
			}
		}
	case spec.Problem == "polynomial":
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
	default:
		return nil, invalid("unknown problem %q", spec.Problem)
	}
	d := sh.Dim
	if err := checkDimension(d, 1); err != nil { // every process holds at least one rank
		return nil, err
	}
	if algorithms.CompressorUsesK(spec.Compressor) && (spec.K < 1 || spec.K > d) {
		return nil, invalid("k = %d must be in [1, d = %d]", spec.K, d)
	}
	x0, err := initialPoint(spec, d)
	if err != nil {
		return nil, err
	}
	sh.X0 = x0
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
	sh.Schedule = algorithms.Schedule{Rule: spec.Rule}
	switch spec.Rule {
	case algorithms.RuleEF21Theory:
		l, li, err := sh.Smoothness()
		if err != nil {
			return nil, err
		}
		th, err := algorithms.EF21Theory(sh.Alpha, l, li, spec.Factor)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		sh.Theory, sh.Schedule.Gamma, sh.LI = &th, th.Gamma, li
	case algorithms.RuleEF21TheoryAM:
		l, li, err := sh.Smoothness()
		if err != nil {
			return nil, err
		}
		th, err := algorithms.EF21TheoryAM(sh.Alpha, l, li, spec.Factor)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		sh.Theory, sh.Schedule.Gamma, sh.LI = &th, th.Gamma, li
	case algorithms.RuleNormTheory:
		sh.Schedule.Gamma = algorithms.NormTheory(spec.Gamma0, spec.Iterations, sgdm)
	case algorithms.RuleConstant:
		sh.Schedule.Gamma = spec.Gamma
	case algorithms.RuleDecreasing:
		sh.Schedule.Gamma, sh.Schedule.Decreasing = spec.Gamma0, true
	default:
		return nil, invalid("unknown step-size rule %q", spec.Rule)
	}
	if spec.Method == algorithms.EF21W && sh.LI == nil {
		if _, sh.LI, err = sh.Smoothness(); err != nil {
			return nil, err
		}
	}
	if !(sh.Schedule.Gamma > 0) || math.IsInf(sh.Schedule.Gamma, 0) {
		return nil, invalid("step size %v from rule %s is not a positive finite number", sh.Schedule.Gamma, spec.Rule)
	}
	return sh, nil
}

// shard returns rank r's samples.
func (sh *Shared) shard(r int) (*datasets.Dataset, error) {
	return datasets.Shard(sh.full, sh.Ranks, r, datasets.ShardOptions{Shuffle: sh.Spec.Shuffle, Seed: sh.Spec.Seed, Split: sh.Spec.Split, Alpha: sh.Spec.SplitAlpha})
}

// Objective builds rank r's f_r.
func (sh *Shared) Objective(r int) (problems.Objective, error) {
	if sh.polys != nil {
		return sh.polys[r], nil
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

// Smoothness returns L (of f) and every L_i, as SPEC §5 defines them.
func (sh *Shared) Smoothness() (float64, []float64, error) {
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
	l, err := dp.Smoothness(sh.full, sh.Spec.Lambda)
	return l, li, err
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
