// Command efmpi runs communication-compressed distributed optimisation with
// error feedback (||EF21||, ||EF21-SGDM|| and their baselines) as a batch job:
// in-process ranks by default, or one rank per process under mpirun, mpiexec,
// srun or its own local spawner, recording every trajectory to HDF5.
//
//	efmpi run [-config FILE] [-out FILE.h5] [-ranks N] [-transport inproc|tcp|mpi|btracey] [-set section.key=value]...
//	efmpi demo                 the default experiment: ||EF21|| vs EF21, top-1, synthetic data, 4 ranks
//	efmpi inspect [-json] FILE.h5...
//	efmpi summarize DIR|FILE.h5...
//	efmpi export RUN.h5 -o run.csv
//	efmpi plot -o FIG.png RUN.h5...
//	efmpi sweep -config FILE -grid ...
//	efmpi theory -config FILE
//	efmpi version
//
// This package is wiring only: flags, subcommands and exit codes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/launch"
	"github.com/efmpi/efmpi/config"
	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/driver"
	"github.com/efmpi/efmpi/hdf5io"
)

// Version is the efmpi version recorded in every run file.
const Version = "0.1.0"

// Exit codes (SPEC §8; README "Exit codes").
const (
	ExitOK          = 0 // completed, or stopped on tolerance
	ExitOther       = 1 // anything else (an I/O error, a bug)
	ExitBadInput    = 2 // bad config, flags, dataset or output path
	ExitDiverged    = 3 // non-finite values
	ExitRankFailed  = 4 // a rank died or went silent
	ExitInterrupted = 5 // SIGTERM / SIGUSR1 / SIGINT: flushed and marked interrupted
	// ExitNoCheckpoint: stopped by a signal as for 5, but the checkpoint
	// could not be written, so -resume cannot continue from this point.
	ExitNoCheckpoint = 6
)

func main() {
	// The stop signals are caught before anything else, so one that arrives
	// while the job is still starting (loading data, joining the other
	// ranks) cancels the run instead of killing the process or being lost.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `efmpi — distributed optimisation with error feedback (||EF21||, ||EF21-SGDM||, …)

usage:
  efmpi run [-config FILE] [flags]   run one job (no -config: the embedded default)
  efmpi demo [-out DIR]              ||EF21|| vs EF21 on synthetic data, with a comparison table
  efmpi inspect [-json] FILE.h5...   summarise recorded runs
  efmpi summarize DIR|FILE.h5...     a table of many runs, medians over seeds (-target T -criterion stays, -o FILE.csv, -csv)
  efmpi export RUN.h5 -o run.csv     a run's trajectory as CSV (-what columns|attrs: units and meanings, attributes)
  efmpi theory -config FILE          L, L_i, α, θ, β and the step size the rule gives
  efmpi plot -o FIG.png RUN.h5...    ‖∇f‖² vs iterations and bits, one line per run (-x, -rows, -table)
  efmpi sweep -config FILE -grid key=v1,v2 [-grid NAME='ov ov|ov'] [-zip A,B] [-target T] [-slurm]   run a grid, one CSV table
  efmpi data convert FILE -o FILE.h5 | data info FILE.h5 | data synth …   LIBSVM → HDF5 sparse input; summaries
  efmpi version

'efmpi run -h' lists the run flags.
`

// run executes one command; ctx is cancelled by SIGTERM, SIGUSR1 or SIGINT.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitBadInput
	}
	var err error
	code := ExitOK
	switch args[0] {
	case "run":
		code, err = cmdRun(ctx, args[1:], stdout, stderr)
	case "demo":
		code, err = cmdDemo(ctx, args[1:], stdout, stderr)
	case "inspect":
		err = cmdInspect(args[1:], stdout)
	case "theory":
		err = cmdTheory(args[1:], stdout)
	case "plot":
		code, err = cmdPlot(args[1:], stdout, stderr)
	case "sweep":
		code, err = cmdSweep(ctx, args[1:], stdout, stderr)
	case "summarize":
		code, err = cmdSummarize(args[1:], stdout, stderr)
	case "data":
		code, err = cmdData(args[1:], stdout, stderr)
	case "export":
		code, err = cmdExport(args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "efmpi %s\n%s\n", Version, mpiVersion())
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "efmpi: unknown command %q\n\n%s", args[0], usage)
		return ExitBadInput
	}
	if err != nil {
		fmt.Fprintf(stderr, "efmpi %s: %v\n", args[0], err)
		if code == ExitOK {
			code = exitCode(err)
		}
	}
	return code
}

// usageError is a command-line mistake.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitCode maps an error to its exit status.
func exitCode(err error) int {
	var ue usageError
	var pe *datasets.ParseError
	var lost *collective.RankLostError
	var rankErr *driver.RankError
	var exitErr *launch.RankExitError
	switch {
	case errors.As(err, &ue), errors.Is(err, config.ErrInvalid), errors.Is(err, driver.ErrInvalid),
		errors.Is(err, hdf5io.ErrExists), errors.As(err, &pe), errors.Is(err, errOutput),
		errors.Is(err, errInputOutput), errors.Is(err, errNotRegular), errors.Is(err, hdf5io.ErrLocked),
		errors.Is(err, hdf5io.ErrIsDir), errors.Is(err, launch.ErrBadSecret):
		return ExitBadInput
	case errors.As(err, &exitErr):
		switch exitErr.ExitCode {
		case ExitBadInput, ExitDiverged, ExitRankFailed, ExitInterrupted, ExitNoCheckpoint:
			return exitErr.ExitCode
		}
		return ExitRankFailed
	case errors.As(err, &lost), errors.As(err, &rankErr):
		return ExitRankFailed
	}
	return ExitOther
}

// statusCode maps a run's final status to its exit status.
func statusCode(status string) int {
	switch status {
	case driver.StatusCompleted, driver.StatusTolerance:
		return ExitOK
	case driver.StatusDiverged:
		return ExitDiverged
	case driver.StatusInterrupted:
		return ExitInterrupted
	case driver.StatusFailed:
		return ExitRankFailed
	}
	return ExitOther
}

// parseInterleaved parses fs over args where flags may come before or after
// the positional arguments (file names), which it returns in order. -h gives
// flag.ErrHelp; any other mistake is a usageError.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
}
