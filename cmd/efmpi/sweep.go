package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"

	"github.com/efmpi/efmpi/config"
	"github.com/efmpi/efmpi/driver"
	"github.com/efmpi/efmpi/runfile"
	"github.com/efmpi/efmpi/sweep"
)

// checkPoint prepares a point's job as its run would — reading the data,
// checking k ≤ d, ranks ≤ samples, the minibatch, x0, the step-size
// constants and the memory — and discards it, so that a bad grid value is
// found before any point runs.
func checkPoint(cfg *config.Config) error {
	sh, err := driver.Prepare(specFrom(cfg, true), cfg.Run.Ranks)
	if err != nil {
		return err
	}
	return sh.CheckMemory(cfg.Run.Ranks)
}

// cmdSweep runs a config over a grid of values (package sweep), every point
// with in-process ranks, several points at once (-jobs N, or by default as
// many as fit GOMAXPROCS given each point's ranks), and writes DIR/sweep.csv.
func cmdSweep(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("config", "", "base experiment `FILE` (TOML); default: the embedded default")
	var grids, sets multiFlag
	var zips multiFlag
	fs.Var(&grids, "grid", "a grid axis `section.key=v1,v2,...`, or a set axis NAME=ov ov|ov|... whose values are sets of section.key=value overrides (repeatable; the first varies slowest)")
	fs.Var(&zips, "zip", "pair grid axes: `AXIS,AXIS,...` advance together instead of forming their product (repeatable)")
	fs.Var(&sets, "set", "override a base config value: `section.key=value` (repeatable; section.key= unsets it)")
	fs.Var(unsetFlag{&sets}, "unset", "drop a key of the base config: `section.key` (repeatable; the same as -set section.key=)")
	target := fs.Float64("target", math.NaN(), "‖∇f‖² `T`: report the iteration and bits at which ‖∇f‖² reaches T (see -criterion)")
	criterion := fs.String("criterion", "first", "with -target: `first` (the first row with ‖∇f‖² ≤ T) or stays (the first row from which ‖∇f‖² stays ≤ T to the end of the run); -choose-k uses it too")
	dir := fs.String("out", "results/sweep", "output `DIR` for point-NNN.h5 and sweep.csv")
	chooseK := fs.String("choose-k", "", "choose K per point: the smallest of START, START+STEP, …, ≤ MAX reaching -target, as `[run.iterations=]START:STEP:MAX`")
	linear := fs.Bool("k-linear", false, "with -choose-k: try every K in order (default: doubling, then bisection)")
	quiet := fs.Bool("quiet", false, "no line per run")
	overwrite := fs.Bool("overwrite", false, "replace the sweep files (point-*.h5, sweep.csv, …) in a non-empty -out folder")
	resume := fs.Bool("resume", false, "continue the sweep in -out: keep its finished points, continue interrupted ones from their checkpoints, run the others")
	slurmMode := fs.Bool("slurm", false, "submit the sweep as a Slurm job array (slurm/sweep.sbatch) instead of running it; sbatch flags follow --")
	slurmScript := fs.String("slurm-script", "slurm/sweep.sbatch", "with -slurm: the array `SCRIPT`")
	throttle := fs.Int("throttle", 0, "with -slurm: run at most `N` array tasks at once (sbatch --array=…%N; 0: no limit)")
	jobs := fs.Int("jobs", 0, "run up to `N` grid points at once (0: as many as fit GOMAXPROCS cores, each point taking as many cores as it has ranks)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: efmpi sweep -config FILE -grid key=v1,v2,... [-grid NAME='ov ov|ov'] [-zip A,B] [-set key=value]... [-target T] [-choose-k START:STEP:MAX] [-jobs N] [-out DIR] [-overwrite|-resume] [-slurm [-- SBATCH FLAGS]]\n"+
			"Runs every grid point in-process, several at once (-jobs); writes DIR/point-NNN.h5 and DIR/sweep.csv.\n"+
			"With -slurm, submits the same points as a job array; collect them with efmpi summarize DIR.\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, nil
		}
		return ExitBadInput, usageError{err.Error()}
	}
	sbatchFlags := fs.Args()
	if len(sbatchFlags) > 0 && !*slurmMode {
		return ExitBadInput, usageError{fmt.Sprintf("sweep: unexpected argument %q (sbatch flags go after -slurm --)", fs.Arg(0))}
	}
	if *overwrite && *resume {
		return ExitBadInput, usageError{"sweep: -overwrite and -resume exclude each other"}
	}
	if *jobs < 0 {
		return ExitBadInput, usageError{fmt.Sprintf("-jobs %d: want N ≥ 1, or 0 for as many as fit the cores", *jobs)}
	}
	crit, err := runfile.ParseCriterion(*criterion)
	if err != nil {
		return ExitBadInput, usageError{err.Error()}
	}
	if *throttle < 0 || (*throttle > 0 && !*slurmMode) {
		return ExitBadInput, usageError{fmt.Sprintf("-throttle %d: want N ≥ 1, with -slurm", *throttle)}
	}
	sw := &sweep.Sweep{Target: *target, Criterion: crit, Dir: *dir, Jobs: *jobs}
	if !math.IsNaN(*target) && (*target <= 0 || math.IsInf(*target, 0)) {
		return ExitBadInput, usageError{fmt.Sprintf("-target %g: want a finite value > 0", *target)}
	}
	for _, g := range grids {
		a, err := sweep.ParseAxis(g)
		if err != nil {
			return ExitBadInput, usageError{err.Error()}
		}
		sw.Axes = append(sw.Axes, a)
	}
	if *chooseK != "" {
		ks, err := sweep.ParseKSearch(*chooseK)
		if err != nil {
			return ExitBadInput, usageError{err.Error()}
		}
		ks.Linear = *linear
		sw.KSearch = &ks
	}
	for _, z := range zips {
		names, err := sweep.ParseZip(z)
		if err != nil {
			return ExitBadInput, usageError{err.Error()}
		}
		sw.Zip = append(sw.Zip, names)
	}
	// Check the base config and every point before running anything: the
	// config, and everything that needs the data (k ≤ d, ranks ≤ samples,
	// batch ≤ shard, a readable x0 …), as the point's run would.
	points, err := sweep.ExpandZip(sw.Axes, sw.Zip)
	if err != nil {
		return ExitBadInput, usageError{err.Error()}
	}
	ranks := make([]int, len(points)) // in-process ranks of each point: the cores it keeps busy
	for _, p := range points {
		over := append(append([]string{}, sets...), p.Overrides()...)
		if sw.KSearch != nil {
			over = append(over, fmt.Sprintf("%s=%d", sw.KSearch.Key, sw.KSearch.Start))
		}
		cfg, err := loadConfig(&runFlags{config: *base, sets: over})
		if err != nil {
			return ExitBadInput, fmt.Errorf("point %d (%s): %w", p.Index, p, err)
		}
		if err := checkNotInput("sweep -out", filepath.Join(*dir, "sweep.csv"), runInputs(cfg)); err != nil {
			return ExitBadInput, err
		}
		if err := checkPoint(cfg); err != nil {
			return ExitBadInput, fmt.Errorf("point %d (%s): %w; nothing was run", p.Index, p, err)
		}
		ranks[p.Index] = cfg.Run.Ranks
	}
	if *jobs == 0 {
		sw.Cores = runtime.GOMAXPROCS(0)
		sw.Weight = func(p sweep.Point) int { return ranks[p.Index] }
	}
	manifest := sweep.Manifest{Config: *base, Sets: append([]string{}, sets...), KSearch: *chooseK}
	for _, p := range points {
		manifest.Points = append(manifest.Points, p.String())
	}
	mode := sweep.Fresh
	switch {
	case *overwrite:
		mode = sweep.Overwrite
	case *resume:
		mode = sweep.Resume
	}
	sw.Resume = *resume
	if *slurmMode {
		return submitSweep(sw, points, manifest, mode, *slurmScript, sbatchFlags, *throttle, stdout)
	}
	if err := sweep.PrepareDir(*dir, mode, manifest); err != nil {
		if errors.Is(err, sweep.ErrNotEmpty) {
			return ExitBadInput, usageError{err.Error()}
		}
		return ExitBadInput, fmt.Errorf("%w: %v", errOutput, err)
	}
	if !*quiet {
		sw.Progress = func(r sweep.Result) { printSweepLine(stdout, sw, r) }
	}
	runner := func(ctx context.Context, overrides []string, out string) error {
		over := append(append([]string{}, sets...), overrides...)
		f := &runFlags{config: *base, sets: over, out: out, overwrite: true, quiet: true}
		cfg, err := loadConfig(f)
		if err != nil {
			return err
		}
		if err := checkNotInput("sweep -out", out, runInputs(cfg)); err != nil {
			return err
		}
		sh, err := driver.Prepare(specFrom(cfg, true), cfg.Run.Ranks)
		if err != nil {
			return err
		}
		_, err = runInproc(ctx, sh, cfg, f, io.Discard)
		return err
	}
	fmt.Fprintf(stdout, "sweep: %d points", len(points))
	if sw.KSearch != nil {
		fmt.Fprintf(stdout, ", K chosen from %s = %d, %d, …, %d", sw.KSearch.Key, sw.KSearch.Start,
			sw.KSearch.Start+sw.KSearch.Step, sw.KSearch.Max)
	}
	if sw.HasTarget() {
		fmt.Fprintf(stdout, ", target ‖∇f‖² ≤ %g (%s: %s)", sw.Target, crit, crit.Describe())
	}
	fmt.Fprintf(stdout, " → %s\n", *dir)
	results, runErr := sw.Run(ctx, runner)
	csvPath := filepath.Join(*dir, "sweep.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		return ExitOther, fmt.Errorf("%w: %v", errOutput, err)
	}
	if err := sw.WriteCSV(f, results); err != nil {
		f.Close()
		return ExitOther, err
	}
	if err := f.Close(); err != nil {
		return ExitOther, err
	}
	fmt.Fprintln(stdout)
	chosen := sweep.Chosen(results)
	printSweepSummary(stdout, sw, chosen)
	var sums []*runfile.Summary
	for _, r := range chosen {
		if r.Summary != nil {
			sums = append(sums, r.Summary)
		}
	}
	printSeedTable(stdout, sums, sw.HasTarget(), sw.Target, crit)
	fmt.Fprintf(stdout, "\ntable: %s (%d runs)\n", csvPath, len(results))
	if runErr != nil {
		if errors.Is(runErr, context.Canceled) {
			return ExitInterrupted, fmt.Errorf("interrupted after %d runs (the table has them); continue with the same command and -resume: finished points are kept, interrupted ones continue from their checkpoints", len(results))
		}
		return exitCode(runErr), runErr
	}
	for _, r := range results {
		if r.Status == "error" {
			return ExitOther, fmt.Errorf("point %d (%s): %s", r.Point.Index, r.Point, r.Err)
		}
	}
	return ExitOK, nil
}

