// Package config reads efmpi's TOML experiment files (SPEC §7) strictly: an
// unknown key, a wrong type, an unknown name or a key that does not apply to
// the chosen method is an error naming the file and the key. It fills in
// defaults, applies `-set section.key=value` overrides, and renders the
// effective configuration that every run stores in its HDF5 file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/problems"
)

// ErrInvalid marks every error that is the user's input (file, key, value).
var ErrInvalid = errors.New("invalid configuration")

// Config is one experiment. Field comments give the defaults.
type Config struct {
	Problem   Problem   `toml:"problem"`
	Data      Data      `toml:"data"`
	Algorithm Algorithm `toml:"algorithm"`
	Noise     Noise     `toml:"noise"`
	Stepsize  Stepsize  `toml:"stepsize"`
	Init      Init      `toml:"init"`
	Run       Run       `toml:"run"`
	NN        NN        `toml:"nn"`

	// Path is the file the config came from ("" for the embedded default).
	Path string `toml:"-"`
	// set records which keys the file or an override defined ("section.key").
	set map[string]bool
}

// Problem is [problem].
type Problem struct {
	Kind   string  `toml:"kind"`   // "logreg" | "leastsq" | "polynomial" | "nn" (problems.Kinds); default logreg
	Lambda float64 `toml:"lambda"` // nonconvex regulariser weight; default 0.1
	Dim    int     `toml:"dim"`    // polynomial dimension d; default 100
}

// Data is [data] (logistic regression only).
type Data struct {
	Source   string `toml:"source"`   // "libsvm" | "hdf5" | "synthetic" | "synthetic-sparse"; default synthetic
	Path     string `toml:"path"`     // LIBSVM or HDF5 (efmpi data convert) file, relative to the config file's directory
	Features int    `toml:"features"` // d: LIBSVM/HDF5: 0 = from the file; synthetic: default 50; synthetic-sparse: default 10000
	Samples  int    `toml:"samples"`  // synthetic and synthetic-sparse: default 1000
	Shuffle  bool   `toml:"shuffle"`  // shuffle samples with the seed before sharding
	Split    string `toml:"split"`    // "contiguous" | "label" | "dirichlet"; default contiguous
	// Alpha is the concentration of split = "dirichlet"; default 0.5.
	Alpha float64 `toml:"alpha"`
	// TestPath is a held-out LIBSVM test set (relative like Path);
	// TestFraction instead holds out that fraction of the data, drawn with
	// the seed (0: none). At most one of them.
	TestPath     string  `toml:"test_path"`
	TestFraction float64 `toml:"test_fraction"`
	// synthetic-sparse only: nonzeros per row (default 20), the exponent s
	// of column popularity ∝ (c+1)^−s (default 1), the probability that a
	// label of the planted model is flipped (default 0.05).
	NNZPerRow  int     `toml:"nnz_per_row"`
	Exponent   float64 `toml:"exponent"`
	LabelNoise float64 `toml:"label_noise"`
}

// Algorithm is [algorithm].
type Algorithm struct {
	Method string `toml:"method"` // "ef21" | "ef21-sgdm" | "ef14" | "ef21-w" | "signsgd"; default ef21

	// Normalize: the ||·|| variants, false | true (= "global") | "layer" (normalize.go).
	Normalize Normalize `toml:"normalize"`

	Compressor string  `toml:"compressor"` // "top-k" | "rand-k" | "sign" | "identity"; default top-k
	K          int     `toml:"k"`          // default 1
	KFraction  float64 `toml:"k_fraction"` // k as a fraction of d (instead of k): k = max(1, round(k_fraction·d))
	Init       string  `toml:"init"`       // "uncompressed" | "compressed"; default uncompressed
	Batch      int     `toml:"batch"`      // ef21-sgdm (and every method with kind = "nn") minibatch size; default 32 (nn: 128)
	InitBatch  int     `toml:"init_batch"` // ef21-sgdm initial minibatch; default batch; 0 with kind = "nn": the whole shard
	Momentum   string  `toml:"momentum"`   // "constant" | "eta-theory"; default constant
	Eta        float64 `toml:"eta"`        // constant momentum; default 0.1
	Eta0       float64 `toml:"eta0"`       // eta-theory: η = min(1, η0/√(K+1)); default 1
	// Participation is EF21-PP's probability p ∈ (0, 1] that a client takes
	// part in an iteration (ef21, ef21-w); unset (0) is 1.
	Participation float64 `toml:"participation,omitempty"`
	// Issue 24 (config/schedules.go): the momentum schedule, how
	// Hessian-vector products are computed.
	EtaRule string  `toml:"eta_rule,omitempty"` // "constant" | "poly"; default constant
	EtaQ    float64 `toml:"eta_q,omitempty"`    // poly: η_t = eta·(2/(t+2))^eta_q; default the method's
	EtaPer  string  `toml:"eta_per,omitempty"`  // "iteration" | "epoch"; default iteration
	HVP     string  `toml:"hvp,omitempty"`      // "analytic" | "central"; default analytic
	HVPEps  float64 `toml:"hvp_eps,omitempty"`  // central differences' ε; default 1e-4
}

