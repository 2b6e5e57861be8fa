package config

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/algorithms"
)

// kind = "leastsq" takes the data keys and lambda of logreg, not dim.
func TestLeastSqKind(t *testing.T) {
	c, err := Parse([]byte(Default), "", []string{"problem.kind=leastsq", "problem.lambda=0.01"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Problem.Kind != "leastsq" || c.Problem.Lambda != 0.01 || c.Data.Samples != 1000 {
		t.Errorf("%+v %+v", c.Problem, c.Data)
	}
	if _, err := Parse([]byte(Default), "", []string{"problem.kind=leastsq", "problem.dim=5"}); err == nil || !strings.Contains(err.Error(), "problem.dim") {
		t.Errorf("dim with leastsq: %v", err)
	}
	if _, err := Parse([]byte(Default), "", []string{"problem.kind=leastsq", "data.source=libsvm", "data.samples="}); err == nil || !strings.Contains(err.Error(), "path") {
		t.Errorf("libsvm without a path: %v", err)
	}
}

// split = "dirichlet" takes alpha (default 0.5); other splits refuse it.
func TestDirichletKeys(t *testing.T) {
	c, err := Parse([]byte(Default), "", []string{"data.split=dirichlet"})
	if err != nil || c.Data.Alpha != 0.5 {
		t.Fatalf("%v %v", err, c)
	}
	if _, err := Parse([]byte(Default), "", []string{"data.split=dirichlet", "data.alpha=0"}); err == nil || !strings.Contains(err.Error(), "alpha") {
		t.Errorf("alpha 0: %v", err)
	}
	if _, err := Parse([]byte(Default), "", []string{"data.alpha=0.3"}); err == nil || !strings.Contains(err.Error(), "data.alpha") {
		t.Errorf("alpha without dirichlet: %v", err)
	}
}

// A test set is a file or a fraction, not both; eval_every defaults to
// log_every with a test set and must be a multiple of it.
func TestTestSetKeys(t *testing.T) {
	c, err := Parse([]byte(Default), "", []string{"data.test_fraction=0.2"})
	if err != nil || c.Run.EvalEvery != c.Run.LogEvery {
		t.Fatalf("%v, eval_every %d", err, c.Run.EvalEvery)
	}
	for bad, want := range map[string][]string{
		"both":           {"data.test_fraction=0.2", "data.test_path=t.txt"},
		"fraction 1":     {"data.test_fraction=1"},
		"not a multiple": {"data.test_fraction=0.2", "run.eval_every=15"},
		"polynomial":     {"problem.kind=polynomial", "data.source=", "data.samples=", "data.features=", "run.eval_every=10"},
	} {
		if _, err := Parse([]byte(Default), "", want); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if c, err := Parse([]byte(Default), "", []string{"run.eval_every=20"}); err != nil || c.Run.EvalEvery != 20 {
		t.Errorf("eval without a test set: %v", err)
	}
}

// A compressor registered with algorithms.RegisterCompressor is a valid
// [algorithm] compressor, and k applies to it exactly when it says so.
func TestRegisteredCompressorKeys(t *testing.T) {
	algorithms.RegisterCompressor(algorithms.CompressorInfo{Name: "cfg-toy-k", UsesK: true,
		New: func(k, d int, _ *rand.Rand) (algorithms.Compressor, error) { return algorithms.NewTopK(k), nil }})
	algorithms.RegisterCompressor(algorithms.CompressorInfo{Name: "cfg-toy",
		New: func(k, d int, _ *rand.Rand) (algorithms.Compressor, error) { return algorithms.Identity{}, nil }})
	if _, err := Parse([]byte(Default), "", []string{"algorithm.compressor=cfg-toy-k", "algorithm.k=3"}); err != nil {
		t.Errorf("registered compressor with k: %v", err)
	}
	if _, err := Parse([]byte(Default), "", []string{"algorithm.compressor=cfg-toy"}); err == nil || !strings.Contains(err.Error(), "algorithm.k") {
		t.Errorf("k given to a compressor without k: %v", err)
	}
	if _, err := Parse([]byte(Default), "", []string{"algorithm.compressor=cfg-toy", "algorithm.k="}); err != nil {
		t.Errorf("registered compressor without k: %v", err)
	}
	if _, err := Parse([]byte(Default), "", []string{"algorithm.compressor=nope"}); err == nil || !strings.Contains(err.Error(), "cfg-toy") {
		t.Errorf("unknown compressor: %v (the message should list the registered ones)", err)
	}
}
