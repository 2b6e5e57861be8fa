package config

import (
	"strings"
	"testing"
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