// Noise is [noise]: heavy-tailed noise added to every stochastic gradient
// (ef21-sgdm, signsgd) from the rank's own minibatch stream.
type Noise struct {
	Kind  string  `toml:"kind,omitempty"`  // "gaussian" | "student-t" | "pareto"; unset: no noise
	Scale float64 `toml:"scale,omitempty"` // multiplies every sample; default 1
	Nu    float64 `toml:"nu,omitempty"`    // student-t degrees of freedom / pareto tail index
}

// Stepsize is [stepsize].
type Stepsize struct {
	Rule   string  `toml:"rule"`   // "ef21-theory" | "ef21-theory-am" | "ef21-pp-theory" | "norm-theory" | "constant" | "decreasing"
	Gamma  float64 `toml:"gamma"`  // constant rule
	Gamma0 float64 `toml:"gamma0"` // norm-theory and decreasing; default 1
	Factor float64 `toml:"factor"` // multiplier of the theory rules (ef21-theory, ef21-theory-am, ef21-pp-theory); default 1
	// rule = "poly" (issue 24): γ_t = gamma0/(t+1)^p, t per iteration or epoch.
	P   float64 `toml:"p,omitempty"`
	Per string  `toml:"per,omitempty"` // "iteration" | "epoch"; default iteration
}

// Init is [init].
type Init struct {
	X0     string  `toml:"x0"`     // "normal" | "zeros" | path to .txt or .h5; default normal
	Sigma0 float64 `toml:"sigma0"` // default 1
}

// Run is [run].
type Run struct {
	Iterations int     `toml:"iterations"`  // K; default 1000
	Ranks      int     `toml:"ranks"`       // in-process ranks when not under a launcher; default 4
	Seed       uint64  `toml:"seed"`        // default 1
	LogEvery   int     `toml:"log_every"`   // default 1
	EvalEvery  int     `toml:"eval_every"`  // train/test loss and accuracy every this many iterations (a multiple of log_every); default log_every with a test set, else 0 (none)
	FlushEvery int     `toml:"flush_every"` // rows between HDF5 flushes; default 100
	Tolerance  float64 `toml:"tolerance"`   // stop when ‖∇f‖² ≤ tolerance; 0 = never
	Output     string  `toml:"output"`      // HDF5 file; default results/<name>.h5
	Downlink   string  `toml:"downlink"`    // "sparse" (the aggregate) | "dense" (x); default sparse
	Transport  string  `toml:"transport"`   // "inproc" | "tcp" | "btracey" | "mpi"; default inproc
	Timeout    string  `toml:"timeout"`     // dead-rank detection (Go duration); default 30s
	// CheckpointEvery writes a checkpoint every that many iterations (0: only
	// when a signal stops the run); Resume continues from the newest one.
	CheckpointEvery int  `toml:"checkpoint_every"`
	Resume          bool `toml:"resume"`
	// Threads is each rank's thread count for a network (0: the CPUs a
	// process running one rank was given, GOMAXPROCS shared by in-process
	// ranks).
	Threads int `toml:"threads"`
}

// NN is [nn], the network and image data of problem.kind = "nn".
type NN struct {
	Model        string `toml:"model"`         // "mlp" | "lenet" | "resnet20"; default lenet
	Widths       []int  `toml:"widths"`        // mlp hidden widths; default [128]
	Data         string `toml:"data"`          // "mnist" (IDX files: MNIST or Fashion-MNIST) | "cifar10"; default mnist
	Path         string `toml:"path"`          // directory of the files, relative to the config file; default data/mnist
	TrainSamples int    `toml:"train_samples"` // use the first N training images (0: all)
	TestSamples  int    `toml:"test_samples"`  // score the first N test images on rank 0 (0: all)
	Chunk        int    `toml:"chunk"`         // images per forward pass in full passes (train loss, ‖∇f‖², test); default 128
	Precision    string `toml:"precision"`     // "float32" (default) | "float64" (the reference)
	BNEval       string `toml:"bn_eval"`       // full passes' batch norm: "running" (default: rank 0's running statistics) | "batch"
	Input        string `toml:"input"`         // pixels as "standardize" (default: (p/255 − mean_c)/std_c) | "unit" (p/255, torchvision's ToTensor)
}

// MaxIterations is the largest [run] iterations accepted: far beyond any run
// that finishes, and small enough that K+1, (K+1)^{3/4} and every iteration
// counter stay exact in float64 and int64.
const MaxIterations = 1 << 40

// MaxSeed is the largest [run] seed accepted (TOML integers are signed 64-bit,
// so a negative seed would otherwise wrap to a huge unsigned one).
const MaxSeed = math.MaxInt64

