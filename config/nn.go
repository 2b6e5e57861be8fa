package config

import "fmt"

// nnDefaults fills [nn] for problem.kind = "nn".
func (c *Config) nnDefaults() {
	n := &c.NN
	if n.Model == "" {
		n.Model = "lenet"
	}
	if n.Model == "mlp" && !c.set["nn.widths"] {
		n.Widths = []int{128}
	}
	if n.Data == "" {
		n.Data = "mnist"
	}
	if n.Path == "" {
		n.Path = "data/mnist"
		if n.Data == "cifar10" {
			n.Path = "data/cifar-10-batches-bin"
		}
	}
	if !c.set["nn.chunk"] {
		n.Chunk = 128
	}
	if n.Precision == "" {
		n.Precision = "float32"
	}
	if n.BNEval == "" {
		n.BNEval = "running"
	}
	if n.Input == "" {
		n.Input = "standardize"
	}
}

// validateNN checks [nn], k_fraction, and what a network cannot do.
func (c *Config) validateNN() error {
	a := &c.Algorithm
	if c.set["algorithm.k_fraction"] {
		switch {
		case c.set["algorithm.k"]:
			return fmt.Errorf("[algorithm] k and k_fraction are exclusive: set one")
		case !(a.KFraction > 0 && a.KFraction <= 1):
			return fmt.Errorf("[algorithm] k_fraction = %v must be in (0, 1]", a.KFraction)
		}
	}
	if c.Problem.Kind != "nn" {
		return nil
	}
	n := &c.NN
	for _, e := range []error{
		oneOf("nn.model", n.Model, "mlp", "lenet", "resnet20"),
		oneOf("nn.data", n.Data, "mnist", "cifar10"),
		oneOf("nn.precision", n.Precision, "float32", "float64"),
		oneOf("nn.bn_eval", n.BNEval, "running", "batch"),
		oneOf("nn.input", n.Input, "standardize", "unit"),
	} {
		if e != nil {
			return e
		}
	}
	for _, w := range n.Widths {
		if w < 1 {
			return fmt.Errorf("[nn] widths = %v: every width must be at least 1", n.Widths)
		}
	}
	switch {
	case n.TrainSamples < 0:
		return fmt.Errorf("[nn] train_samples = %d must be ≥ 0 (0: all)", n.TrainSamples)
	case n.TestSamples < 0:
		return fmt.Errorf("[nn] test_samples = %d must be ≥ 0 (0: all)", n.TestSamples)
	case n.Chunk < 1:
		return fmt.Errorf("[nn] chunk = %d must be at least 1", n.Chunk)
	case c.Run.Threads < 0:
		return fmt.Errorf("[run] threads = %d must be ≥ 0 (0: the CPUs given)", c.Run.Threads)
	case c.Data.Split == "dirichlet":
		return fmt.Errorf("[data] split = \"dirichlet\" does not apply to problem.kind = \"nn\" (images are dealt contiguous, shuffled or by label: split = \"contiguous\" or \"label\")")
	case c.Stepsize.Rule == "ef21-theory" || c.Stepsize.Rule == "ef21-theory-am" || c.Stepsize.Rule == "ef21-pp-theory":
		return fmt.Errorf("[stepsize] rule = %q needs smoothness constants, which a network does not have: set rule = \"constant\", \"norm-theory\" or \"decreasing\"", c.Stepsize.Rule)
	case c.Algorithm.Batch < 1:
		return fmt.Errorf("[algorithm] batch = %d must be at least 1", c.Algorithm.Batch)
	case c.Algorithm.InitBatch < 0:
		return fmt.Errorf("[algorithm] init_batch = %d must be ≥ 0 (0: the whole shard, in chunks, in training mode)", c.Algorithm.InitBatch)
	}
	return nil
}

// nnInapplicable marks the keys that do not apply to or only apply to
// networks.
func (c *Config) nnInapplicable(notFor func(bool, string, ...string)) {
	isNN := c.Problem.Kind == "nn"
	frac := c.set["algorithm.k_fraction"]
	notFor(!frac, "unless set (k is used)", "algorithm.k_fraction")
	notFor(frac, "with k_fraction (k is computed from d)", "algorithm.k")
	notFor(!isNN, "unless problem.kind = \"nn\"", "nn.model", "nn.widths", "nn.data", "nn.path", "nn.train_samples", "nn.test_samples", "nn.chunk",
		"nn.precision", "nn.bn_eval", "nn.input", "run.threads")
	notFor(isNN && c.NN.Model != "mlp", "to nn.model = \""+c.NN.Model+"\" (widths are for the mlp)", "nn.widths")
	notFor(isNN, "to problem.kind = \"nn\" (the images and their test set are in [nn])", "problem.lambda", "problem.dim",
		"data.source", "data.path", "data.features", "data.samples", "data.alpha", "data.test_path", "data.test_fraction",
		"data.nnz_per_row", "data.exponent", "data.label_noise")
	notFor(isNN, "to problem.kind = \"nn\" (x0 = \"normal\" is Kaiming-normal initialisation)", "init.sigma0")
}

// NNPath resolves [nn] path like DataPath.
func (c *Config) NNPath() string { return c.resolve(c.NN.Path) }
