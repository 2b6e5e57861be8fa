package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/efmpi/efmpi/runfile"
)

// summarize reads a run file into its summary (package runfile).
func summarize(path string) (*runfile.Summary, error) { return runfile.SummarizeFile(path) }

func cmdInspect(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stdout)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() == 0 {
		return usageError{"inspect: name at least one FILE.h5"}
	}
	var all []*runfile.Summary
	for _, p := range fs.Args() {
		s, err := summarize(p)
		if err != nil {
			return usageError{err.Error()}
		}
		all = append(all, s)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	}
	for i, s := range all {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		printSummary(stdout, s)
	}
	return nil
}

func printSummary(w io.Writer, s *runfile.Summary) {
	a := s.Attrs
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "file\t%s\n", s.File)
	fmt.Fprintf(tw, "method\t%s\n", s.Label)
	fmt.Fprintf(tw, "status\t%s\t%v\n", s.Status, a["stop_reason"])
	fmt.Fprintf(tw, "problem\t%v %v\td = %v, ranks = %v\n", a["problem"], a["dataset"], a["d"], a["n_ranks"])
	fmt.Fprintf(tw, "step size\t%v\tγ = %v\n", a["stepsize_rule"], a["gamma"])
	fmt.Fprintf(tw, "iterations\t%d of %v\t%d rows\n", s.LastIteration, a["iterations"], s.Rows)
	fmt.Fprintf(tw, "f\t%.10g\n", s.FinalF)
	fmt.Fprintf(tw, "‖∇f‖²\t%.6e\tmin %.6e\n", s.FinalGradNormSq, s.MinGradNormSq)
	fmt.Fprintf(tw, "bits per worker\t%d\n", s.BitsPerWorker)
	fmt.Fprintf(tw, "wire bytes\tup %d\tdown %d\n", s.WireBytesUp, s.WireBytesDown)
	fmt.Fprintf(tw, "transport\t%v / %v\thosts %v\n", a["transport"], a["launcher"], a["hosts"])
	fmt.Fprintf(tw, "time\t%.3f s\t%v → %v\n", s.TimeS, a["started_at"], a["finished_at"])
	if !math.IsNaN(s.FinalTrainAccuracy) || !math.IsNaN(s.FinalTestAccuracy) {
		// a network's /eval has no training accuracy (NaN): "train –"
		train := "–"
		if !math.IsNaN(s.FinalTrainAccuracy) {
			train = fmt.Sprintf("%.4f", s.FinalTrainAccuracy)
		}
		fmt.Fprintf(tw, "accuracy\ttrain %s\ttest %.4f (loss %.6g)\n", train, s.FinalTestAccuracy, s.FinalTestLoss)
	}
	tw.Flush()
}

// printComparison prints one line per run: method, rule, γ, final and best
// ‖∇f‖², and the iteration and bits at which each reached target.
func printComparison(w io.Writer, runs []*runfile.Summary, target float64) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "method\tstep rule\tγ\tfinal ‖∇f‖²\titers to %.2e\tbits to %.2e\ttime s\tstatus\t\n", target, target)
	for _, s := range runs {
		it, bits, ok := s.Reach(target)
		its, bs := fmt.Sprint(it), fmt.Sprint(bits)
		if !ok {
			its, bs = "never", "never"
		}
		fmt.Fprintf(tw, "%s\t%v\t%.4g\t%.3e\t%s\t%s\t%.2f\t%s\t\n", s.Label, s.Attrs["stepsize_rule"], s.Attrs["gamma"],
			s.FinalGradNormSq, its, bs, s.TimeS, s.Status)
	}
	tw.Flush()
}