// Default is the embedded default experiment: ||EF21|| with top-1 on a
// generated synthetic logistic-regression problem with 4 in-process ranks.
const Default = `# The embedded default: ||EF21|| (normalised EF21) with top-1 on synthetic
# logistic regression with the nonconvex regulariser, 4 in-process ranks.
[problem]
kind = "logreg"
lambda = 0.1
[data]
source = "synthetic"
samples = 1000
features = 50
[algorithm]
method = "ef21"
normalize = true
compressor = "top-k"
k = 1
[stepsize]
rule = "norm-theory"   # γ = γ0/√(K+1), γ0 = 1 by default
[run]
iterations = 2000
ranks = 4
seed = 1
log_every = 10
output = "results/default-ef21-norm.h5"
`

// Load reads and validates a config file, then applies overrides of the form
// "section.key=value" (the value in TOML syntax; bare words are strings).
func Load(path string, overrides []string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: config %s: %v", ErrInvalid, path, err)
	}
	return Parse(data, path, overrides)
}

// Parse is Load for text already in memory; name is used in messages and to
// resolve relative paths (its directory). An error names the line of the
// file (a key the file sets) or the -set override it comes from, and an
// unknown key or value gets the nearest known one as a suggestion.
func Parse(data []byte, name string, overrides []string) (*Config, error) {
	// First pass: strict decode of the file alone, so an unknown key or a
	// wrong type is reported against the file's own lines.
	var probe Config
	md, err := toml.Decode(string(data), &probe)
	if err != nil {
		return nil, fileError(name, 0, "%v", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		table := md.Type(k...) == "Hash"
		return nil, fileError(name, keyLine(data, k.String(), table), "%s", unknownKey(k, table))
	}
	c, err := decode(data, name, overrides)
	if err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, blame(data, name, overrides, err)
	}
	return c, nil
}

// fileError is an error of the config file name, at line (0: no line).
func fileError(name string, line int, format string, args ...any) error {
	if line > 0 {
		return fmt.Errorf("%w: config %s line %d: %s", ErrInvalid, name, line, fmt.Sprintf(format, args...))
	}
	return fmt.Errorf("%w: config %s: %s", ErrInvalid, name, fmt.Sprintf(format, args...))
}

