package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/efmpi/efmpi/runfile"
)

// cmdSummarize writes one CSV row per run file found in the named files and
// directories (searched recursively for *.h5).
func cmdSummarize(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("summarize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	outPath := fs.String("o", "", "write the CSV to `FILE` instead of standard output")
	target := fs.Float64("target", math.NaN(), "add the first iteration and bits per worker at which ‖∇f‖² ≤ `T`")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: efmpi summarize [-o FILE] [-target T] DIR|FILE.h5...\n"+
			"One CSV row per run file (directories are searched for *.h5): parameters and final metrics.\n")
		fs.PrintDefaults()
	}
	paths, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK, nil
	} else if err != nil {
		return ExitBadInput, err
	}
	if len(paths) == 0 {
		return ExitBadInput, usageError{"summarize: name at least one directory or FILE.h5"}
	}
	withTarget := !math.IsNaN(*target)
	if withTarget && (*target < 0 || math.IsInf(*target, 0)) {
		return ExitBadInput, usageError{fmt.Sprintf("-target %g: want a finite value ≥ 0", *target)}
	}
	files, err := findRunFiles(paths)
	if err != nil {
		return ExitBadInput, usageError{err.Error()}
	}
	if len(files) == 0 {
		return ExitBadInput, usageError{fmt.Sprintf("summarize: no *.h5 files in %s", strings.Join(paths, " "))}
	}

	var out io.Writer = stdout
	var file *os.File
	if *outPath != "" {
		var in []input
		for _, f := range files {
			in = append(in, input{"run file", f})
		}
		if err := checkNotInput("-o", *outPath, in); err != nil {
			return ExitBadInput, err
		}
		if file, err = os.Create(*outPath); err != nil {
			return ExitBadInput, fmt.Errorf("%w: %v", errOutput, err)
		}
		defer file.Close()
		out = file
	}
	w := csv.NewWriter(out)
	w.Write(append([]string{"file"}, runfile.TableHeader(withTarget)...))
	skipped := 0
	for _, p := range files {
		s, err := summarize(p)
		if err != nil {
			fmt.Fprintf(stderr, "efmpi summarize: skipping %s: %v\n", p, err)
			skipped++
			continue
		}
		w.Write(append([]string{p}, s.Cells(withTarget, *target)...))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return ExitOther, err
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return ExitOther, err
		}
	}
	if skipped > 0 {
		return ExitOther, fmt.Errorf("%d of %d files could not be read", skipped, len(files))
	}
	return ExitOK, nil
}

// findRunFiles expands directories to the *.h5 files below them, in natural
// order (point-2 before point-10); named files are kept as given.
func findRunFiles(paths []string) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			add(p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), ".h5") && !strings.HasPrefix(d.Name(), ".") {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Slice(found, func(i, j int) bool { return naturalLess(found[i], found[j]) })
		for _, f := range found {
			add(f)
		}
	}
	return files, nil
}

// naturalLess compares strings with runs of digits compared as numbers.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
