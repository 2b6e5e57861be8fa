package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/runfile"
)

// cmdExport writes a run file's trajectory (or the meaning of its columns,
// or its attributes) as CSV, for R, pandas or a spreadsheet.
func cmdExport(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the CSV to `FILE` (default: standard output)")
	what := fs.String("what", "trajectory", "what to write: trajectory (one line per recorded row), columns (name, units, description of each), or attrs (root attributes)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: efmpi export [-what trajectory|columns|attrs] [-o FILE.csv] RUN.h5\n")
		fs.PrintDefaults()
	}
	paths, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK, nil
	} else if err != nil {
		return ExitBadInput, err
	}
	if len(paths) != 1 {
		return ExitBadInput, usageError{"export: name exactly one RUN.h5"}
	}
	write := map[string]func(io.Writer, *hdf5io.Run) error{
		"trajectory": runfile.WriteTrajectoryCSV, "columns": runfile.WriteColumnsCSV, "attrs": runfile.WriteAttrsCSV,
	}[*what]
	if write == nil {
		return ExitBadInput, usageError{fmt.Sprintf("export -what %q: want trajectory, columns or attrs", *what)}
	}
	run, err := runfile.Open(paths[0])
	if err != nil {
		return ExitBadInput, usageError{err.Error()}
	}
	if *out == "" {
		return ExitOK, write(stdout, run)
	}
	// write beside the target and rename, so a failure leaves no partial file
	tmp := *out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return ExitBadInput, fmt.Errorf("%w: %v", errOutput, err)
	}
	if err := write(f, run); err != nil {
		f.Close()
		os.Remove(tmp)
		return ExitOther, err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return ExitOther, err
	}
	if err := os.Rename(tmp, *out); err != nil {
		return ExitOther, err
	}
	fmt.Fprintf(stdout, "wrote %s (%d rows)\n", *out, run.Rows())
	return ExitOK, nil
}