// decode applies the overrides to the file's tree and decodes the result
// with the defaults filled in, not yet validated.
func decode(data []byte, name string, overrides []string) (*Config, error) {
	var tree map[string]any
	if _, err := toml.Decode(string(data), &tree); err != nil {
		return nil, fileError(name, 0, "%v", err)
	}
	for _, o := range overrides {
		if err := applyOverride(tree, o); err != nil {
			return nil, fmt.Errorf("%w: -set %s: %v", ErrInvalid, o, err)
		}
	}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(tree); err != nil {
		return nil, fileError(name, 0, "%v", err)
	}
	var c Config
	md, err := toml.Decode(buf.String(), &c)
	if err != nil {
		if o, oerr := blameOverride(overrides); oerr != nil {
			return nil, fmt.Errorf("%w: -set %s: %v", ErrInvalid, o, oerr)
		}
		return nil, fmt.Errorf("%w: config %s with -set overrides: %v", ErrInvalid, name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		table := md.Type(k...) == "Hash"
		for _, o := range overrides {
			if ok := overrideKey(o); ok == k.String() || table && strings.HasPrefix(ok, k.String()+".") {
				return nil, fmt.Errorf("%w: -set %s: %s", ErrInvalid, o, unknownKey(k, table))
			}
		}
		return nil, fmt.Errorf("%w: -set: %s", ErrInvalid, unknownKey(k, table))
	}
	c.Path = name
	c.set = map[string]bool{}
	for _, k := range md.Keys() {
		if len(k) == 2 {
			c.set[k.String()] = true
		}
	}
	c.defaults()
	return &c, nil
}

// blame words a validation error err of the file with the overrides: against
// the first override after which it appears (the file alone, and the
// overrides before, do not give it), else against the file, at the line of
// the key it names. A key the file sets that an override made inapplicable
// comes with the -unset that drops it.
func blame(data []byte, name string, overrides []string, err error) error {
	msg, key := err.Error(), keyOf(err)
	gives := func(overrides []string) bool {
		c, derr := decode(data, name, overrides)
		if derr != nil {
			return false
		}
		verr := c.validate()
		return verr != nil && verr.Error() == msg
	}
	if len(overrides) > 0 && !gives(nil) {
		for i := 1; i <= len(overrides); i++ {
			if !gives(overrides[:i]) {
				continue
			}
			o := overrides[i-1]
			var ve *valueError
			if errors.As(err, &ve) && ve.key == overrideKey(o) {
				msg = fmt.Sprintf("unknown value %q (want %s)%s", ve.value, strings.Join(ve.allowed, ", "), didYouMean(ve.value, ve.allowed))
			}
			var ie *inapplicableError
			if errors.As(err, &ie) && ie.key != overrideKey(o) {
				if line := keyLine(data, ie.key, false); line > 0 {
					msg += fmt.Sprintf("; config %s line %d sets it: drop it with -unset %s", name, line, ie.key)
				} else {
					msg += fmt.Sprintf("; drop it with -unset %s", ie.key)
				}
			}
			return fmt.Errorf("%w: -set %s: %s", ErrInvalid, o, msg)
		}
	}
	line := 0
	if key != "" {
		line = keyLine(data, key, false)
	}
	return fileError(name, line, "%s", msg)
}

func applyOverride(tree map[string]any, o string) error {
	eq := strings.IndexByte(o, '=')
	if eq < 0 {
		return fmt.Errorf("want section.key=value")
	}
	key, raw := strings.TrimSpace(o[:eq]), strings.TrimSpace(o[eq+1:])
	dot := strings.IndexByte(key, '.')
	if dot <= 0 || dot == len(key)-1 || strings.Count(key, ".") != 1 {
		return fmt.Errorf("key %q: want section.key", key)
	}
	section, field := key[:dot], key[dot+1:]
	if raw == "" {
		// "section.key=" unsets the key: the default applies (or, for a
		// key that does not apply to the chosen method/rule, nothing)
		if sec, ok := tree[section].(map[string]any); ok {
			delete(sec, field)
		}
		return nil
	}
	var v map[string]any
	if _, err := toml.Decode("v = "+raw, &v); err != nil {
		v = map[string]any{"v": raw} // a bare word is a string
	}
	sec, ok := tree[section].(map[string]any)
	if !ok {
		sec = map[string]any{}
		tree[section] = sec
	}
	sec[field] = v["v"]
	return nil
}

// blameOverride decodes each override on its own and returns the first one
// whose value does not fit its key, with the reason in the words of the key
// (not of a line of the re-encoded file, which the user never wrote).
func blameOverride(overrides []string) (string, error) {
	for _, o := range overrides {
		tree := map[string]any{}
		if err := applyOverride(tree, o); err != nil {
			return o, err
		}
		var buf bytes.Buffer
		if err := toml.NewEncoder(&buf).Encode(tree); err != nil {
			return o, err
		}
		var c Config
		if _, err := toml.Decode(buf.String(), &c); err != nil {
			key, raw, _ := strings.Cut(o, "=")
			msg := err.Error()
			if i := strings.Index(msg, "incompatible types: "); i >= 0 {
				msg = msg[i+len("incompatible types: "):]
			}
			return o, fmt.Errorf("value %s does not fit key %s: %s", strings.TrimSpace(raw), strings.TrimSpace(key), msg)
		}
	}
	return "", nil
}

// IsSet reports whether the file or an override defined "section.key".
func (c *Config) IsSet(key string) bool { return c.set[key] }

func (c *Config) defaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	defInt := func(key string, p *int, v int) {
		if !c.set[key] {
			*p = v
		}
	}
	defFloat := func(key string, p *float64, v float64) {
		if !c.set[key] {
			*p = v
		}
	}
	def(&c.Problem.Kind, "logreg")
	defFloat("problem.lambda", &c.Problem.Lambda, 0.1)
	if c.Problem.Kind == "polynomial" {
		defInt("problem.dim", &c.Problem.Dim, 100)
	}
	def(&c.Data.Source, "synthetic")
	def(&c.Data.Split, "contiguous")
	if c.Data.Split == "dirichlet" {
		defFloat("data.alpha", &c.Data.Alpha, 0.5)
	}
	if c.Data.Source == "synthetic" {
		defInt("data.samples", &c.Data.Samples, 1000)
		defInt("data.features", &c.Data.Features, 50)
	}
	if c.Problem.Kind == problems.KindNN {
		c.nnDefaults()
	}
	if c.Data.Source == "synthetic-sparse" {
		defInt("data.samples", &c.Data.Samples, 1000)
		defInt("data.features", &c.Data.Features, 10000)
		defInt("data.nnz_per_row", &c.Data.NNZPerRow, 20)
		defFloat("data.exponent", &c.Data.Exponent, 1)
		defFloat("data.label_noise", &c.Data.LabelNoise, 0.05)
	}
	def(&c.Algorithm.Method, "ef21")
	def(&c.Algorithm.Compressor, "top-k")
	defInt("algorithm.k", &c.Algorithm.K, 1)
	def(&c.Algorithm.Init, "uncompressed")
	defBatch := 32
	if c.Problem.Kind == "nn" {
		defBatch = 128
	}
	defInt("algorithm.batch", &c.Algorithm.Batch, defBatch)
	defInt("algorithm.init_batch", &c.Algorithm.InitBatch, c.Algorithm.Batch)
	def(&c.Algorithm.Momentum, "constant")
	defFloat("algorithm.eta", &c.Algorithm.Eta, 0.1)
	defFloat("algorithm.eta0", &c.Algorithm.Eta0, 1)
	if c.Stepsize.Rule == "" {
		if c.Algorithm.Normalize.On() {
			c.Stepsize.Rule = "norm-theory"
		} else {
			c.Stepsize.Rule = "ef21-theory"
		}
	}
	if c.Noise.Kind != "" {
		defFloat("noise.scale", &c.Noise.Scale, 1)
	}
	defFloat("stepsize.gamma0", &c.Stepsize.Gamma0, 1)
	defFloat("stepsize.factor", &c.Stepsize.Factor, 1)
	def(&c.Init.X0, "normal")
	defFloat("init.sigma0", &c.Init.Sigma0, 1)
	defInt("run.iterations", &c.Run.Iterations, 1000)
	defInt("run.ranks", &c.Run.Ranks, 4)
	if !c.set["run.seed"] {
		c.Run.Seed = 1
	}
	defInt("run.log_every", &c.Run.LogEvery, 1)
	if c.Data.TestPath != "" || c.Data.TestFraction != 0 || c.Problem.Kind == problems.KindNN {
		// a network always has its test set ([nn] data)
		defInt("run.eval_every", &c.Run.EvalEvery, c.Run.LogEvery)
	}
	defInt("run.flush_every", &c.Run.FlushEvery, 100)
	def(&c.Run.Downlink, "sparse")
	def(&c.Run.Transport, "inproc")
	def(&c.Run.Timeout, "30s")
	if c.Run.Output == "" {
		base := "efmpi"
		if c.Path != "" {
			base = strings.TrimSuffix(filepath.Base(c.Path), filepath.Ext(c.Path))
		}
		c.Run.Output = filepath.Join("results", base+".h5")
	}
}

