package problems

import (
	"errors"
	"fmt"
	"math"

	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/nn"
)

// ErrNoSmoothness is returned by NN.Smoothness: a network's loss has no
// global smoothness constant to compute, so rule = "ef21-theory" cannot be
// used with it.
var ErrNoSmoothness = errors.New("a neural network has no computable smoothness constant (use rule constant, norm-theory or decreasing)")

// RunningStats is implemented by objectives with per-rank state that is not
// x (a network's batch-norm running statistics): Stats is the live state
// (checkpoints save it and restore it by writing into it), SetEvalStats the
// statistics full passes use instead (rank 0's, at metric rows).
type RunningStats interface {
	Stats() []float64
	SetEvalStats(s []float64)
}

// Evaluator is implemented by objectives that can also score a held-out
// test set (the networks): ok is false where this objective has none.
type Evaluator interface {
	Evaluate(x []float64) (loss, accuracy float64, ok bool)
}

// NN is one client's loss for a neural network: f_i(x) = mean softmax
// cross-entropy over the images of the shard, x the flat parameter vector.
//
// The network computes in its own precision (float32 by default): x is
// rounded into its parameters once per call and the gradient accumulated back
// into float64.
//
// MinibatchGrad is a training step: batch norm normalises with the
// minibatch's statistics and updates the rank's running statistics (Stats,
// per rank, never part of x). A full pass (Value, Grad, Evaluate) runs over
// consecutive chunks of Chunk images of the shard in shard order, the last
// one shorter, f_i = Σ_c (n_c/m)·loss_c, in the mode set by SetFullMode:
// nn.Eval (the default) normalises with the running statistics given to
// SetEvalStats (the rank's own until then), so f_i is the mean loss over the
// shard of a fixed network and ∇f_i its exact gradient, chunking aside;
// nn.Batch normalises each chunk with its own statistics, a deterministic
// function of x whose gradient is the weighted sum of the chunk gradients.
// Without batch norm both are the mean over the shard. A full pass costs
// m/Chunk forward and backward passes of the network.
//
// Value computes the gradient too and keeps it for a following Grad at the
// same x (the driver asks for both when it records a row). MinibatchGrad
// takes at most Chunk images. An NN is not safe for concurrent use.
type NN struct {
	net   nn.Network
	data  *datasets.Images
	rows  []int32 // the shard: indices into data
	chunk int

	test     *datasets.Images
	testRows []int32

	idx    []int32
	labels []int32
	// full: the batch-norm mode of full passes; eval: the running
	// statistics they use (nil: the rank's own); own: the rank's, kept aside
	// during a full pass
	full      nn.Mode
	eval, own []float64
	cacheX    []float64
	cacheG    []float64
	cacheF    float64
	cached    bool
}

// NewNN returns the objective of net over the images rows of data. The net's
// MaxBatch is the chunk of full passes and the largest minibatch.
func NewNN(net nn.Network, data *datasets.Images, rows []int32) (*NN, error) {
	in := net.InShape()
	switch {
	case in.C != data.C || in.H != data.H || in.W != data.W:
		return nil, fmt.Errorf("nn objective: the network takes %v images, %s has %d×%d×%d", in, data.Source, data.C, data.H, data.W)
	case net.Classes() != data.Classes:
		return nil, fmt.Errorf("nn objective: the network has %d classes, %s has %d", net.Classes(), data.Source, data.Classes)
	case len(rows) == 0:
		return nil, fmt.Errorf("nn objective: empty shard of %s", data.Source)
	}
	d, b := net.Dim(), net.MaxBatch()
	return &NN{net: net, data: data, rows: rows, chunk: b, full: nn.Eval,
		idx: make([]int32, b), labels: make([]int32, b), own: make([]float64, len(net.Stats())),
		cacheX: make([]float64, d), cacheG: make([]float64, d)}, nil
}

// Stats is the rank's batch-norm running statistics (nn.Net.Stats), its
// state beside x: updated by every MinibatchGrad, restored from checkpoints
// by writing into it. Empty without batch norm.
func (o *NN) Stats() []float64 { return o.net.Stats() }

// SetFullMode sets the batch-norm mode of full passes: nn.Eval (running
// statistics, the default) or nn.Batch (each chunk's own statistics).
func (o *NN) SetFullMode(m nn.Mode) { o.full, o.cached = m, false }

// SetEvalStats sets the running statistics that full passes in nn.Eval mode
// use (rank 0's, broadcast at every metric row); nil: the rank's own. The
// slice is read at every pass, not copied.
func (o *NN) SetEvalStats(s []float64) { o.eval, o.cached = s, false }

// Close stops the network's threads.
func (o *NN) Close() { o.net.Close() }

// Network is the objective's network.
func (o *NN) Network() nn.Network { return o.net }

// Blocker is an objective whose coordinates fall into blocks (a network's
// parameter tensors), for the layer-wise normalised step.
type Blocker interface {
	// Blocks is the increasing boundaries of the blocks: block b is
	// x[Blocks()[b]:Blocks()[b+1]], from 0 to the dimension.
	Blocks() []int
}

