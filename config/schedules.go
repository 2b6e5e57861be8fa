package config

import (
	"fmt"
	"math"
)

// Issue 24's keys: the momentum methods of the sequel (ef21-igt, ef21-storm,
// ef21-hm, ef21-rhm), EControl, and the parameter-agnostic schedules. Every
// key is optional and left out of the effective configuration when unset, so
// configurations that do not use them render as before.
//
//	[algorithm] eta_rule = "constant" | "poly"   η_t = eta·(2/(t+2))^eta_q
//	            eta_q    (0 or unset: the method's exponent, algorithms.Q*)
//	            eta_per  = "iteration" | "epoch"
//	            hvp      = "analytic" | "central" (ef21-hm, ef21-rhm)
//	            hvp_eps  (central differences; default problems.DefaultHVPEps)
//	[stepsize]  rule = "poly": γ_t = gamma0/(t+1)^p, p required
//	            per      = "iteration" | "epoch"

// momentumMethod reports the methods of issue 24 that take minibatches and a
// momentum (or EControl's η) like ef21-sgdm.
func momentumMethod(m string) bool {
	switch m {
	case "ef21-igt", "ef21-storm", "ef21-hm", "ef21-rhm", "econtrol":
		return true
	}
	return false
}

// hvpMethod reports the methods that take Hessian-vector products.
func hvpMethod(m string) bool { return m == "ef21-hm" || m == "ef21-rhm" }

// validateSchedules checks issue 24's keys.
func (c *Config) validateSchedules() error {
	a, s := &c.Algorithm, &c.Stepsize
	for _, e := range []error{
		oneOf("algorithm.eta_rule", orDefault(a.EtaRule, "constant"), "constant", "poly"),
		oneOf("algorithm.eta_per", orDefault(a.EtaPer, "iteration"), "iteration", "epoch"),
		oneOf("algorithm.hvp", orDefault(a.HVP, "analytic"), "analytic", "central"),
		oneOf("stepsize.per", orDefault(s.Per, "iteration"), "iteration", "epoch"),
	} {
		if e != nil {
			return e
		}
	}
	switch {
	case a.EtaRule == "poly" && a.Momentum == "eta-theory":
		return fmt.Errorf("[algorithm] eta_rule = \"poly\" and momentum = \"eta-theory\" exclude each other")
	case a.EtaRule == "poly" && (a.Method == "econtrol" || a.Method == "signsgd"):
		return fmt.Errorf("[algorithm] eta_rule = \"poly\" is not defined for method %s", a.Method)
	case !(a.EtaQ >= 0) || math.IsInf(a.EtaQ, 0):
		return fmt.Errorf("[algorithm] eta_q = %v must be a positive finite number (0: the method's default)", a.EtaQ)
	case c.set["algorithm.hvp_eps"] && (!(a.HVPEps > 0) || math.IsInf(a.HVPEps, 0)):
		return fmt.Errorf("[algorithm] hvp_eps = %v must be a positive finite number", a.HVPEps)
	case s.Rule == "poly" && !c.set["stepsize.p"]:
		return fmt.Errorf("[stepsize] rule = \"poly\" needs p (γ_t = gamma0/(t+1)^p; the sequel's theorems could not be read here, so efmpi sets no default)")
	case s.Rule == "poly" && (!(s.P > 0) || math.IsInf(s.P, 0)):
		return fmt.Errorf("[stepsize] p = %v must be a positive finite number", s.P)
	}
	return nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// schedulesInapplicable adds issue 24's keys that do not apply.
func (c *Config) schedulesInapplicable(notFor func(cond bool, why string, keys ...string)) {
	a, s := &c.Algorithm, &c.Stepsize
	mom := a.Method == "ef21-sgdm" || (momentumMethod(a.Method) && a.Method != "econtrol")
	notFor(!mom, "to method "+a.Method+" (eta_rule is for ef21-sgdm, ef21-igt, ef21-storm, ef21-hm, ef21-rhm)", "algorithm.eta_rule")
	notFor(a.EtaRule != "poly", "unless eta_rule = \"poly\"", "algorithm.eta_q", "algorithm.eta_per")
	notFor(!hvpMethod(a.Method), "to method "+a.Method+" (only ef21-hm and ef21-rhm take Hessian-vector products)", "algorithm.hvp")
	notFor(a.HVP != "central", "unless hvp = \"central\"", "algorithm.hvp_eps")
	notFor(s.Rule != "poly", "to rule "+s.Rule+" (p and per are for rule = \"poly\")", "stepsize.p", "stepsize.per")
}
