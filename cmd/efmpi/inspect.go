package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/efmpi/efmpi/hdf5io"
)

// summary is one recorded run in a few numbers.
type summary struct {
	File          string         `json:"file"`
	Label         string         `json:"label"`
	Status        string         `json:"status"`
	Rows          int            `json:"rows"`
	LastIteration int64          `json:"last_iteration"`
	F             float64        `json:"f"`
	GradNormSq    float64        `json:"grad_norm_sq"`
	MinGradNormSq float64        `json:"min_grad_norm_sq"`
	BitsPerWorker int64          `json:"bits_per_worker"`
	WireBytesUp   int64          `json:"wire_bytes_up"`
	WireBytesDown int64          `json:"wire_bytes_down"`
	TimeS         float64        `json:"time_s"`
	Attrs         map[string]any `json:"attrs"`
	Timing        map[string]any `json:"timing,omitempty"`
	run           *hdf5io.Run
}

// methodLabel names a configuration the way the paper does.
func methodLabel(attrs map[string]any) string {
	method, _ := attrs["method"].(string)
	comp, _ := attrs["compressor"].(string)
	norm := attrs["normalize"] == int64(1)
	name := map[string]string{"ef21": "EF21", "ef21-sgdm": "EF21-SGDM", "ef14": "EF14"}[method]
	if name == "" {
		name = method
	}
	if comp == "identity" {
		switch method {
		case "ef21":
			name = "GD"
			if norm {
				return "normalized GD"
			}
		case "ef21-sgdm":
			name = "SGDM"
		}
	} else if comp != "" {
		k := ""
		if comp == "top-k" || comp == "rand-k" {
			k = fmt.Sprint(attrs["k"])
			comp = strings.TrimSuffix(comp, "k") + k
		}
	}
	if norm {
		name = "||" + name + "||"
	}
	if comp != "identity" && comp != "" {
		name += " " + comp
	}
	return name
}

func summarize(path string) (*summary, error) {
	run, err := hdf5io.Open(path)
	if err != nil {
		return nil, err
	}
	s := &summary{File: path, Label: methodLabel(run.Attrs), Status: run.String("status"), Rows: run.Rows(),
		Attrs: run.Attrs, Timing: run.Timing, run: run, MinGradNormSq: math.NaN()}
	if n := run.Rows(); n > 0 {
		s.LastIteration = run.Ints["iteration"][n-1]
		s.F = run.Floats["f"][n-1]
		s.GradNormSq = run.Floats["grad_norm_sq"][n-1]
		s.BitsPerWorker = run.Ints["bits_per_worker"][n-1]
		s.WireBytesUp = run.Ints["wire_bytes_up"][n-1]
		s.WireBytesDown = run.Ints["wire_bytes_down"][n-1]
		s.TimeS = run.Floats["time_s"][n-1]
		s.MinGradNormSq = math.Inf(1)
		for _, g := range run.Floats["grad_norm_sq"] {
			s.MinGradNormSq = math.Min(s.MinGradNormSq, g)
		}
	}
	return s, nil
}

// reach returns the first recorded iteration and bits at which ‖∇f‖² ≤ target
// (-1, -1 if never).
func (s *summary) reach(target float64) (int64, int64) {
	for i, g := range s.run.Floats["grad_norm_sq"] {
		if g <= target {
			return s.run.Ints["iteration"][i], s.run.Ints["bits_per_worker"][i]
		}
	}
	return -1, -1
}

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
	var all []*summary
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

func printSummary(w io.Writer, s *summary) {
	a := s.Attrs
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "file\t%s\n", s.File)
	fmt.Fprintf(tw, "method\t%s\n", s.Label)
	fmt.Fprintf(tw, "status\t%s\t%v\n", s.Status, a["stop_reason"])
	fmt.Fprintf(tw, "problem\t%v %v\td = %v, ranks = %v\n", a["problem"], a["dataset"], a["d"], a["n_ranks"])
	fmt.Fprintf(tw, "step size\t%v\tγ = %v\n", a["stepsize_rule"], a["gamma"])
	fmt.Fprintf(tw, "iterations\t%d of %v\t%d rows\n", s.LastIteration, a["iterations"], s.Rows)
	fmt.Fprintf(tw, "f\t%.10g\n", s.F)
	fmt.Fprintf(tw, "‖∇f‖²\t%.6e\tmin %.6e\n", s.GradNormSq, s.MinGradNormSq)
	fmt.Fprintf(tw, "bits per worker\t%d\n", s.BitsPerWorker)
	fmt.Fprintf(tw, "wire bytes\tup %d\tdown %d\n", s.WireBytesUp, s.WireBytesDown)
	fmt.Fprintf(tw, "transport\t%v / %v\thosts %v\n", a["transport"], a["launcher"], a["hosts"])
	fmt.Fprintf(tw, "time\t%.3f s\t%v → %v\n", s.TimeS, a["started_at"], a["finished_at"])
	tw.Flush()
}

// printComparison prints one line per run: method, rule, γ, final and best
// ‖∇f‖², and the iteration and bits at which each reached target.
func printComparison(w io.Writer, runs []*summary, target float64) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "method\tstep rule\tγ\tfinal ‖∇f‖²\titers to %.2e\tbits to %.2e\ttime s\tstatus\t\n", target, target)
	for _, s := range runs {
		it, bits := s.reach(target)
		its, bs := fmt.Sprint(it), fmt.Sprint(bits)
		if it < 0 {
			its, bs = "never", "never"
		}
		fmt.Fprintf(tw, "%s\t%v\t%.4g\t%.3e\t%s\t%s\t%.2f\t%s\t\n", s.Label, s.Attrs["stepsize_rule"], s.Attrs["gamma"],
			s.GradNormSq, its, bs, s.TimeS, s.Status)
	}
	tw.Flush()
}
