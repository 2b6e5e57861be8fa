package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/launch"
	"github.com/efmpi/efmpi/collective/mpi"
	"github.com/efmpi/efmpi/config"
	"github.com/efmpi/efmpi/driver"
	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/runfile"
)

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// unsetFlag is -unset KEY: it adds the override "KEY=" (unset) to sets, in
// order with the -set flags.
type unsetFlag struct{ sets *multiFlag }

func (u unsetFlag) String() string { return "" }
func (u unsetFlag) Set(key string) error {
	if strings.Contains(key, "=") || !strings.Contains(key, ".") {
		return fmt.Errorf("want section.key, got %q", key)
	}
	*u.sets = append(*u.sets, key+"=")
	return nil
}

// runFlags are the flags of `efmpi run`.
type runFlags struct {
	config, out, transport, coordinator string
	ranks                               int
	sets                                multiFlag
	overwrite, quiet, resume            bool
	validate                            bool
	progress                            time.Duration
}

func parseRunFlags(name string, args []string, stderr io.Writer) (*runFlags, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &runFlags{}
	fs.StringVar(&f.config, "config", "", "experiment `FILE` (TOML); default: the embedded default experiment")
	fs.StringVar(&f.out, "out", "", "HDF5 output `FILE` (overrides [run] output)")
	fs.IntVar(&f.ranks, "ranks", 0, "number of ranks when not started by a launcher (overrides [run] ranks)")
	fs.StringVar(&f.transport, "transport", "", "inproc | tcp | mpi | btracey (overrides [run] transport); tcp without a launcher spawns local processes; under a launcher an MPI build uses mpi, others tcp")
	fs.StringVar(&f.coordinator, "coordinator", "", "rank 0's `host:port` for multi-process runs (else EFMPI_COORDINATOR, the Slurm node list or a rendezvous file)")
	fs.Var(&f.sets, "set", "override a config value: `section.key=value` (repeatable; section.key= unsets it)")
	fs.Var(unsetFlag{&f.sets}, "unset", "drop a key of the config file, so its default applies: `section.key` (repeatable; the same as -set section.key=)")
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace an existing output file")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress lines")
	fs.BoolVar(&f.resume, "resume", false, "continue the run in the output file from its newest checkpoint (sets [run] resume)")
	fs.DurationVar(&f.progress, "progress", 2*time.Second, "interval between progress lines")
	fs.BoolVar(&f.validate, "validate", false, "check everything before the first iteration (config, output path, data per rank, constants, memory per rank), print it, write nothing; exit 0 or 2")
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
		case "inproc", "tcp", "btracey", "mpi":
			cfg.Run.Transport = f.transport
		default:
			return nil, usageError{fmt.Sprintf("-transport %q: want inproc, tcp, mpi or btracey", f.transport)}
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
		Shuffle: cfg.Data.Shuffle, Split: cfg.Data.Split, SplitAlpha: cfg.Data.Alpha,
		TestPath: cfg.TestPath(), TestFraction: cfg.Data.TestFraction, EvalEvery: cfg.Run.EvalEvery,
		RowNNZ: cfg.Data.NNZPerRow, Exponent: cfg.Data.Exponent, LabelNoise: cfg.Data.LabelNoise,
		Method: a.Method, Normalize: a.Normalize.On(), NormalizeLayer: a.Normalize.Layer(), Compressor: a.Compressor, K: a.K,
		InitCompressed: a.Init == "compressed", Batch: a.Batch, InitBatch: a.InitBatch,
		Momentum: a.Momentum, Eta: a.Eta, Eta0: a.Eta0, Participation: a.Participation,
		Noise: algorithms.Noise{Kind: cfg.Noise.Kind, Scale: cfg.Noise.Scale, Nu: cfg.Noise.Nu},
		Rule:  s.Rule, Gamma: s.Gamma, Gamma0: s.Gamma0, Factor: s.Factor,
		EtaRule: a.EtaRule, EtaQ: a.EtaQ, EtaPer: a.EtaPer, Power: s.P, StepPer: s.Per, HVP: a.HVP, HVPEps: a.HVPEps,
		X0: x0Spec(cfg), Sigma0: cfg.Init.Sigma0,
		Iterations: cfg.Run.Iterations, Seed: cfg.Run.Seed, LogEvery: cfg.Run.LogEvery,
		FlushEvery: cfg.Run.FlushEvery, Tolerance: cfg.Run.Tolerance,
		Output: cfg.Run.Output, Overwrite: overwrite, Downlink: cfg.Run.Downlink,
		CheckpointEvery: cfg.Run.CheckpointEvery, Resume: cfg.Run.Resume,
		KFraction: a.KFraction,
		NN: driver.NNSpec{Model: cfg.NN.Model, Widths: cfg.NN.Widths, Data: cfg.NN.Data, Path: cfg.NNPath(),
			TrainSamples: cfg.NN.TrainSamples, TestSamples: cfg.NN.TestSamples, Chunk: cfg.NN.Chunk,
			Precision: cfg.NN.Precision, BNEval: cfg.NN.BNEval, Threads: cfg.Run.Threads, Input: cfg.NN.Input},
	}
}

