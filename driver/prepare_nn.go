package driver

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strconv"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/nn"
	"github.com/efmpi/efmpi/problems"
	"github.com/efmpi/efmpi/rng"
)

// NNSpec is the network and image data of a job with Problem "nn".
type NNSpec struct {
	Model  string // nn.ModelMLP, ModelLeNet, ModelResNet20
	Widths []int  // mlp hidden widths
	Data   string // "mnist" (IDX files, also Fashion-MNIST) | "cifar10"
	Path   string // directory of the files
	// TrainSamples and TestSamples keep the first that many images (0: all).
	TrainSamples, TestSamples int
	// Chunk is the number of images per forward pass of a full pass.
	Chunk int
	// Precision is the network's arithmetic: "float32" (default) or
	// "float64" (the reference).
	Precision string
	// Threads is each rank's thread count ([run] threads); 0: the CPUs of
	// the process when it runs one rank (SLURM_CPUS_PER_TASK, else the
	// affinity mask), GOMAXPROCS shared among the nodes of an in-process
	// world.
	Threads int
	// BNEval is how full passes normalise: "running" (default: eval mode
	// with rank 0's running statistics) or "batch" (each chunk's own).
	BNEval string
	// Input is how pixels p enter the network: "standardize" (default,
	// (p/255 − mean_c)/std_c) or "unit" (p/255, torchvision's ToTensor).
	Input string
}

// nnJob is the loaded images and the shards of a network job.
type nnJob struct {
	train, test *datasets.Images
	rows        [][]int32 // rows[r]: rank r's training images
	testRows    []int32
	in          nn.Shape
	maxBatch    int
	x0          []float64
}

// stochastic reports whether the gradient oracle draws minibatches: for
// EF21-SGDM, and for every method on a network (as the paper's code, whose
// ||EF21|| uses minibatch gradients).
func (sh *Shared) stochastic() bool {
	return sh.Traits.Stochastic || sh.Spec.Problem == problems.KindNN
}

// prepareNN loads the images, deals the shards, and fixes d and x⁰
// (Kaiming-normal from the seed). Every process reads the whole image files
// (MNIST: 55 MB of bytes, CIFAR-10: 184 MB), under a launcher too, so each
// knows every rank's shard, the label counts and rank 0's test set, and
// prints the data the same way (imagePrint) for the ranks' agreement and the
// checkpoints.
func (sh *Shared) prepareNN() error {
	spec, n := sh.Spec, sh.Ranks
	if spec.NN.Data != "mnist" && spec.NN.Data != "cifar10" {
		return invalid("unknown image data %q (want mnist or cifar10)", spec.NN.Data)
	}
	train, test, _, err := datasets.ReadImageFolder(spec.NN.Path, spec.NN.Data)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	train, test = train.Head(spec.NN.TrainSamples), test.Head(spec.NN.TestSamples)
	switch spec.NN.Input {
	case "unit":
		train, test = train.Unit(), test.Unit()
	case "", "standardize":
	default:
		return invalid("unknown [nn] input %q (want standardize or unit)", spec.NN.Input)
	}
	job := &nnJob{train: train, test: test, in: nn.Shape{C: train.C, H: train.H, W: train.W}}
	job.maxBatch = max(spec.NN.Chunk, spec.Batch, spec.InitBatch)
	sh.ShardSizes = make([]int64, n)
	minShard := train.N
	for r := range n {
		rows, err := datasets.ShardImages(train.Labels, n, r, datasets.ShardOptions{Shuffle: spec.Shuffle, Seed: spec.Seed, Split: spec.Split})
		if err != nil {
			return invalid("%s: %v", train.Source, err)
		}
		job.rows = append(job.rows, rows)
		sh.ShardSizes[r] = int64(len(rows))
		minShard = min(minShard, len(rows))
	}
	if b := max(spec.Batch, spec.InitBatch); b > minShard {
		return invalid("minibatch size %d exceeds the smallest shard (%d images with %d ranks)", b, minShard, n)
	}
	sh.Classes = make([]float64, train.Classes)
	for c := range sh.Classes {
		sh.Classes[c] = float64(c)
	}
	sh.LabelCounts = make([][]int64, n)
	for r, rows := range job.rows {
		sh.LabelCounts[r] = make([]int64, train.Classes)
		for _, i := range rows {
			sh.LabelCounts[r][train.Labels[i]]++
		}
	}
	sh.Data = imagePrint(train, test)
	job.testRows = make([]int32, test.N)
	for i := range job.testRows {
		job.testRows[i] = int32(i)
	}
	net, err := sh.newNet(job, 1)
	if err != nil {
		return err
	}
	defer net.Close()
	sh.Dim = net.Dim()
	job.x0 = make([]float64, sh.Dim)
	r, _ := rng.New(spec.Seed, rng.NNInit, 0)
	net.Init(job.x0, r)
	sh.nn = job
	return nil
}

