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
