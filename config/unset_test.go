package config

import (
	"strings"
	"testing"
)

// "-set section.key=" unsets a key of the file: the strict config would
// refuse gamma0 with the ef21-theory rule, or k with the sign compressor,
// and unsetting is how a sweep (or a user) switches such a config over.
func TestUnset(t *testing.T) {
	base := []byte(strings.Replace(Default, `rule = "norm-theory"`, "rule = \"norm-theory\"\ngamma0 = 0.5", 1))
	if _, err := Parse(base, "", []string{"stepsize.rule=ef21-theory", "algorithm.normalize=false"}); err == nil ||
		!strings.Contains(err.Error(), "gamma0") {
		t.Fatalf("ef21-theory with the default's gamma0: %v (want the gamma0 error this test relies on)", err)
	}
	c, err := Parse(base, "", []string{"stepsize.rule=ef21-theory", "algorithm.normalize=false", "stepsize.gamma0="})
	if err != nil {
		t.Fatal(err)
	}
	if c.Stepsize.Rule != "ef21-theory" || c.IsSet("stepsize.gamma0") || strings.Contains(c.Effective(), "gamma0") {
		t.Errorf("gamma0 still set: %+v\n%s", c.Stepsize, c.Effective())
	}
	c, err = Parse([]byte(Default), "", []string{"algorithm.compressor=sign", "algorithm.k="})
	if err != nil {
		t.Fatal(err)
	}
	if c.Algorithm.Compressor != "sign" || c.IsSet("algorithm.k") {
		t.Errorf("k still set: %+v", c.Algorithm)
	}
	// unsetting a key that is not there is harmless; the default applies
	c, err = Parse([]byte(Default), "", []string{"run.tolerance=", "run.seed="})
	if err != nil || c.Run.Seed != 1 {
		t.Errorf("unset of an absent key: %v, seed %d", err, c.Run.Seed)
	}
}
