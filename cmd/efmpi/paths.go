package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/efmpi/efmpi/config"
	"github.com/efmpi/efmpi/hdf5io"
)

// errOutput marks an output path that cannot be written.
var errOutput = errors.New("output not writable")

// errInputOutput marks an output path that is one of the run's inputs.
var errInputOutput = errors.New("the output would overwrite an input of the run")

// errNotRegular marks an input that multi-process ranks cannot each read.
var errNotRegular = errors.New("not a regular file")

// input is a file a command reads.
type input struct{ what, path string }

// runInputs lists the files a run reads: the config, the LIBSVM data, the
// x⁰ file.
func runInputs(cfg *config.Config) []input {
	var in []input
	if cfg.Path != "" {
		in = append(in, input{"config", cfg.Path})
	}
	if cfg.Problem.Kind == "logreg" && (cfg.Data.Source == "libsvm" || cfg.Data.Source == "hdf5") {
		in = append(in, input{"data", cfg.DataPath()})
	}
	if x := x0Spec(cfg); x != "normal" && x != "zeros" {
		in = append(in, input{"x0 file", x})
	}
	return in
}

// checkNotInput refuses an output path that is, or is a hard or symbolic
// link to, one of the inputs (os.SameFile compares the files themselves).
func checkNotInput(flag, out string, inputs []input) error {
	ost, err := os.Stat(out)
	if err != nil {
		return nil // a file that does not exist is nobody's input
	}
	for _, in := range inputs {
		ist, err := os.Stat(in.path)
		if err == nil && os.SameFile(ost, ist) {
			how := ""
			if out != in.path {
				how = " (the same file under another name or through a link)"
			}
			return fmt.Errorf("%w: %s %s is the %s %s%s; choose another output", errInputOutput, flag, out, in.what, in.path, how)
		}
	}
	return nil
}

// checkOutput checks, writing nothing, that path can become this run's
// output: not a directory, not an input, not being written by another
// process, existing only with -overwrite (or -resume), inside a directory
// that exists and is writable or can be created.
func checkOutput(path string, overwrite, resume bool, inputs []input) error {
	st, err := os.Stat(path)
	exists := err == nil
	if exists && st.IsDir() {
		return fmt.Errorf("%w: -out %s %v", errOutput, path, hdf5io.ErrIsDir)
	}
	if err := checkNotInput("-out", path, inputs); err != nil {
		return err
	}
	if err := hdf5io.CheckUnlocked(path); err != nil {
		return err
	}
	if resume {
		if !exists {
			return fmt.Errorf("%w: -resume: %v", errOutput, err)
		}
		return nil
	}
	if exists && !overwrite {
		return fmt.Errorf("%s: %w", path, hdf5io.ErrExists)
	}
	// The nearest directory that exists must be writable (the rest is
	// created once the input has been checked: see makeOutputDir).
	dir := filepath.Dir(path)
	for {
		st, err := os.Stat(dir)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("%w: output directory %s: %s is not a directory", errOutput, filepath.Dir(path), dir)
			}
			if err := syscall.Access(dir, 2 /* W_OK */); err != nil {
				return fmt.Errorf("%w: output directory %s: %v", errOutput, dir, err)
			}
			return nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return fmt.Errorf("%w: output directory %s: %v", errOutput, filepath.Dir(path), err)
		}
		dir = parent
	}
}

// makeOutputDir creates the output directory and makes sure a file can be
// written there. It runs after the input has been checked, so bad input
// never leaves a new directory behind.
func makeOutputDir(path string) error {
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
	return nil
}

// requireRegular refuses inputs that are not regular files (a pipe such as
// <(cat file), a device) when several processes each open them: the first
// reader would exhaust a pipe and the others would see nothing.
func requireRegular(inputs []input) error {
	for _, in := range inputs {
		st, err := os.Stat(in.path)
		if err != nil {
			continue // reported by the reader, with its own message
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("%s %s is %w (%v): with several processes every rank opens it, and a pipe can be read only once; "+
				"write it to a file first, or run in-process (-transport inproc)", in.what, in.path, errNotRegular, st.Mode().Type())
		}
	}
	return nil
}