func x0Spec(cfg *config.Config) string {
	switch cfg.Init.X0 {
	case "normal", "zeros":
		return cfg.Init.X0
	}
	return cfg.X0Path()
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
	if f.validate {
		return cmdValidate(cfg, spec, f, env, stdout)
	}
	if spec.Resume && env.Rank == 0 && env.Launcher != launch.LauncherSpawned {
		if note := resumeNote(spec.Output); note != "" {
			fmt.Fprintln(stdout, note)
		}
	}
	switch {
	case env.Launcher != launch.LauncherNone:
		// the world-size warning comes once the world is joined and this
		// rank's input is read, so that a wrong launcher, a missing MPI or
		// bad input is the first (and only) thing printed
		warn := func() {
			if w := worldSizeWarning(cfg, f, env); w != "" {
				fmt.Fprintln(stderr, w)
			}
		}
		return runJoined(ctx, cfg, spec, f, env, stdout, warn)
	case cfg.Run.Transport == "mpi":
		return ExitBadInput, usageError{"-transport mpi: not started by an MPI launcher (mpirun, mpiexec, srun --mpi=pmix|pmi2)"}
	case cfg.Run.Transport == "inproc":
		if err := checkOutput(spec.Output, f.overwrite, spec.Resume, runInputs(cfg)); err != nil {
			return ExitBadInput, err
		}
		sh, err := driver.Prepare(spec, cfg.Run.Ranks)
		if err != nil {
			return ExitBadInput, err
		}
		if err := sh.CheckMemory(cfg.Run.Ranks); err != nil {
			return ExitBadInput, err
		}
		if err := makeOutputDir(spec.Output); err != nil {
			return ExitBadInput, err
		}
		res, err := runInproc(ctx, sh, cfg, f, stdout)
		return finish(res, err, spec.Output, spec.Resume, stdout)
	default:
		return runSpawned(ctx, cfg, spec, f, stdout, stderr)
	}
}

// resumeNote says, before a -resume, what became of the run in path when
// its file still says running: its writer is gone (or alive), and where its
// rows end. "" for any other file.
func resumeNote(path string) string {
	s, err := runfile.SummarizeFile(path)
	if err != nil || s.Writer == nil {
		return ""
	}
	last := "no rows"
	if s.Rows > 0 {
		last = fmt.Sprintf("last row at iteration %d", s.LastIteration)
	}
	return fmt.Sprintf("resume %s: its status is still running; %s; %s, file last written %s",
		path, s.Writer.Words(), last, s.Writer.LastWrite.Format(time.RFC3339))
}

// runAttrs are the root attributes cmd adds to every run file (what
// describes one start of it is startAttrs).
func runAttrs(cfg *config.Config) []hdf5io.Attr {
	attrs := []hdf5io.Attr{
		{Name: "config", Value: cfg.Effective()},
		{Name: "config_path", Value: cfg.Path},
		{Name: "ranks_configured", Value: cfg.Run.Ranks},
	}
	return append(attrs, pathAttrs(cfg)...)
}

// pathAttrs are the run's paths both as given (relative to where the run
// started) and absolute, so a file found later still says what it read and
// where it was written: config_path_abs, output_path, output_path_abs,
// working_dir, and for LIBSVM data data_path and data_path_abs.
func pathAttrs(cfg *config.Config) []hdf5io.Attr {
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	wd, _ := os.Getwd()
	out := []hdf5io.Attr{{Name: "working_dir", Value: wd},
		{Name: "output_path", Value: cfg.Run.Output}, {Name: "output_path_abs", Value: abs(cfg.Run.Output)}}
	if cfg.Path != "" {
		out = append(out, hdf5io.Attr{Name: "config_path_abs", Value: abs(cfg.Path)})
	}
	if cfg.Data.Path != "" {
		out = append(out, hdf5io.Attr{Name: "data_path", Value: cfg.Data.Path}, hdf5io.Attr{Name: "data_path_abs", Value: abs(cfg.DataPath())})
	}
	return out
}

