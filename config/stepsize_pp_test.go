package config

import (
	"strings"
	"testing"
)

// rule = "ef21-pp-theory" is EF21-PP's step: for method ef21 without
// normalisation, with or without participation, and it takes factor.
func TestEF21PPTheoryRuleValidation(t *testing.T) {
	pp := []string{"stepsize.rule=ef21-pp-theory", "algorithm.normalize=false", "stepsize.gamma0="}
	for _, extra := range [][]string{nil, {"algorithm.participation=0.3"}, {"stepsize.factor=2"}} {
		c, err := Parse([]byte(Default), "", append(append([]string{}, pp...), extra...))
		if err != nil {
			t.Fatalf("%v: %v", extra, err)
		}
		if c.Stepsize.Rule != "ef21-pp-theory" || !strings.Contains(c.Effective(), `rule = "ef21-pp-theory"`) {
			t.Errorf("%v: rule %q\n%s", extra, c.Stepsize.Rule, c.Effective())
		}
	}
	for _, tc := range []struct {
		set  []string
		want []string
	}{
		{[]string{"algorithm.method=ef21-w"}, []string{"stepsize", "ef21-pp-theory", `method = "ef21-w"`}},
		{[]string{"algorithm.method=ef14"}, []string{"ef21-pp-theory", `method = "ef14"`}},
		{[]string{"algorithm.normalize=true"}, []string{"ef21-pp-theory", "normalize = true"}},
		{[]string{"stepsize.gamma=0.1"}, []string{"stepsize.gamma", "ef21-pp-theory"}},
		{[]string{"stepsize.gamma0=0.1"}, []string{"stepsize.gamma0", "ef21-pp-theory"}},
	} {
		_, err := Parse([]byte(Default), "", append(append([]string{}, pp...), tc.set...))
		if err == nil {
			t.Errorf("%v: no error", tc.set)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: %q does not name %q", tc.set, err, w)
			}
		}
	}
}