func reachText(v int64) string {
	if v < 0 {
		return "never"
	}
	return fmt.Sprint(v)
}

// printSweepLine reports one finished run.
func printSweepLine(w io.Writer, sw *sweep.Sweep, r sweep.Result) {
	what := r.Point.String()
	if r.K > 0 {
		what = strings.TrimSpace(fmt.Sprintf("%s %s=%d", what, sw.KSearch.Key, r.K))
	}
	if what == "" {
		what = "(base)"
	}
	line := fmt.Sprintf("  [%d] %s: %s, ‖∇f‖² %.3e", r.Point.Index, what, r.Status, r.FinalGradNorm)
	if r.Method != "" {
		line = fmt.Sprintf("  [%d] %s (%s): %s, ‖∇f‖² %.3e", r.Point.Index, r.Method, what, r.Status, r.FinalGradNorm)
	}
	if r.Reused {
		line += " (kept from the earlier sweep)"
	}
	if r.Resumed {
		line += " (continued from its checkpoint)"
	}
	if sw.HasTarget() {
		line += ", target at iteration " + reachText(r.ItersToTarget)
	}
	if r.Err != "" {
		line += " — " + r.Err
	}
	fmt.Fprintln(w, line)
}

// printSweepSummary prints one line per point (its chosen K with a search).
func printSweepSummary(w io.Writer, sw *sweep.Sweep, rows []sweep.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"point", "run"}
	for _, a := range sw.Axes {
		if !a.IsSet() { // a set axis's values are long; the run label says them
			head = append(head, a.Key)
		}
	}
	if sw.KSearch != nil {
		head = append(head, "chosen "+sw.KSearch.Key)
	}
	if sw.HasTarget() {
		crit := sw.Criterion
		if crit == "" {
			crit = runfile.First
		}
		head = append(head, targetHeads(sw.Target, crit)...)
	}
	head = append(head, "final f", "final ‖∇f‖²", "status")
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, r := range rows {
		cells := []string{fmt.Sprint(r.Point.Index), r.Method}
		for i, a := range sw.Axes {
			if !a.IsSet() {
				cells = append(cells, r.Point.Values[i])
			}
		}
		if sw.KSearch != nil {
			k := fmt.Sprint(r.K)
			if r.Role == "none" {
				k = fmt.Sprintf("none ≤ %d", sw.KSearch.Max)
			}
			cells = append(cells, k)
		}
		if sw.HasTarget() {
			cells = append(cells, reachText(r.ItersToTarget), reachText(r.BitsToTarget))
		}
		cells = append(cells, fmt.Sprintf("%.6g", r.FinalF), fmt.Sprintf("%.3e", r.FinalGradNorm), r.Status)
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	tw.Flush()
}
