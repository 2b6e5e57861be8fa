package config

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/problems"
)

const nnConfig = `
[problem]
kind = "nn"
[algorithm]
method = "ef21"
normalize = true
k_fraction = 0.01
[stepsize]
rule = "constant"
gamma = 0.1
[nn]
model = "mlp"
widths = [64, 32]
path = "mnist"
`

func TestNNConfigDefaultsAndRoundTrip(t *testing.T) {
	c, err := Parse([]byte(nnConfig), "configs/x.toml", []string{"run.iterations=50"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Algorithm.Batch != 128 || c.NN.Data != "mnist" || c.NN.Chunk != 128 || !reflect.DeepEqual(c.NN.Widths, []int{64, 32}) || c.Algorithm.KFraction != 0.01 {
		t.Fatalf("nn defaults: batch %d, data %q, chunk %d, widths %v, k_fraction %v", c.Algorithm.Batch, c.NN.Data, c.NN.Chunk, c.NN.Widths, c.Algorithm.KFraction)
	}
	if c.NNPath() != "configs/mnist" {
		t.Fatalf("nn path resolves to %q", c.NNPath())
	}
	text := c.Effective()
	for _, absent := range []string{"lambda", "sigma0", "features", "source", "\nk = "} {
		if strings.Contains(text, absent) {
			t.Errorf("effective config shows %q, which does not apply to nn:\n%s", absent, text)
		}
	}
	back, err := Parse([]byte(text), "configs/x.toml", nil)
	if err != nil {
		t.Fatalf("effective config does not parse: %v\n%s", err, text)
	}
	c.set, back.set = nil, nil
	if !reflect.DeepEqual(c, back) {
		t.Fatalf("round trip differs:\n%+v\n%+v", c, back)
	}
	// a logreg config shows no [nn]
	d, _ := Parse([]byte(Default), "", nil)
	if strings.Contains(d.Effective(), "[nn]") {
		t.Fatal("the default config shows [nn]")
	}
}

// A network evaluates every eval_every iterations: by default log_every
// (it always has a test set), a multiple of it if set, 0 for none; the
// kind comes from the problem registry.
func TestNNConfigEvalEvery(t *testing.T) {
	for _, tc := range []struct {
		set  []string
		want int
	}{
		{[]string{"run.log_every=25"}, 25},
		{[]string{"run.log_every=25", "run.eval_every=100"}, 100},
		{[]string{"run.log_every=25", "run.eval_every=0"}, 0},
	} {
		c, err := Parse([]byte(nnConfig), "x.toml", tc.set)
		if err != nil || c.Run.EvalEvery != tc.want {
			t.Errorf("%v: eval_every %d (%v), want %d", tc.set, c.Run.EvalEvery, err, tc.want)
		}
	}
	if !slices.Contains(problems.Kinds(), "nn") || !slices.Contains(problems.Kinds(), "logreg") {
		t.Fatalf("problems.Kinds() = %v lacks nn or logreg", problems.Kinds())
	}
	if _, err := Parse([]byte(nnConfig), "x.toml", []string{"problem.kind=cnn"}); err == nil || !strings.Contains(err.Error(), "nn") {
		t.Errorf("unknown kind: %v, want the list of kinds", err)
	}
}

func TestNNConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		set  []string
		want string
	}{
		{[]string{"stepsize.rule=ef21-theory"}, "ef21-theory"},
		{[]string{"stepsize.rule=ef21-theory-am"}, "ef21-theory-am"},
		{[]string{"stepsize.rule=ef21-pp-theory", "algorithm.normalize=false"}, "ef21-pp-theory"},
		{[]string{"algorithm.k=5"}, "exclusive"},
		{[]string{"algorithm.k_fraction=1.5"}, "k_fraction"},
		{[]string{"nn.model=vgg"}, "nn.model"},
		{[]string{"nn.data=svhn"}, "nn.data"},
		{[]string{"nn.widths=[0]"}, "widths"},
		{[]string{"nn.chunk=0"}, "chunk"},
		{[]string{"nn.train_samples=-1"}, "train_samples"},
		{[]string{"problem.lambda=0.1"}, "problem.lambda"},
		{[]string{"init.sigma0=2.0"}, "sigma0"},
		{[]string{"nn.model=lenet"}, "nn.widths"},
		// the [data] keys of data problems: the images and their test set are in [nn]
		{[]string{"data.alpha=0.3"}, "data.alpha"},
		{[]string{"data.test_path=t.svm"}, "data.test_path"},
		{[]string{"data.test_fraction=0.2"}, "data.test_fraction"},
		{[]string{"data.source=hdf5"}, "data.source"},
		{[]string{"data.source=synthetic-sparse"}, "data.source"},
		{[]string{"data.nnz_per_row=5"}, "data.nnz_per_row"},
		{[]string{"data.split=dirichlet"}, "split = \"dirichlet\""},
		{[]string{"data.split=dirichlet", "data.alpha=0.3"}, "split = \"dirichlet\""},
		{[]string{"run.log_every=10", "run.eval_every=15"}, "eval_every"},
	} {
		_, err := Parse([]byte(nnConfig), "x.toml", tc.set)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one naming %q", tc.set, err, tc.want)
		}
	}
	if _, err := Parse([]byte(Default), "x.toml", []string{"nn.model=lenet"}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "nn.model") {
		t.Errorf("[nn] key on logreg: %v", err)
	}
	// every data.* key that a network refuses names kind = "nn"
	for _, key := range []string{"data.alpha=0.3", "data.test_fraction=0.2", "data.label_noise=0.1", "data.source=synthetic-sparse"} {
		if _, err := Parse([]byte(nnConfig), "x.toml", []string{key}); err == nil || !strings.Contains(err.Error(), "problem.kind = \"nn\"") {
			t.Errorf("%s: error %v, want one naming problem.kind = \"nn\"", key, err)
		}
	}
	// batch applies to every method with a network, not only ef21-sgdm
	if _, err := Parse([]byte(nnConfig), "x.toml", []string{"algorithm.batch=64"}); err != nil {
		t.Errorf("batch with ef21 on nn: %v", err)
	}
}
