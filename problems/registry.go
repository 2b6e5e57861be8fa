package problems

import (
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/efmpi/efmpi/datasets"
)

// DataProblem describes an objective built from a labelled data shard (the
// config's [problem] kind with [data]): logistic regression and least
// squares are registered here, and a new one is one file that calls
// RegisterDataProblem from an init function — the config accepts its kind,
// the driver loads and shards the data, builds it per rank, computes L for
// ef21-theory and scores test sets with it.
type DataProblem struct {
	// Kind is the config's [problem] kind.
	Kind string
	// New builds one rank's f_i from its shard; lambda is [problem] lambda.
	New func(shard *datasets.Dataset, lambda float64) (Objective, error)
	// Smoothness returns L of f on the whole data (ef21-theory).
	Smoothness func(all *datasets.Dataset, lambda float64) (float64, error)
	// Loss is the data loss of one sample with margin z = aᵀx and label b,
	// without the regulariser: what Evaluate averages over a test set.
	Loss func(z, b float64) float64
	// FromLambdaMax, if set, is L of f = (1/n) Σ_i f_i as a function of
	// μ = λ_max(Σ_i A_iᵀA_i/m_i) over the n shards (LambdaMaxShards), n and
	// λ; with one shard of m samples, FromLambdaMax(λ_max(AᵀA), m, λ) is
	// Smoothness(all, λ). It lets L be computed without the whole matrix in
	// one place, by a Lanczos iteration summed over the ranks (driver), and
	// for shards of unequal sizes, where Smoothness of the whole data is not
	// L of f. Without it ef21-theory needs every rank's data in one process
	// and shards of one size.
	FromLambdaMax func(lmax float64, m int, lambda float64) float64
}

// The problem kinds that are not data problems: each is prepared by the
// driver in its own way, and no data problem may take their names.
const (
	// KindPolynomial is the nonconvex polynomial, generated from the seed
	// (no data).
	KindPolynomial = "polynomial"
	// KindNN is a neural network on image data ([nn] in the config; NN).
	KindNN = "nn"
)

// builtinKinds are the kinds above.
var builtinKinds = []string{KindPolynomial, KindNN}

var dataProblems = struct {
	sync.RWMutex
	m map[string]DataProblem
}{m: map[string]DataProblem{}}

// RegisterDataProblem adds a data problem; it panics on an empty or taken
// kind or a missing function (registration happens in init functions).
func RegisterDataProblem(p DataProblem) {
	dataProblems.Lock()
	defer dataProblems.Unlock()
	if p.Kind == "" || p.New == nil || p.Smoothness == nil || p.Loss == nil {
		panic("problems: RegisterDataProblem needs a kind and the New, Smoothness and Loss functions")
	}
	if _, taken := dataProblems.m[p.Kind]; taken || slices.Contains(builtinKinds, p.Kind) {
		panic(fmt.Sprintf("problems: data problem %q registered twice", p.Kind))
	}
	dataProblems.m[p.Kind] = p
}

// LookupDataProblem returns the data problem of a config kind.
func LookupDataProblem(kind string) (DataProblem, bool) {
	dataProblems.RLock()
	defer dataProblems.RUnlock()
	p, ok := dataProblems.m[kind]
	return p, ok
}

// DataProblemKinds lists the registered data problems, in name order.
func DataProblemKinds() []string {
	dataProblems.RLock()
	defer dataProblems.RUnlock()
	out := make([]string, 0, len(dataProblems.m))
	for k := range dataProblems.m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Kinds lists every problem kind: the registered data problems and the
// built-in KindPolynomial and KindNN, in name order. It is what the
// config's [problem] kind accepts.
func Kinds() []string {
	out := append(DataProblemKinds(), builtinKinds...)
	sort.Strings(out)
	return out
}

func init() {
	RegisterDataProblem(DataProblem{Kind: "logreg",
		New:           func(ds *datasets.Dataset, lambda float64) (Objective, error) { return NewLogReg(ds, lambda) },
		Smoothness:    LogRegSmoothness,
		FromLambdaMax: LogRegL,
		Loss:          func(z, b float64) float64 { return Softplus(-b * z) },
	})
	RegisterDataProblem(DataProblem{Kind: "leastsq",
		New:           func(ds *datasets.Dataset, lambda float64) (Objective, error) { return NewLeastSq(ds, lambda) },
		Smoothness:    LeastSqSmoothness,
		FromLambdaMax: func(lmax float64, m int, lambda float64) float64 { return lmax/float64(m) + lambda },
		Loss:          func(z, b float64) float64 { return (z - b) * (z - b) / 2 },
	})
}
