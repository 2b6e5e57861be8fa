package config

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes (and one arbitrary override) to the
// config loader: it must return a config or an error, never panic, and a
// config it accepts must render an effective configuration that parses back
// to the same effective configuration.
func FuzzParse(f *testing.F) {
	f.Add([]byte(Default), "run.iterations=10")
	f.Add([]byte("[run]\niterations = -1\n"), "")
	f.Add([]byte("[algorithm]\nmethod = \"ef21-sgdm\"\nbatch = 4\n"), "algorithm.k=2")
	f.Add([]byte("[problem]\nkind = \"polynomial\"\ndim = 3\n"), "stepsize.gamma0=1e309")
	f.Add([]byte("[[run]]\n"), "x")
	f.Fuzz(func(t *testing.T, data []byte, override string) {
		var overrides []string
		if override != "" {
			overrides = []string{override}
		}
		c, err := Parse(data, "fuzz.toml", overrides)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not marked invalid input: %v", err)
			}
			return
		}
		eff := c.Effective()
		if strings.HasPrefix(eff, "# could not") {
			t.Fatalf("accepted config does not render: %s", eff)
		}
		c2, err := Parse([]byte(eff), "effective.toml", nil)
		if err != nil {
			t.Fatalf("effective configuration does not parse back: %v\n%s", err, eff)
		}
		if eff2 := c2.Effective(); eff2 != eff {
			t.Fatalf("effective configuration is not stable:\n%s\n---\n%s", eff, eff2)
		}
	})
}
