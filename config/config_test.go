package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultIsValidAndComplete(t *testing.T) {
	c, err := Parse([]byte(Default), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Algorithm.Method != "ef21" || !c.Algorithm.Normalize.On() || c.Stepsize.Rule != "norm-theory" ||
		c.Stepsize.Gamma0 != 1 || c.Run.Ranks != 4 || c.Data.Source != "synthetic" || c.Algorithm.K != 1 {
		t.Fatalf("default config %+v", c)
	}
}

// The effective config stored in every run file parses back to the same
// configuration.
func TestEffectiveRoundTrip(t *testing.T) {
	c, err := Parse([]byte(Default), "", []string{"run.iterations=77", `algorithm.compressor="rand-k"`, "algorithm.k=3"})
	if err != nil {
		t.Fatal(err)
	}
	text := c.Effective()
	back, err := Parse([]byte(text), "", nil)
	if err != nil {
		t.Fatalf("effective config does not parse: %v\n%s", err, text)
	}
	c.set, back.set = nil, nil
	if !reflect.DeepEqual(c, back) {
		t.Fatalf("round trip differs:\n%+v\n%+v", c, back)
	}
}

func TestOverrides(t *testing.T) {
	c, err := Parse([]byte(Default), "", []string{"run.seed=42", "stepsize.gamma0=0.5", "run.output=out/x.h5", "algorithm.normalize=false"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Run.Seed != 42 || c.Stepsize.Gamma0 != 0.5 || c.Run.Output != "out/x.h5" || c.Algorithm.Normalize.On() {
		t.Fatalf("overrides not applied: %+v", c)
	}
	if !c.IsSet("run.seed") || c.IsSet("run.tolerance") {
		t.Fatal("IsSet wrong")
	}
	for _, bad := range []string{"seed=1", "run.seed", "a.b.c=1", "run.nope=1", `run.seed="x"`} {
		if _, err := Parse([]byte(Default), "", []string{bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("-set %s: err = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestSGDMDefaultsAndEtaTheory(t *testing.T) {
	c, err := Parse([]byte(strings.Replace(Default, `method = "ef21"`, "method = \"ef21-sgdm\"\nmomentum = \"eta-theory\"\neta0 = 2.0", 1)), "x.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Algorithm.Batch != 32 || c.Algorithm.InitBatch != 32 || c.Algorithm.Eta0 != 2 {
		t.Fatalf("sgdm defaults %+v", c.Algorithm)
	}
}
