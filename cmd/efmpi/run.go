package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/efmpi/efmpi/collective/launch"
	"github.com/efmpi/efmpi/config"
	"github.com/efmpi/efmpi/driver"
	"github.com/efmpi/efmpi/hdf5io"
)

// errOutput marks an output path that cannot be written.
var errOutput = errors.New("output not writable")

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// runFlags are the flags of `efmpi run`.
type runFlags struct {
	config, out, transport, coordinator string
	ranks                               int
	sets                                multiFlag
	overwrite, quiet, resume            bool
	progress                            time.Duration
}

func parseRunFlags(name string, args []string, stderr io.Writer) (*runFlags, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &runFlags{}
	fs.StringVar(&f.config, "config", "", "experiment `FILE` (TOML); default: the embedded default experiment")
	fs.StringVar(&f.out, "out", "", "HDF5 output `FILE` (overrides [run] output)")
	fs.IntVar(&f.ranks, "ranks", 0, "number of ranks when not started by a launcher (overrides [run] ranks)")
	fs.StringVar(&f.transport, "transport", "", "inproc | tcp | btracey (overrides [run] transport); tcp without a launcher spawns local processes")
	fs.StringVar(&f.coordinator, "coordinator", "", "rank 0's `host:port` for multi-process runs (else EFMPI_COORDINATOR, the Slurm node list or a rendezvous file)")
	fs.Var(&f.sets, "set", "override a config value: `section.key=value` (repeatable)")
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace an existing output file")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress lines")
	fs.BoolVar(&f.resume, "resume", false, "continue the run in the output file from its newest checkpoint (sets [run] resume)")
	fs.DurationVar(&f.progress, "progress", 2*time.Second, "interval between progress lines")
	if err := fs.Parse(args); err != nil {
		return nil, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Sprintf("unexpected argument %q (flags come before nothing else; use -config FILE)", fs.Arg(0))}
	}
	if f.ranks < 0 {
		return nil, usageError{fmt.Sprintf("-ranks %d: must be at least 1", f.ranks)}
	}
	return f, nil
}

// loadConfig reads -config (or the embedded default) and applies the flags.
func loadConfig(f *runFlags) (*config.Config, error) {
	var cfg *config.Config
	var err error
	if f.config == "" {
		cfg, err = config.Parse([]byte(config.Default), "", f.sets)
	} else {
		cfg, err = config.Load(f.config, f.sets)
	}
	if err != nil {
		return nil, err
	}
	if f.out != "" {
		cfg.Run.Output = f.out
	}
	if f.ranks > 0 {
		cfg.Run.Ranks = f.ranks
	}
	if f.resume {
		cfg.Run.Resume = true
	}
	if f.transport != "" {
		switch f.transport {
		case "inproc", "tcp", "btracey":
			cfg.Run.Transport = f.transport
		default:
			return nil, usageError{fmt.Sprintf("-transport %q: want inproc, tcp or btracey", f.transport)}
		}
	}
	return cfg, nil
}

// specFrom turns a validated config into the driver's job description.
func specFrom(cfg *config.Config, overwrite bool) driver.Spec {
	a, s := cfg.Algorithm, cfg.Stepsize
	return driver.Spec{
		Problem: cfg.Problem.Kind, Lambda: cfg.Problem.Lambda, PolyDim: cfg.Problem.Dim,
		Source: cfg.Data.Source, DataPath: cfg.DataPath(), Features: cfg.Data.Features, Samples: cfg.Data.Samples,
		Shuffle: cfg.Data.Shuffle, Split: cfg.Data.Split,
		Method: a.Method, Normalize: a.Normalize, Compressor: a.Compressor, K: a.K,
		InitCompressed: a.Init == "compressed", Batch: a.Batch, InitBatch: a.InitBatch,
		Momentum: a.Momentum, Eta: a.Eta, Eta0: a.Eta0,
		Rule: s.Rule, Gamma: s.Gamma, Gamma0: s.Gamma0, Factor: s.Factor,
		X0: x0Spec(cfg), Sigma0: cfg.Init.Sigma0,
		Iterations: cfg.Run.Iterations, Seed: cfg.Run.Seed, LogEvery: cfg.Run.LogEvery,
		FlushEvery: cfg.Run.FlushEvery, Tolerance: cfg.Run.Tolerance,
		Output: cfg.Run.Output, Overwrite: overwrite, Downlink: cfg.Run.Downlink,
		CheckpointEvery: cfg.Run.CheckpointEvery, Resume: cfg.Run.Resume,
		KFraction: a.KFraction,
		NN: driver.NNSpec{Model: cfg.NN.Model, Widths: cfg.NN.Widths, Data: cfg.NN.Data, Path: cfg.NNPath(),
			TrainSamples: cfg.NN.TrainSamples, TestSamples: cfg.NN.TestSamples, Chunk: cfg.NN.Chunk},
	}
}