func oneOf(key, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return &valueError{key: key, value: v, allowed: allowed}
}

// validate checks names, ranges and keys that do not apply. Checks that need
// the data (k ≤ d, ranks ≤ samples) happen when the job is built.
func (c *Config) validate() error {
	a, s, r := &c.Algorithm, &c.Stepsize, &c.Run
	for _, e := range []error{
		oneOf("problem.kind", c.Problem.Kind, problems.Kinds()...), // problems/registry.go
		oneOf("data.source", c.Data.Source, "libsvm", "hdf5", "synthetic", "synthetic-sparse"),
		oneOf("data.split", c.Data.Split, "contiguous", "label", "dirichlet"),
		oneOf("algorithm.method", a.Method, algorithms.Methods()...),                 // registered by algorithms/ (one file per method)
		oneOf("algorithm.compressor", a.Compressor, algorithms.CompressorNames()...), // built in, or registered (algorithms/registry.go)
		oneOf("algorithm.init", a.Init, "uncompressed", "compressed"),
		oneOf("algorithm.momentum", a.Momentum, "constant", "eta-theory"),
		oneOf("stepsize.rule", s.Rule, "ef21-theory", "ef21-theory-am", "ef21-pp-theory", "norm-theory", "constant", "decreasing", "poly"),
		oneOf("run.downlink", r.Downlink, "sparse", "dense"),
		oneOf("run.transport", r.Transport, "inproc", "tcp", "btracey", "mpi"),
	} {
		if e != nil {
			return e
		}
	}
	if err := c.validateNN(); err != nil {
		return err
	}
	inapplicable := c.inapplicable()
	for _, k := range c.Keys() {
		if why, ok := inapplicable[k]; ok {
			return &inapplicableError{key: k, why: why}
		}
	}
	sgdm := a.Method == "ef21-sgdm" || a.Method == "signsgd" || momentumMethod(a.Method) // minibatches and momentum
	if err := c.validateSchedules(); err != nil {
		return err
	}
	if c.Noise.Kind != "" {
		if err := oneOf("noise.kind", c.Noise.Kind, "gaussian", "student-t", "pareto"); err != nil {
			return err
		}
	}
	switch {
	case c.set["algorithm.participation"] && !(a.Participation > 0 && a.Participation <= 1):
		return fmt.Errorf("[algorithm] participation = %v must be in (0, 1]", a.Participation)
	case c.Noise.Kind != "" && !(c.Noise.Scale >= 0):
		return fmt.Errorf("[noise] scale = %v must be ≥ 0", c.Noise.Scale)
	case c.Noise.Kind != "" && c.Noise.Kind != "gaussian" && !(c.Noise.Nu > 0):
		return fmt.Errorf("[noise] nu = %v must be positive", c.Noise.Nu)
	case a.Normalize.On() && a.Normalize != NormalizeGlobal && !a.Normalize.Layer():
		return &valueError{key: "algorithm.normalize", value: string(a.Normalize), allowed: []string{"true", "false", "global", "layer"}}
	case a.Normalize.Layer() && c.Problem.Kind != "nn":
		return fmt.Errorf("[algorithm] normalize = \"layer\" normalises each parameter tensor of a network: it needs problem.kind = \"nn\", not %q (use normalize = true for the whole vector)", c.Problem.Kind)
	case a.Method == "signsgd" && a.Normalize.On():
		return fmt.Errorf("[algorithm] normalize = true is not supported with method signsgd")
	case c.Problem.Kind != "polynomial" && (c.Data.Source == "libsvm" || c.Data.Source == "hdf5") && c.Data.Path == "":
		return fmt.Errorf("[data] path is required with source = %q", c.Data.Source)
	case c.Data.Source == "synthetic-sparse" && (c.Data.Samples < 1 || c.Data.Features < 1):
		return fmt.Errorf("[data] samples = %d and features = %d must be at least 1 with source = \"synthetic-sparse\"", c.Data.Samples, c.Data.Features)
	case c.Data.Source == "synthetic-sparse" && (c.Data.NNZPerRow < 1 || c.Data.NNZPerRow > c.Data.Features):
		return fmt.Errorf("[data] nnz_per_row = %d must be in [1, features = %d]", c.Data.NNZPerRow, c.Data.Features)
	case c.Data.Source == "synthetic-sparse" && !(c.Data.Exponent >= 0):
		return fmt.Errorf("[data] exponent = %v must be ≥ 0", c.Data.Exponent)
	case c.Data.Source == "synthetic-sparse" && !(c.Data.LabelNoise >= 0 && c.Data.LabelNoise <= 0.5):
		return fmt.Errorf("[data] label_noise = %v must be in [0, 0.5]", c.Data.LabelNoise)
	case c.Problem.Kind == "polynomial" && c.Problem.Dim < 1:
		return fmt.Errorf("[problem] dim = %d must be at least 1", c.Problem.Dim)
	case c.Data.Split == "dirichlet" && !(c.Data.Alpha > 0 && c.Data.Alpha <= 1e300):
		return fmt.Errorf("[data] alpha = %v must be a positive finite number", c.Data.Alpha)
	case !(c.Problem.Lambda >= 0) || math.IsInf(c.Problem.Lambda, 0):
		return fmt.Errorf("[problem] lambda = %v must be a finite number ≥ 0", c.Problem.Lambda)
	case c.Data.Features < 0:
		return fmt.Errorf("[data] features = %d must be ≥ 0", c.Data.Features)
	case c.Data.TestPath != "" && c.Data.TestFraction != 0:
		return fmt.Errorf("[data] test_path and test_fraction exclude each other: a test set is a file or a held-out fraction")
	case c.Data.TestFraction != 0 && !(c.Data.TestFraction > 0 && c.Data.TestFraction < 1):
		return fmt.Errorf("[data] test_fraction = %v must lie in (0, 1) (0: no test set)", c.Data.TestFraction)
	case c.Run.EvalEvery < 0:
		return fmt.Errorf("[run] eval_every = %d must be ≥ 0", c.Run.EvalEvery)
	case c.Run.EvalEvery > 0 && c.Run.LogEvery > 0 && c.Run.EvalEvery%c.Run.LogEvery != 0:
		return fmt.Errorf("[run] eval_every = %d must be a multiple of log_every = %d (evaluations happen on recorded rows)", c.Run.EvalEvery, c.Run.LogEvery)
	case c.Data.Source == "synthetic" && c.Data.Samples < 1:
		return fmt.Errorf("[data] samples = %d must be at least 1", c.Data.Samples)
	case a.K < 1:
		return fmt.Errorf("[algorithm] k = %d must be at least 1", a.K)
	case sgdm && a.Batch < 1:
		return fmt.Errorf("[algorithm] batch = %d must be at least 1", a.Batch)
	case sgdm && a.InitBatch < 1:
		return fmt.Errorf("[algorithm] init_batch = %d must be at least 1", a.InitBatch)
	case sgdm && a.Momentum == "constant" && !(a.Eta > 0 && a.Eta <= 1):
		return fmt.Errorf("[algorithm] eta = %v must be in (0, 1]", a.Eta)
	case sgdm && a.Momentum == "eta-theory" && !(a.Eta0 > 0):
		return fmt.Errorf("[algorithm] eta0 = %v must be positive", a.Eta0)
	case a.Method == "ef14" && a.Normalize.On():
		return fmt.Errorf("[algorithm] normalize = true is not supported with method ef14")
	case s.Rule == "ef21-pp-theory" && (a.Method != "ef21" || a.Normalize.On()):
		// Fatkhullin et al. 2021 prove EF21-PP's step for EF21 itself
		// (algorithms.EF21PPTheory); EF21-W-PP's and ||EF21||'s are other theorems
		return fmt.Errorf("[stepsize] rule = \"ef21-pp-theory\" is EF21-PP's step, for method = \"ef21\" with normalize = false (here method = %q, normalize = %v)", a.Method, a.Normalize)
	case s.Rule == "constant" && !c.set["stepsize.gamma"]:
		return fmt.Errorf("[stepsize] rule = \"constant\" needs gamma")
	case s.Rule == "constant" && !(s.Gamma > 0):
		return fmt.Errorf("[stepsize] gamma = %v must be positive", s.Gamma)
	case !(s.Gamma0 > 0):
		return fmt.Errorf("[stepsize] gamma0 = %v must be positive", s.Gamma0)
	case !(s.Factor > 0):
		return fmt.Errorf("[stepsize] factor = %v must be positive", s.Factor)
	case !(c.Init.Sigma0 >= 0) || math.IsInf(c.Init.Sigma0, 0):
		return fmt.Errorf("[init] sigma0 = %v must be a finite number ≥ 0", c.Init.Sigma0)
	case r.Iterations < 1:
		return fmt.Errorf("[run] iterations = %d must be at least 1", r.Iterations)
	case r.Iterations > MaxIterations:
		return fmt.Errorf("[run] iterations = %d is too large (at most %d)", r.Iterations, MaxIterations)
	case r.Ranks < 1:
		return fmt.Errorf("[run] ranks = %d must be at least 1", r.Ranks)
	case r.LogEvery < 1:
		return fmt.Errorf("[run] log_every = %d must be at least 1", r.LogEvery)
	case r.CheckpointEvery < 0:
		return fmt.Errorf("[run] checkpoint_every = %d must be 0 (off) or positive", r.CheckpointEvery)
	case r.FlushEvery < 1:
		return fmt.Errorf("[run] flush_every = %d must be at least 1", r.FlushEvery)
	case !(r.Tolerance >= 0) || math.IsInf(r.Tolerance, 0):
		return fmt.Errorf("[run] tolerance = %v must be a finite number ≥ 0", r.Tolerance)
	case r.Seed > MaxSeed:
		return fmt.Errorf("[run] seed = %d must be in [0, %d] (a negative seed is refused, not wrapped)", int64(r.Seed), MaxSeed)
	}
	for _, f := range []struct {
		key string
		v   float64
	}{{"stepsize.gamma", s.Gamma}, {"stepsize.gamma0", s.Gamma0}, {"stepsize.factor", s.Factor},
		{"algorithm.eta", a.Eta}, {"algorithm.eta0", a.Eta0}} {
		if math.IsInf(f.v, 0) {
			return fmt.Errorf("[%s] = %v must be finite", f.key, f.v)
		}
	}
	if _, err := c.TimeoutDuration(); err != nil {
		return err
	}
	return nil
}

