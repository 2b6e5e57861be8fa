package main

import (
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/driver"
)

// cmdTheory prints the constants behind the step-size rules for a config:
// L, every L_i, L̃, the compressor's α, EF21's θ and β, and γ for the
// configured rule; with participation p set for method ef21, EF21-PP's step
// (ef21-pp-theory) with its ρ, θ_p and B/L̃².
func cmdTheory(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("theory", flag.ContinueOnError)
	fs.SetOutput(stdout)
	path := fs.String("config", "", "experiment `FILE` (TOML); default: the embedded default")
	ranks := fs.Int("ranks", 0, "number of ranks (overrides [run] ranks)")
	var sets multiFlag
	fs.Var(&sets, "set", "override a config value: `section.key=value` (repeatable)")
	fs.Var(unsetFlag{&sets}, "unset", "drop a key of the config file, so its default applies: `section.key` (repeatable; the same as -set section.key=)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	cfg, err := loadConfig(&runFlags{config: *path, ranks: *ranks, sets: sets})
	if err != nil {
		return err
	}
	sh, err := driver.Prepare(specFrom(cfg, true), cfg.Run.Ranks)
	if err != nil {
		return err
	}
	l, li, err := sh.Smoothness()
	if err != nil {
		return err
	}
	th, err := algorithms.EF21Theory(sh.Alpha, l, li, cfg.Stepsize.Factor)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "config\t%s\n", nameOr(cfg.Path, "(embedded default)"))
	fmt.Fprintf(tw, "problem\t%s, d = %d, n = %d ranks\n", cfg.Problem.Kind, sh.Dim, sh.Ranks)
	fmt.Fprintf(tw, "L\t%.12g\t(of f = (1/n) Σ_i f_i, each f_i the mean over its m_i samples)\n", l)
	for i, x := range li {
		fmt.Fprintf(tw, "L_%d\t%.12g\t(m_%d = %d)\n", i, x, i, sh.ShardSizes[i])
	}
	fmt.Fprintf(tw, "L̃ = √(mean L_i²)\t%.12g\n", th.LTilde)
	fmt.Fprintf(tw, "L_AM = mean L_i\t%.12g\t(L̃/L_AM = %.6g)\n", th.LAM, th.LTilde/th.LAM)
	fmt.Fprintf(tw, "compressor\t%s, α = %.6g\n", cfg.Algorithm.Compressor, th.Alpha)
	fmt.Fprintf(tw, "θ, β\t%.6g, %.6g\n", th.Theta, th.Beta)
	fmt.Fprintf(tw, "ef21-theory γ\t%.12g\t(factor %g)\n", th.Gamma, th.Factor)
	if am, err := algorithms.EF21TheoryAM(sh.Alpha, l, li, cfg.Stepsize.Factor); err == nil {
		fmt.Fprintf(tw, "ef21-theory-am γ\t%.12g\t(L_AM in place of L̃; EF21-W and EF21)\n", am.Gamma)
	}
	if p := cfg.Algorithm.Participation; cfg.IsSet("algorithm.participation") && cfg.Algorithm.Method == algorithms.EF21 {
		pp, err := algorithms.EF21PPTheory(sh.Alpha, l, li, p, cfg.Stepsize.Factor)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "ef21-pp-theory γ\t%.12g\t(EF21-PP, p = %g: ρ = %.6g, θ_p = %.6g, B/L̃² = %.6g; %.4g × ef21-theory)\n",
			pp.Gamma, p, pp.Rho, pp.ThetaP, pp.BP, pp.Gamma/th.Gamma)
	}
	fmt.Fprintf(tw, "norm-theory γ\t%.12g\t(γ0 = %g, K = %d)\n",
		algorithms.NormTheory(cfg.Stepsize.Gamma0, cfg.Run.Iterations, sh.Traits.Stochastic),
		cfg.Stepsize.Gamma0, cfg.Run.Iterations)
	fmt.Fprintf(tw, "configured rule\t%s: γ_0 = %.12g\n", cfg.Stepsize.Rule, sh.Schedule.At(0))
	return tw.Flush()
}

func nameOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