func x0Spec(cfg *config.Config) string {
	switch cfg.Init.X0 {
	case "normal", "zeros":
		return cfg.Init.X0
	}
	return cfg.X0Path()
}

// checkOutput creates the output directory and makes sure a file can be
// written there, before any computation.
func checkOutput(path string, overwrite, resume bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%w: output directory %s: %v", errOutput, dir, err)
	}
	probe, err := os.CreateTemp(dir, ".efmpi-write-test-*")
	if err != nil {
		return fmt.Errorf("%w: output directory %s: %v", errOutput, dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	if resume {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%w: -resume: %v", errOutput, err)
		}
		return nil
	}
	if _, err := os.Stat(path); err == nil && !overwrite {
		return fmt.Errorf("%s: %w", path, hdf5io.ErrExists)
	}
	return nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	f, err := parseRunFlags("run", args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) || strings.Contains(err.Error(), flag.ErrHelp.Error()) {
			return ExitOK, nil
		}
		return ExitBadInput, err
	}
	cfg, err := loadConfig(f)
	if err != nil {
		return ExitBadInput, err
	}
	env, err := launch.Detect(nil)
	if err != nil {
		return ExitBadInput, err
	}
	spec := specFrom(cfg, f.overwrite)
	switch {
	case env.Launcher != launch.LauncherNone:
		return runJoined(ctx, cfg, spec, f, env, stdout)
	case cfg.Run.Transport == "inproc":
		if err := checkOutput(spec.Output, f.overwrite, spec.Resume); err != nil {
			return ExitBadInput, err
		}
		sh, err := driver.Prepare(spec, cfg.Run.Ranks)
		if err != nil {
			return ExitBadInput, err
		}
		res, err := runInproc(ctx, sh, cfg, f, stdout)
		return finish(res, err, spec.Output, stdout)
	default:
		return runSpawned(ctx, cfg, spec, f, stdout, stderr)
	}
}