// inapplicable maps every "section.key" that does not apply to this
// configuration (problem, data source, method, compressor, rule) to the
// reason. Setting such a key is an error; Effective leaves them out.
func (c *Config) inapplicable() map[string]string {
	a, s := &c.Algorithm, &c.Stepsize
	out := map[string]string{}
	notFor := func(cond bool, why string, keys ...string) {
		if cond {
			for _, k := range keys {
				if _, dup := out[k]; !dup {
					out[k] = why
				}
			}
		}
	}
	sgdm := a.Method == "ef21-sgdm" || a.Method == "signsgd" || momentumMethod(a.Method)
	c.schedulesInapplicable(notFor)
	notFor(a.Method != "ef21" && a.Method != "ef21-w", "to method "+a.Method+" (partial participation is EF21-PP: ef21 and ef21-w)", "algorithm.participation")
	notFor(c.Noise.Kind == "", "without [noise] kind", "noise.scale", "noise.nu")
	// unset: left out of the effective configuration (p = 1, no noise)
	notFor(!c.set["algorithm.participation"], "", "algorithm.participation")
	notFor(c.Noise.Kind == "", "", "noise.kind")
	notFor(c.Noise.Kind == "gaussian", "to noise kind gaussian (nu is for student-t and pareto)", "noise.nu")
	notFor(!sgdm, "to method "+a.Method+" (noise is added to stochastic gradients: ef21-sgdm, signsgd)", "noise.kind")
	notFor(a.Method == "signsgd", "to method signsgd (it sends signs, no compressor)", "algorithm.compressor", "algorithm.k", "algorithm.init")
	notFor(c.Problem.Kind == "polynomial", "to problem.kind = \"polynomial\" (it has no data)", "data.source", "data.path", "data.features", "data.samples", "data.shuffle", "data.split", "data.alpha", "data.test_path", "data.test_fraction", "run.eval_every", "data.nnz_per_row", "data.exponent", "data.label_noise", "problem.lambda")
	c.nnInapplicable(notFor) // before the data-source rules: for a network, [data] keys fail naming kind = "nn"
	notFor(c.Data.Split != "dirichlet", "unless data.split = \"dirichlet\"", "data.alpha")
	notFor(c.Problem.Kind != "polynomial", "to problem.kind = \""+c.Problem.Kind+"\" (the dimension comes from the data)", "problem.dim")
	notFor(c.Data.Source == "synthetic", "to data.source = \"synthetic\"", "data.path")
	notFor(c.Data.Source == "synthetic-sparse", "to data.source = \"synthetic-sparse\"", "data.path")
	notFor(c.Data.Source == "libsvm", "to data.source = \"libsvm\" (the file fixes the samples)", "data.samples")
	notFor(c.Data.Source == "hdf5", "to data.source = \"hdf5\" (the file fixes the samples)", "data.samples")
	notFor(c.Data.Source != "synthetic-sparse", "unless data.source = \"synthetic-sparse\"", "data.nnz_per_row", "data.exponent", "data.label_noise")
	notFor(!sgdm && c.Problem.Kind != problems.KindNN, "to method "+a.Method+" (only ef21-sgdm and signsgd, or any method with kind = \"nn\", use minibatches)", "algorithm.batch", "algorithm.init_batch")
	notFor(!sgdm, "to method "+a.Method+" (only ef21-sgdm and signsgd use momentum)", "algorithm.momentum", "algorithm.eta", "algorithm.eta0")
	notFor(sgdm && a.Momentum == "eta-theory", "with momentum = \"eta-theory\" (it uses eta0)", "algorithm.eta")
	notFor(sgdm && a.Momentum == "constant", "with momentum = \"constant\" (it uses eta)", "algorithm.eta0")
	notFor(!algorithms.CompressorUsesK(a.Compressor), "to compressor "+a.Compressor, "algorithm.k", "algorithm.k_fraction")
	notFor(a.Method == "ef14", "to method ef14 (it has no estimator to initialise)", "algorithm.init")
	notFor(s.Rule != "constant", "to rule "+s.Rule+" (gamma is for rule = \"constant\")", "stepsize.gamma")
	notFor(s.Rule != "norm-theory" && s.Rule != "decreasing" && s.Rule != "poly", "to rule "+s.Rule+" (gamma0 is for norm-theory, decreasing and poly)", "stepsize.gamma0")
	notFor(s.Rule != "ef21-theory" && s.Rule != "ef21-theory-am" && s.Rule != "ef21-pp-theory", "to rule "+s.Rule+" (factor is for ef21-theory, ef21-theory-am and ef21-pp-theory)", "stepsize.factor")
	notFor(c.Init.X0 != "normal", "unless x0 = \"normal\"", "init.sigma0")
	return out
}

