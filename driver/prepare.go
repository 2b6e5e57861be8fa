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
	// Problem: "logreg" or "polynomial".
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

	Method         string // algorithms.EF21, EF21SGDM, EF14
	Normalize      bool
	Compressor     string
	K              int
	InitCompressed bool
	Batch          int
	InitBatch      int
	Momentum       string // "constant" | "eta-theory"
	Eta, Eta0      float64

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
	// nn holds the images and shards of Problem "nn".
	nn *nnJob
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
	switch spec.Problem {
	case "logreg":
		var ds *datasets.Dataset
		var err error
		if spec.Source == "libsvm" {
			ds, err = datasets.ReadLIBSVM(spec.DataPath, datasets.ReadOptions{Features: spec.Features})
		} else {
			ds, err = datasets.Synthetic(spec.Samples, spec.Features, spec.Seed)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		if ds.Rows() < n {
			return nil, invalid("dataset %s has %d samples, fewer than the %d ranks", ds.Source, ds.Rows(), n)
		}
		sh.full, sh.Dim = ds, ds.Cols()
		sh.ShardSizes = make([]int64, n)
		minShard := ds.Rows()
		for r := range n {
			s, err := sh.shard(r)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
			}
			sh.ShardSizes[r] = int64(s.Rows())
			minShard = min(minShard, s.Rows())
		}
		if sh.stochastic() {
			if b := max(spec.Batch, spec.InitBatch); b > minShard {
				return nil, invalid("minibatch size %d exceeds the smallest shard (%d samples with %d ranks)", b, minShard, n)
			}
		}
	case "polynomial":
		if spec.PolyDim < 1 {
			return nil, invalid("polynomial dimension %d: need at least 1", spec.PolyDim)
		}
		sh.Dim = spec.PolyDim
		sh.ShardSizes = make([]int64, n)
		for r := range n {
			p, err := problems.NewPolynomial(sh.Dim, spec.Seed, r)
			if err != nil {
				return nil, err
			}
			sh.polys = append(sh.polys, p)
		}
	case "nn":
		if err := sh.prepareNN(); err != nil {
			return nil, err
		}
	default:
		return nil, invalid("unknown problem %q", spec.Problem)
	}
	d := sh.Dim
	if spec.KFraction > 0 {
		spec.K = max(1, int(math.Round(spec.KFraction*float64(d))))
		sh.Spec.K = spec.K
	}
	if (spec.Compressor == "top-k" || spec.Compressor == "rand-k") && (spec.K < 1 || spec.K > d) {
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
	comp, err := algorithms.NewCompressor(spec.Compressor, spec.K, d, nil)
	if err != nil && spec.Compressor != "rand-k" {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if comp == nil {
		comp = algorithms.NewRandK(spec.K, nil)
	}
	sh.Alpha = comp.Alpha(d)
	sgdm := spec.Method == algorithms.EF21SGDM
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
		sh.Theory, sh.Schedule.Gamma = &th, th.Gamma
	case algorithms.RuleNormTheory:
		sh.Schedule.Gamma = algorithms.NormTheory(spec.Gamma0, spec.Iterations, sgdm)
	case algorithms.RuleConstant:
		sh.Schedule.Gamma = spec.Gamma
	case algorithms.RuleDecreasing:
		sh.Schedule.Gamma, sh.Schedule.Decreasing = spec.Gamma0, true
	default:
		return nil, invalid("unknown step-size rule %q", spec.Rule)
	}
	if !(sh.Schedule.Gamma > 0) || math.IsInf(sh.Schedule.Gamma, 0) {
		return nil, invalid("step size %v from rule %s is not a positive finite number", sh.Schedule.Gamma, spec.Rule)
	}
	return sh, nil
}

// shard returns rank r's samples.
func (sh *Shared) shard(r int) (*datasets.Dataset, error) {
	return datasets.Shard(sh.full, sh.Ranks, r, datasets.ShardOptions{Shuffle: sh.Spec.Shuffle, Seed: sh.Spec.Seed, Split: sh.Spec.Split})
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
	return problems.NewLogReg(s, sh.Spec.Lambda)
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
	l, err := problems.LogRegSmoothness(sh.full, sh.Spec.Lambda)
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