func (sh *Shared) newNet(job *nnJob, threads int) (nn.Network, error) {
	net, err := nn.New(sh.Spec.NN.Model, sh.nnPrecision(), job.in, job.train.Classes, job.maxBatch, sh.Spec.NN.Widths, threads)
	if err != nil {
		return nil, invalid("%v", err)
	}
	return net, nil
}

// nnObjective builds rank r's network and objective; rank 0's also scores
// the test set.
func (sh *Shared) nnObjective(r int) (problems.Objective, error) {
	job := sh.nn
	net, err := sh.newNet(job, sh.nnThreads())
	if err != nil {
		return nil, err
	}
	o, err := problems.NewNN(net, job.train, job.rows[r])
	if err != nil {
		net.Close()
		return nil, invalid("%v", err)
	}
	if sh.Spec.NN.BNEval == "batch" {
		o.SetFullMode(nn.Batch)
	}
	if r == 0 {
		o.SetTest(job.test, job.testRows)
	}
	return o, nil
}

// nnThreads is the thread count of each rank's network (NNSpec.Threads).
func (sh *Shared) nnThreads() int {
	if t := sh.Spec.NN.Threads; t > 0 {
		return t
	}
	if sh.oneRank {
		return ProcessCPUs()
	}
	return max(1, runtime.GOMAXPROCS(0)/Nodes(sh.Ranks))
}

// ProcessCPUs is the number of CPUs this process was given: Slurm's
// SLURM_CPUS_PER_TASK when set, else the CPUs of its affinity mask
// (runtime.NumCPU reads the mask on Linux).
func ProcessCPUs() int {
	if v, err := strconv.Atoi(os.Getenv("SLURM_CPUS_PER_TASK")); err == nil && v > 0 {
		return v
	}
	return runtime.NumCPU()
}

// nnAttrs are the root attributes of a network run.
func (sh *Shared) nnAttrs() []hdf5io.Attr {
	if sh.nn == nil {
		return nil
	}
	s := sh.Spec
	a := []hdf5io.Attr{attr("model", s.NN.Model), attr("dataset", sh.nn.train.Source), attr("split", s.Split),
		attr("train_samples", sh.nn.train.N), attr("test_samples", sh.nn.test.N), attr("chunk", s.NN.Chunk),
		attr("precision", sh.nnPrecision()), attr("bn_eval", sh.nnBNEval()), attr("input", cmp.Or(s.NN.Input, "standardize"))}
	if s.InitBatch == 0 {
		a = append(a, attr("init", "shard"))
	}
	if s.EvalEvery > 0 {
		a = append(a, attr("eval_every", s.EvalEvery))
	}
	if s.Method != algorithms.EF21SGDM {
		a = append(a, attr("batch", s.Batch))
	}
	if s.KFraction > 0 {
		a = append(a, attr("k_fraction", s.KFraction))
	}
	return a
}

// imagePrint identifies the images a network job uses (after train_samples
// and test_samples): Rows is the number of training images, Cols the values
// per image (C·H·W), NNZ every pixel of both sets, and Sum a SHA-256 of the
// shapes, classes, normalisation, pixels and labels of the training and then
// the test set. Changed image files change it, so ranks that read different
// files disagree before the first iteration and a resume refuses them.
func imagePrint(train, test *datasets.Images) DataPrint {
	h := sha256.New()
	le := binary.LittleEndian
	for _, im := range []*datasets.Images{train, test} {
		binary.Write(h, le, []int64{int64(im.N), int64(im.C), int64(im.H), int64(im.W), int64(im.Classes)})
		binary.Write(h, le, im.Mean)
		binary.Write(h, le, im.Std)
		h.Write(im.Pixels)
		h.Write(im.Labels)
	}
	p := DataPrint{Rows: int64(train.N), Cols: int64(train.Size()), NNZ: int64(len(train.Pixels) + len(test.Pixels))}
	h.Sum(p.Sum[:0])
	return p
}

func (sh *Shared) nnPrecision() string {
	if p := sh.Spec.NN.Precision; p != "" {
		return p
	}
	return nn.Float32
}

func (sh *Shared) nnBNEval() string {
	if b := sh.Spec.NN.BNEval; b != "" {
		return b
	}
	return "running"
}
