package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"

	"github.com/efmpi/efmpi/driver"
	"github.com/efmpi/efmpi/runfile"
)

// cmdDemo runs the default experiment: the embedded default config as
// ||EF21|| (norm-theory, γ0 = 1) and as EF21 (ef21-theory), both with top-1 on
// the same synthetic logistic-regression data with 4 in-process ranks, then
// prints a comparison table and where the files are.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("out", "results/demo", "output `DIR` for the HDF5 files")
	quiet := fs.Bool("quiet", false, "no progress lines")
	if err := fs.Parse(args); err != nil {
		return ExitBadInput, usageError{err.Error()}
	}
	variants := []struct{ name, file string }{
		{"||EF21||, norm-theory γ0 = 1", "ef21-norm.h5"},
		{"EF21, ef21-theory", "ef21.h5"},
	}
	sets := [][]string{
		{"algorithm.normalize=true", "stepsize.rule=\"norm-theory\""},
		{"algorithm.normalize=false", "stepsize.rule=\"ef21-theory\""},
	}
	var runs []*runfile.Summary
	for i, v := range variants {
		out := filepath.Join(*dir, v.file)
		f := &runFlags{sets: sets[i], out: out, overwrite: true, quiet: *quiet, progress: 2e9}
		cfg, err := loadConfig(f)
		if err != nil {
			return ExitBadInput, err
		}
		fmt.Fprintf(stdout, "== %s → %s\n", v.name, out)
		if err := checkOutput(out, true, false, runInputs(cfg)); err != nil {
			return ExitBadInput, err
		}
		sh, err := driver.Prepare(specFrom(cfg, true), cfg.Run.Ranks)
		if err != nil {
			return ExitBadInput, err
		}
		if err := makeOutputDir(out); err != nil {
			return ExitBadInput, err
		}
		res, err := runInproc(ctx, sh, cfg, f, stdout)
		if code, err := finish(res, err, out, false, stdout); err != nil {
			return code, err
		}
		s, err := summarize(out)
		if err != nil {
			return ExitOther, err
		}
		runs = append(runs, s)
	}
	// the accuracy both runs reached: the larger of their best ‖∇f‖²
	target := 0.0
	for _, s := range runs {
		target = math.Max(target, s.MinGradNormSq)
	}
	fmt.Fprintf(stdout, "\nSynthetic logistic regression (1000 samples, d = 50, λ = 0.1), 4 in-process ranks, top-1, %v iterations.\n", runs[0].Attrs["iterations"])
	fmt.Fprintf(stdout, "Target: the accuracy both runs reached, ‖∇f‖² ≤ %.3e.\n\n", target)
	printComparison(stdout, runs, target)
	abs, _ := filepath.Abs(*dir)
	fmt.Fprintf(stdout, "\nHDF5 files in %s — summarise with: efmpi inspect %s\n", abs, filepath.Join(*dir, "*.h5"))
	fmt.Fprintf(stdout, "read them in Python: h5py.File(%q)[\"trajectory/grad_norm_sq\"][:]\n", filepath.Join(*dir, variants[0].file))
	return ExitOK, nil
}