// runAttrs are the root attributes cmd adds to every run file.
func runAttrs(cfg *config.Config, launcher string, hosts []string) []hdf5io.Attr {
	uniq := map[string]bool{}
	for _, h := range hosts {
		uniq[h] = true
	}
	names := make([]string, 0, len(uniq))
	for h := range uniq {
		names = append(names, h)
	}
	sort.Strings(names)
	return []hdf5io.Attr{
		{Name: "efmpi_version", Value: Version},
		{Name: "launcher", Value: launcher},
		{Name: "hosts", Value: strings.Join(names, ",")},
		{Name: "config", Value: cfg.Effective()},
		{Name: "config_path", Value: cfg.Path},
	}
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

// progressPrinter returns rank 0's progress hook: a live line on a terminal,
// plain lines in batch logs.
func progressPrinter(w io.Writer, quiet bool) func(driver.Progress) {
	if quiet {
		return nil
	}
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return func(p driver.Progress) {
		line := fmt.Sprintf("iter %d/%d  f=%.6g  ‖∇f‖²=%.3e  bits/worker=%d  %.0f it/s  ETA %s",
			p.Iteration, p.Iterations, p.F, p.GradNormSq, p.BitsPerWorker, p.ItPerSec, p.ETA.Round(time.Second))
		if tty {
			const width = 24
			done := width * p.Iteration / max(1, p.Iterations)
			fmt.Fprintf(w, "\r[%s%s] %s\x1b[K", strings.Repeat("#", done), strings.Repeat(".", width-done), line)
			if p.Iteration >= p.Iterations {
				fmt.Fprintln(w)
			}
			return
		}
		fmt.Fprintln(w, line)
	}
}

// runInproc runs every rank as a goroutine of this process.
func runInproc(ctx context.Context, sh *driver.Shared, cfg *config.Config, f *runFlags, stdout io.Writer) (driver.Result, error) {
	hosts := make([]string, sh.Ranks)
	for i := range hosts {
		hosts[i] = hostname()
	}
	return driver.RunInproc(ctx, sh, driver.Options{Attrs: runAttrs(cfg, "inproc", hosts), Hosts: hosts,
		Progress: progressPrinter(stdout, f.quiet), ProgressEvery: f.progress})
}

// runJoined runs this process as one rank of a launcher's job.
func runJoined(ctx context.Context, cfg *config.Config, spec driver.Spec, f *runFlags, env launch.Env, stdout io.Writer) (int, error) {
	transport := cfg.Run.Transport
	if transport == "inproc" {
		transport = "tcp" // under a launcher, ranks are processes
	}
	if env.Rank == 0 {
		if err := checkOutput(spec.Output, f.overwrite, spec.Resume); err != nil {
			return ExitBadInput, err
		}
	} else {
		os.MkdirAll(filepath.Dir(spec.Output), 0o755)
	}
	sh, err := driver.Prepare(spec, env.Size)
	if err != nil {
		return ExitBadInput, err
	}
	timeout, err := cfg.TimeoutDuration()
	if err != nil {
		return ExitBadInput, err
	}
	comm, env, err := launch.Join(ctx, launch.Options{Transport: transport, Coordinator: f.coordinator,
		SharedDir: filepath.Dir(spec.Output), Timeout: timeout})
	if err != nil {
		return ExitRankFailed, err
	}
	defer comm.Finalize()
	hosts, err := driver.GatherHosts(comm, hostname())
	if err != nil {
		return ExitRankFailed, err
	}
	opts := driver.Options{}
	out := io.Discard
	if env.Rank == 0 {
		out = stdout
		opts = driver.Options{Attrs: runAttrs(cfg, env.Launcher, hosts), Hosts: hosts,
			Progress: progressPrinter(stdout, f.quiet), ProgressEvery: f.progress}
	}
	res, err := driver.RunRank(ctx, sh, comm, opts)
	return finish(res, err, spec.Output, out)
}

// runSpawned starts cfg.Run.Ranks local processes of this program, which join
// one TCP world over loopback, and waits for them.
func runSpawned(ctx context.Context, cfg *config.Config, spec driver.Spec, f *runFlags, stdout, stderr io.Writer) (int, error) {
	if err := checkOutput(spec.Output, f.overwrite, spec.Resume); err != nil {
		return ExitBadInput, err
	}
	if _, err := driver.Prepare(spec, cfg.Run.Ranks); err != nil {
		return ExitBadInput, err
	}
	exe, err := os.Executable()
	if err != nil {
		return ExitOther, err
	}
	args := append([]string{"run"}, os.Args[2:]...)
	err = launch.Spawn(ctx, cfg.Run.Ranks, exe, args, launch.SpawnOptions{Stdout: stdout, Stderr: stderr})
	if err != nil {
		return exitCode(err), err
	}
	return ExitOK, nil
}

// finish prints rank 0's summary and maps the outcome to an exit status.
func finish(res driver.Result, err error, output string, stdout io.Writer) (int, error) {
	if res.Status != "" {
		fmt.Fprintf(stdout, "status %s (%s) after %d iterations, %.2f s; %d rows in %s\n",
			res.Status, res.Reason, res.Iterations, res.Timing.Total, res.Rows, output)
	}
	if err != nil {
		return exitCode(err), err
	}
	code := statusCode(res.Status)
	if code != ExitOK {
		return code, fmt.Errorf("run %s: %s", res.Status, res.Reason)
	}
	return ExitOK, nil
}