// DataPath resolves [data] path against the config file's directory when it is
// relative, unless it exists relative to the working directory.
func (c *Config) DataPath() string { return c.resolve(c.Data.Path) }

// TestPath resolves [data] test_path like DataPath.
func (c *Config) TestPath() string { return c.resolve(c.Data.TestPath) }

// X0Path resolves a file-valued [init] x0 like DataPath.
func (c *Config) X0Path() string { return c.resolve(c.Init.X0) }

func (c *Config) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || c.Path == "" {
		return p
	}
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return filepath.Join(filepath.Dir(c.Path), p)
}

// Effective renders the configuration after defaults and overrides as TOML,
// sections in SPEC order, without the keys that do not apply; it is stored in
// the run's HDF5 file and parses back to the same configuration.
func (c *Config) Effective() string {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(c); err != nil {
		return fmt.Sprintf("# could not render the configuration: %v\n", err)
	}
	var tree map[string]map[string]any
	if _, err := toml.Decode(buf.String(), &tree); err != nil {
		return fmt.Sprintf("# could not render the configuration: %v\n", err)
	}
	for key := range c.inapplicable() {
		sec, field, _ := strings.Cut(key, ".")
		delete(tree[sec], field)
	}
	var out bytes.Buffer
	out.WriteString("# effective configuration (defaults and -set overrides applied)\n")
	for _, sec := range []string{"problem", "data", "algorithm", "noise", "stepsize", "init", "run", "nn"} {
		if len(tree[sec]) == 0 {
			continue
		}
		enc := toml.NewEncoder(&out)
		enc.Indent = ""
		if err := enc.Encode(map[string]any{sec: tree[sec]}); err != nil {
			return fmt.Sprintf("# could not render the configuration: %v\n", err)
		}
	}
	return out.String()
}

// Keys lists every "section.key" the file or overrides set, sorted.
func (c *Config) Keys() []string {
	keys := make([]string, 0, len(c.set))
	for k := range c.set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TimeoutDuration parses [run] timeout.
func (c *Config) TimeoutDuration() (time.Duration, error) {
	d, err := time.ParseDuration(c.Run.Timeout)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("[run] timeout = %q: want a positive duration such as \"30s\"", c.Run.Timeout)
	}
	return d, nil
}
