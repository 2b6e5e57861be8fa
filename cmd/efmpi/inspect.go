package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"

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
	fmt.Fprintf(tw, "status\t%s\t%s\n", s.Status, stopReason(s))
	if w := s.Writer; w != nil {
		fmt.Fprintf(tw, "writer\t%s\n", w.Words())
		last := "no rows"
		if s.Rows > 0 {
			last = fmt.Sprintf("last row at iteration %d", s.LastIteration)
		}
		fmt.Fprintf(tw, "last write\t%s\t%s\n", w.LastWrite.Format(time.RFC3339), last)
	}
	fmt.Fprintf(tw, "problem\t%v %v\td = %v, ranks = %v\n", a["problem"], a["dataset"], a["d"], a["n_ranks"])
	fmt.Fprintf(tw, "step size\t%v\tγ = %v\n", a["stepsize_rule"], a["gamma"])
	fmt.Fprintf(tw, "iterations\t%d of %v\t%d rows\n", s.LastIteration, a["iterations"], s.Rows)
	fmt.Fprintf(tw, "f\t%.10g\n", s.FinalF)
	fmt.Fprintf(tw, "‖∇f‖²\t%.6e\tmin %.6e\n", s.FinalGradNormSq, s.MinGradNormSq)
	fmt.Fprintf(tw, "bits per worker\t%d\n", s.BitsPerWorker)
	fmt.Fprintf(tw, "wire bytes\tup %d\tdown %d\n", s.WireBytesUp, s.WireBytesDown)
	fmt.Fprintf(tw, "transport\t%v / %v\thosts %v\n", a["transport"], a["launcher"], a["hosts"])
	fmt.Fprintf(tw, "time\t%.3f s\t%v → %v\n", s.TimeS, a["started_at"], orDash(a["finished_at"]))
	printProvenance(tw, a)
	for i, g := range s.Segments {
		fmt.Fprintf(tw, "segment %d\titerations %v → %v\t%v / %v on %v\t%v → %v\t%v\n", i, g["start_iteration"],
			orDash(g["end_iteration"]), g["launcher"], g["transport"], g["hosts"], g["started_at"],
			orDash(g["finished_at"]), g["status"])
	}
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

// stopReason is the file's stop_reason, or for a run still marked running
// what is known instead.
func stopReason(s *runfile.Summary) string {
	if r, ok := s.Attrs["stop_reason"]; ok && fmt.Sprint(r) != "" {
		return fmt.Sprint(r)
	}
	if w := s.Writer; w != nil {
		if w.Alive {
			return "(still running)"
		}
		return "(none recorded: the writer was killed without a word)"
	}
	return "–"
}

// orDash is v, or "–" when the file has no such attribute.
func orDash(v any) any {
	if v == nil {
		return "–"
	}
	return v
}

// printProvenance prints the provenance attributes a file has (older files
// have none of them): MPI library, Slurm ids and nodes, binary, command.
func printProvenance(tw io.Writer, a map[string]any) {
	if v, ok := a["mpi_library"]; ok {
		fmt.Fprintf(tw, "mpi\t%v\n", v)
	}
	if v, ok := a["slurm_job_id"]; ok {
		job := fmt.Sprint(v)
		if t, ok := a["slurm_array_task_id"]; ok {
			job = fmt.Sprintf("%v_%v (array job %v)", a["slurm_array_job_id"], t, v)
		}
		if st, ok := a["slurm_step_id"]; ok {
			job += fmt.Sprintf(", step %v", st)
		}
		if r, ok := a["slurm_restart_count"]; ok {
			job += fmt.Sprintf(", restart %v", r)
		}
		fmt.Fprintf(tw, "slurm job\t%s\tnodes %v\n", job, orDash(a["slurm_job_nodelist"]))
	}
	if v, ok := a["vcs_revision"]; ok {
		mod := ""
		if m, _ := a["vcs_modified"].(int64); m == 1 {
			mod = " (modified)"
		}
		fmt.Fprintf(tw, "binary\tefmpi %v\trevision %v%s, %v\n", a["efmpi_version"], v, mod, a["go_version"])
	}
	if v, ok := a["command_line"]; ok {
		fmt.Fprintf(tw, "command\t%v\n", v)
	}
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
