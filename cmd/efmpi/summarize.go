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
	"text/tabwriter"

	"github.com/efmpi/efmpi/runfile"
	"github.com/efmpi/efmpi/sweep"
)

// cmdSummarize tables the run files found in the named files and
// directories (searched recursively for *.h5): a readable table on standard
// output (the one a sweep prints, with medians over seeds), or one CSV row
// per run with -o FILE or -csv. Points of a sweep folder that are missing
// or did not finish are listed, and make the exit status non-zero unless
// -allow-missing.
func cmdSummarize(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("summarize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	outPath := fs.String("o", "", "write the CSV to `FILE` (the readable table still goes to standard output)")
	asCSV := fs.Bool("csv", false, "print the CSV on standard output instead of the readable table")
	target := fs.Float64("target", math.NaN(), "add the iteration and bits per worker at which ‖∇f‖² reaches `T` (see -criterion)")
	criterion := fs.String("criterion", "first", "with -target: `first` (the first row with ‖∇f‖² ≤ T) or stays (the first row from which ‖∇f‖² stays ≤ T to the end of the run)")
	allowMissing := fs.Bool("allow-missing", false, "exit 0 even when points of a sweep folder are missing or did not finish (they are still listed)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: efmpi summarize [-o FILE | -csv] [-target T [-criterion first|stays]] [-allow-missing] DIR|FILE.h5...\n"+
			"A table of run files (directories are searched for *.h5): parameters and final metrics; runs that differ\n"+
			"only by seed also as median [min–max]. Missing or unfinished points of a sweep folder are listed (exit 1).\n")
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
	crit, err := runfile.ParseCriterion(*criterion)
	if err != nil {
		return ExitBadInput, usageError{err.Error()}
	}
	if !withTarget {
		crit = ""
	}
	if *asCSV && *outPath != "" {
		return ExitBadInput, usageError{"summarize: -csv and -o exclude each other"}
	}
	files, err := findRunFiles(paths)
	if err != nil {
		return ExitBadInput, usageError{err.Error()}
	}
	if len(files) == 0 {
		return ExitBadInput, usageError{fmt.Sprintf("summarize: no *.h5 files in %s", strings.Join(paths, " "))}
	}

	if *outPath != "" { // before anything is read or printed
		var in []input
		for _, f := range files {
			in = append(in, input{"run file", f})
		}
		if err := checkNotInput("-o", *outPath, in); err != nil {
			return ExitBadInput, err
		}
	}
	var sums []*runfile.Summary
	var read []string
	skipped := 0
	for _, p := range files {
		s, err := summarize(p)
		if err != nil {
			fmt.Fprintf(stderr, "efmpi summarize: skipping %s: %v\n", p, err)
			skipped++
			continue
		}
		sums, read = append(sums, s), append(read, p)
	}
	var csvOut io.Writer
	var file *os.File
	switch {
	case *outPath != "":
		if file, err = os.Create(*outPath); err != nil {
			return ExitBadInput, fmt.Errorf("%w: %v", errOutput, err)
		}
		defer file.Close()
		csvOut = file
	case *asCSV:
		csvOut = stdout
	}
	if csvOut != nil {
		w := csv.NewWriter(csvOut)
		w.Write(append([]string{"file"}, runfile.TableHeader(withTarget)...))
		for i, s := range sums {
			w.Write(append([]string{read[i]}, s.CellsBy(*target, crit)...))
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return ExitOther, err
		}
		if file != nil {
			if err := file.Close(); err != nil {
				return ExitOther, err
			}
			fmt.Fprintf(stderr, "wrote %s (%d runs)\n", *outPath, len(sums))
		}
	}
	if !*asCSV {
		printFileTable(stdout, read, sums, withTarget, *target, crit)
		printSeedTable(stdout, sums, withTarget, *target, crit)
	}
	// points of sweep folders that are missing or did not finish
	unfinished := 0
	for _, p := range paths {
		if st, err := os.Stat(filepath.Join(p, sweep.ManifestName)); err != nil || st.IsDir() {
			continue
		}
		states, err := sweep.Unfinished(p)
		if err != nil {
			return ExitBadInput, err
		}
		for _, st := range states {
			what := st.Status
			if st.File != "" {
				what = st.File + ": " + st.Status
			}
			fmt.Fprintf(stderr, "efmpi summarize: %s point %d not finished (%s)\n", p, st.Index, what)
		}
		unfinished += len(states)
	}
	if skipped > 0 {
		return ExitOther, fmt.Errorf("%d of %d files could not be read", skipped, len(files))
	}
	if unfinished > 0 && !*allowMissing {
		return ExitOther, fmt.Errorf("%d sweep points missing or not finished (listed above; -allow-missing to exit 0)", unfinished)
	}
	return ExitOK, nil
}

// printFileTable prints one readable line per run file.
func printFileTable(w io.Writer, files []string, sums []*runfile.Summary, withTarget bool, target float64, crit runfile.Criterion) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"file", "run", "seed"}
	if withTarget {
		head = append(head, targetHeads(target, crit)...)
	}
	head = append(head, "final f", "final ‖∇f‖²", "status")
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for i, s := range sums {
		cells := []string{files[i], s.Label, runfile.AttrText(s.Attrs["seed"])}
		if withTarget {
			it, bits, _ := s.ReachBy(target, crit)
			cells = append(cells, reachText(it), reachText(bits))
		}
		cells = append(cells, fmt.Sprintf("%.6g", s.FinalF), fmt.Sprintf("%.3e", s.FinalGradNormSq), s.Status)
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	tw.Flush()
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