// Blocks implements Blocker: the boundaries of the network's parameter tensors in x
// (nn.Net.Tensors: weight and bias, γ and β apart, as PyTorch lists them),
// the blocks of normalize = "layer"; nil if the network does not say.
func (o *NN) Blocks() []int {
	if t, ok := o.net.(interface{ Tensors() []int }); ok {
		return t.Tensors()
	}
	return nil
}

// SetTest attaches a test set (the images rows of test) that Evaluate scores.
func (o *NN) SetTest(test *datasets.Images, rows []int32) { o.test, o.testRows = test, rows }

// Dim implements Objective.
func (o *NN) Dim() int { return o.net.Dim() }

// Samples implements Objective.
func (o *NN) Samples() int { return len(o.rows) }

// Chunk is the number of images per forward pass of a full pass.
func (o *NN) Chunk() int { return o.chunk }

// pass runs the network over rows of data in chunks; with grad != nil it
// also accumulates the weighted gradient. It returns the mean loss and the
// fraction classified correctly.
func (o *NN) pass(x, grad []float64, data *datasets.Images, rows []int32) (float64, float64) {
	m := len(rows)
	if grad != nil {
		clear(grad)
	}
	o.net.Load(x)
	o.net.SetMode(o.full)
	stats := o.net.Stats()
	if o.full == nn.Eval && o.eval != nil {
		copy(o.own, stats)
		copy(stats, o.eval)
		defer copy(stats, o.own)
	}
	defer o.net.SetMode(nn.Train)
	loss, correct := 0.0, 0
	for lo := 0; lo < m; lo += o.chunk {
		hi := min(lo+o.chunk, m)
		n := hi - lo
		data.Fill(o.net.Input(), o.labels, rows[lo:hi])
		w := float64(n) / float64(m)
		var l float64
		var c int
		if grad != nil {
			l, c = o.net.LossGrad(o.labels[:n], n)
			o.net.AddGrad(grad, w)
		} else {
			l, c = o.net.Loss(o.labels[:n], n)
		}
		loss += w * l
		correct += c
	}
	return loss, float64(correct) / float64(m)
}

// Value implements Objective (and computes ∇f_i(x) for a following Grad).
func (o *NN) Value(x []float64) float64 {
	o.cacheF, _ = o.pass(x, o.cacheG, o.data, o.rows)
	copy(o.cacheX, x)
	o.cached = true
	return o.cacheF
}

// Grad implements Objective.
func (o *NN) Grad(dst, x []float64) {
	if o.cached && sameBits(o.cacheX, x) {
		copy(dst, o.cacheG)
		return
	}
	o.pass(x, dst, o.data, o.rows)
}

func sameBits(a, b []float64) bool {
	for i, v := range a {
		if math.Float64bits(v) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// MinibatchGrad implements Objective: the gradient of the mean loss over the
// shard rows batch (at most Chunk of them, one forward and backward pass in
// training mode, which updates the running statistics).
func (o *NN) MinibatchGrad(dst, x []float64, batch []int32) {
	n := len(batch)
	if n > o.chunk {
		panic(fmt.Sprintf("problems: minibatch of %d images, the network takes at most %d", n, o.chunk))
	}
	for k, b := range batch {
		o.idx[k] = o.rows[b]
	}
	o.data.Fill(o.net.Input(), o.labels, o.idx[:n])
	o.net.Load(x)
	o.net.LossGrad(o.labels[:n], n)
	o.net.Grad(dst)
	o.cached = false // the running statistics moved
}

// ShardGradient is implemented by objectives whose gradient over the whole
// shard can also be taken as a training pass (the networks): the initial
// round with init_batch = 0 asks for it.
type ShardGradient interface {
	ShardGrad(dst, x []float64)
}

// ShardGrad implements ShardGradient: the gradient over the whole shard in
// training mode, as PyTorch's model.train(True) loop over a DataLoader with
// reduction "sum" divided by m: chunks of Chunk images in shard order, each
// normalised by its own batch statistics and updating the running
// statistics, weighted n_c/m.
func (o *NN) ShardGrad(dst, x []float64) {
	full := o.full
	o.full = nn.Train
	o.pass(x, dst, o.data, o.rows)
	o.full, o.cached = full, false
}

// Smoothness implements Objective: it returns ErrNoSmoothness.
func (o *NN) Smoothness([]float64) (float64, error) { return 0, ErrNoSmoothness }

// Evaluate implements Evaluator: the mean cross-entropy and the accuracy on
// the test set, in chunks as a full pass.
func (o *NN) Evaluate(x []float64) (loss, accuracy float64, ok bool) {
	if o.test == nil {
		return 0, 0, false
	}
	loss, accuracy = o.pass(x, nil, o.test, o.testRows)
	return loss, accuracy, true
}