// worldSizeWarning is the warning rank 0 prints when a launcher's world size
// differs from the number of ranks the config or -ranks asked for ("" when
// they agree or nobody asked).
func worldSizeWarning(cfg *config.Config, f *runFlags, env launch.Env) string {
	if env.Launcher == launch.LauncherNone || env.Rank != 0 || env.Size == cfg.Run.Ranks {
		return ""
	}
	switch {
	case f.ranks > 0:
		return fmt.Sprintf("warning: %s started %d ranks; -ranks %d is ignored (the launcher's world size decides)", env.Launcher, env.Size, f.ranks)
	case cfg.IsSet("run.ranks"):
		where := "the config"
		if cfg.Path != "" {
			where = cfg.Path
		}
		return fmt.Sprintf("warning: %s started %d ranks; [run] ranks = %d in %s is ignored (the launcher's world size decides)",
			env.Launcher, env.Size, cfg.Run.Ranks, where)
	}
	return ""
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
func progressPrinter(w io.Writer, quiet bool, launcher string) func(driver.Progress) {
	if quiet {
		return nil
	}
	tty := liveProgress(w, launcher, os.Getenv("EFMPI_PROGRESS"))
	return progressFunc(w, tty)
}

// liveProgress decides between a live bar (carriage return, erase to end
// of line) and plain lines: the bar only when w is a terminal and no MPI
// launcher or Slurm started this process — mpirun gives its ranks a
// pseudo-terminal even when its own output goes to a file, so there a
// terminal says nothing about where the text ends up. EFMPI_PROGRESS=bar or
// =lines overrides.
func liveProgress(w io.Writer, launcher, override string) bool {
	switch override {
	case "bar":
		return true
	case "lines":
		return false
	}
	switch launcher {
	case launch.LauncherNone, launch.LauncherSpawned, "":
	default:
		return false
	}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return os.Getenv("TERM") != "dumb"
		}
	}
	return false
}

// progressFunc prints progress lines, as a live bar when tty is set.
func progressFunc(w io.Writer, tty bool) func(driver.Progress) {
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
	return driver.RunInproc(ctx, sh, driver.Options{Attrs: runAttrs(cfg), Start: startAttrs("inproc", hosts), Hosts: hosts,
		Progress: progressPrinter(stdout, f.quiet, launch.LauncherNone), ProgressEvery: f.progress})
}

// runJoined runs this process as one rank of a launcher's job.
// warn is called once the world is joined and this rank's data is read.
func runJoined(ctx context.Context, cfg *config.Config, spec driver.Spec, f *runFlags, env launch.Env, stdout io.Writer, warn func()) (int, error) {
	transport := cfg.Run.Transport
	if transport == "inproc" {
		// under a launcher, ranks are processes: MPI if linked, else TCP
		transport = "tcp"
		if mpi.Linked() && env.Launcher != launch.LauncherSpawned {
			transport = "mpi"
		}
	}
	if transport == "mpi" {
		return runMPI(ctx, cfg, spec, f, env, stdout, warn)
	}
	sh, err := prepareJoined(cfg, spec, f, env)
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
		if errors.Is(err, launch.ErrBadSecret) {
			return ExitBadInput, err
		}
		return ExitRankFailed, err
	}
	defer comm.Finalize()
	warn()
	return runRank(ctx, cfg, spec, f, env, comm, sh, stdout, nil, nil)
}

// prepareJoined checks the output and the inputs and reads this rank's rows
// of the data; rank 0 makes the output's folder. Every error is bad input.
func prepareJoined(cfg *config.Config, spec driver.Spec, f *runFlags, env launch.Env) (*driver.Shared, error) {
	if env.Rank == 0 {
		if err := checkOutput(spec.Output, f.overwrite, spec.Resume, runInputs(cfg)); err != nil {
			return nil, err
		}
	}
	if err := requireRegular(runInputs(cfg)); err != nil {
		return nil, err
	}
	sh, err := driver.PrepareRank(spec, env.Size, env.Rank) // this rank's rows only
	if err != nil {
		return nil, err
	}
	if env.Rank == 0 {
		if err := makeOutputDir(spec.Output); err != nil {
			return nil, err
		}
	} else {
		os.MkdirAll(filepath.Dir(spec.Output), 0o755)
	}
	return sh, nil
}

