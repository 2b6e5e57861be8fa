package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/efmpi/efmpi/internal/par"
)

// Float is the precision a network computes in: float32 (the default of a
// run) or float64 (the reference of the gradient checks).
type Float interface{ ~float32 | ~float64 }

// Shape is the shape of one sample: C channels of H×W (a vector of n values
// is {n, 1, 1}).
type Shape struct{ C, H, W int }

// Size is C·H·W.
func (s Shape) Size() int { return s.C * s.H * s.W }

// String formats the shape as C×H×W.
func (s Shape) String() string { return fmt.Sprintf("%d×%d×%d", s.C, s.H, s.W) }

// Mode says how batch normalisation treats a forward pass.
type Mode int

const (
	// Train normalises with the statistics of the batch and updates the
	// running statistics (a training step's minibatch).
	Train Mode = iota
	// Batch normalises with the statistics of the batch and leaves the
	// running statistics alone (full passes with bn_eval = "batch").
	Batch
	// Eval normalises with the running statistics (PyTorch's eval mode).
	Eval
)

// Layer is one differentiable stage of a network computing in T. Its
// parameters live in a slice p the caller passes (NumParams values); the
// layer keeps only scratch space sized by Build.
type Layer[T Float] interface {
	// Build fixes the input shape and the largest batch the layer will see,
	// allocates its scratch space and returns the output shape. e is the
	// net's arithmetic (GEMM, threads, batch-norm mode), shared by its layers.
	Build(in Shape, maxBatch int, e *env[T]) (Shape, error)
	// NumParams is the number of trainable parameters (valid after Build).
	NumParams() int
	// Init writes initial parameters into p (Kaiming normal for weights,
	// zeros for biases, ones and zeros for batch-norm scale and shift).
	Init(p []float64, r *rand.Rand)
	// Forward computes the output y of n samples x (n ≤ maxBatch).
	Forward(p, x, y []T, n int)
	// Backward takes x and y of the last Forward and the gradient dy of the
	// loss with respect to y; it overwrites dp with the gradient with
	// respect to the parameters and, unless dx is nil, dx with the gradient
	// with respect to x.
	Backward(p, x, y, dy, dp, dx []T, n int)
}

// env is what the layers of one net share: the GEMM on the net's threads,
// one single-threaded GEMM per thread (for work split by images), the pool,
// the batch-norm mode and the batch-norm layers (for their running
// statistics).
type env[T Float] struct {
	pool   *par.Pool
	gemm   gemmer[T]
	serial []gemmer[T]
	mode   Mode
	bns    []*BatchNorm2d[T]
	// colBudget: the most values of a convolution's im2col block
	colBudget int
}

// newEnv returns the arithmetic of a net on threads threads.
func newEnv[T Float](threads int) *env[T] {
	threads = max(threads, 1)
	e := &env[T]{colBudget: colBudget}
	if threads > 1 {
		e.pool = par.New(threads)
	}
	e.gemm = newGemmer[T](e.pool)
	for range threads {
		e.serial = append(e.serial, newGemmer[T](nil))
	}
	return e
}

// threads is the number of threads of the net.
func (e *env[T]) threads() int { return e.pool.Threads() }

// each runs f(item, thread) for item in [0, n) on the net's threads (the
// static split of par.Pool.For).
func (e *env[T]) each(n int, f func(item, thread int)) { e.pool.For(n, funcTask(f)) }

// funcTask is a par.Task of a function built once (at Build): converting it to
// the interface allocates nothing.
type funcTask func(item, thread int)

// Run implements par.Task.
func (f funcTask) Run(item, thread int) { f(item, thread) }

// kaiming fills w with N(0, 2/fanIn) draws (He et al. 2015, "fan_in" mode
// with the ReLU gain, as torch.nn.init.kaiming_normal_).
func kaiming(w []float64, fanIn int, r *rand.Rand) {
	std := math.Sqrt(2 / float64(fanIn))
	for i := range w {
		w[i] = std * r.NormFloat64()
	}
}

func zero[T Float](v []T) {
	clear(v)
}