// runRank runs this process's rank of the joined world comm (tcp or mpi):
// it gathers the hosts, agrees with every rank on config, binary and data,
// runs the rank and finishes its output. On rank 0, onRecorder (if not nil)
// becomes driver.Options.OnRecorder; afterRun (if not nil) is called once
// the rank has run, before its output is finished.
func runRank(ctx context.Context, cfg *config.Config, spec driver.Spec, f *runFlags, env launch.Env, comm collective.Comm,
	sh *driver.Shared, stdout io.Writer, onRecorder func(mark func(string, string, bool)), afterRun func()) (int, error) {
	hosts, err := driver.GatherHosts(comm, hostname())
	if err != nil {
		return ExitRankFailed, err
	}
	// Before the first iteration every rank must run the same config, binary
	// and data: a rank started differently would finish "completed" with
	// another trajectory.
	if err := driver.Agree(comm, driver.Print{Config: cfg.Effective(), Binary: binaryID(), Data: sh.Data}); err != nil {
		return exitCode(err), err
	}
	opts := driver.Options{}
	out := io.Discard
	if env.Rank == 0 {
		out = stdout
		opts = driver.Options{Attrs: runAttrs(cfg), Start: startAttrs(env.Launcher, hosts), Hosts: hosts,
			Progress: progressPrinter(stdout, f.quiet, env.Launcher), ProgressEvery: f.progress,
			OnRecorder: onRecorder}
	}
	res, err := driver.RunRank(ctx, sh, comm, opts)
	if afterRun != nil {
		afterRun()
	}
	// only rank 0 reads its file back for the time of a resumed run: the
	// others may not open it while rank 0 still writes it
	return finish(res, err, spec.Output, spec.Resume && env.Rank == 0, out)
}

// runSpawned starts cfg.Run.Ranks local processes of this program, which join
// one TCP world over loopback, and waits for them.
func runSpawned(ctx context.Context, cfg *config.Config, spec driver.Spec, f *runFlags, stdout, stderr io.Writer) (int, error) {
	inputs := runInputs(cfg)
	if err := checkOutput(spec.Output, f.overwrite, spec.Resume, inputs); err != nil {
		return ExitBadInput, err
	}
	if err := requireRegular(inputs); err != nil {
		return ExitBadInput, err
	}
	if _, err := driver.PrepareRank(spec, cfg.Run.Ranks, 0); err != nil { // checks the input; each process then reads its own rows
		return ExitBadInput, err
	}
	if err := makeOutputDir(spec.Output); err != nil {
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
// The time is that of the whole run, as its time_s column says: for a
// resumed run, the seconds before the checkpoint plus those since the
// resume (res.Timing.Total is this process's part alone, said beside it).
func finish(res driver.Result, err error, output string, resumed bool, stdout io.Writer) (int, error) {
	if res.Status != "" {
		took := fmt.Sprintf("%.2f s", res.Timing.Total)
		if resumed {
			if s, e := runfile.SummarizeFile(output); e == nil && !math.IsNaN(s.TimeS) {
				took = fmt.Sprintf("%.2f s (the run's time_s; %.2f s in this process since -resume)", s.TimeS, res.Timing.Total)
			}
		}
		fmt.Fprintf(stdout, "status %s (%s) after %d iterations, %s; %d rows in %s\n",
			res.Status, res.Reason, res.Iterations, took, res.Rows, output)
		if res.ImagesPerSec > 0 {
			fmt.Fprintf(stdout, "%.1f training images/s (every rank's minibatches per second of the rounds, metric rows excluded)\n", res.ImagesPerSec)
		}
	}
	if err != nil {
		return exitCode(err), err
	}
	if res.Status == driver.StatusInterrupted && res.CheckpointErr != nil {
		return ExitNoCheckpoint, fmt.Errorf("run %s: %s", res.Status, res.Reason)
	}
	code := statusCode(res.Status)
	if code != ExitOK {
		return code, fmt.Errorf("run %s: %s", res.Status, res.Reason)
	}
	return ExitOK, nil
}

// binaryID identifies this program for the ranks' agreement: the version and
// a hash of the executable, so two builds of one version are told apart.
func binaryID() string {
	id := "efmpi " + Version
	exe, err := os.Executable()
	if err != nil {
		return id
	}
	f, err := os.Open(exe)
	if err != nil {
		return id
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return id
	}
	return fmt.Sprintf("%s (sha256 %x)", id, h.Sum(nil)[:8])
}
