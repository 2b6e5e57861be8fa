package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/efmpi/efmpi/plotting"
	"github.com/efmpi/efmpi/runfile"
)

// cmdPlot draws convergence figures of recorded runs (package plotting), or
// with -table a line plot of two columns of a sweep's CSV.
func cmdPlot(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output `FIG`.png, .svg, .pdf or .eps (required)")
	xs := fs.String("x", "both", "x axis: iterations, bits, time, both (iterations and bits), or a list such as iterations,bits,time (one panel each); with -table: a column")
	title := fs.String("title", "", "figure title")
	note := fs.String("note", "", "a `TEXT` printed under the legend, after the figure's own notes (\\n breaks lines)")
	rows := fs.String("rows", "", "one row of panels per value of this run `ATTR`ibute (e.g. n_ranks, dataset)")
	ymin := fs.Float64("ymin", 0, "lower end of the ‖∇f‖² axis (default: from the data)")
	ymax := fs.Float64("ymax", 0, "upper end of the ‖∇f‖² axis (default: from the data)")
	width := fs.Float64("width", 0, "figure width in inches (default: 4.2 per panel)")
	height := fs.Float64("height", 0, "figure height in inches (default: 3.1 per row plus the legend)")
	dpi := fs.Int("dpi", 150, "PNG resolution")
	target := fs.Float64("target", 0, "draw a dotted line at ‖∇f‖² = `T` and ring where each curve reaches it (with -table: a line at y = T)")
	criterion := fs.String("criterion", "first", "with -target: when a curve reaches T: `first` (first row with ‖∇f‖² ≤ T) or stays (first row from which it stays ≤ T to the end)")
	logbits := fs.Bool("logbits", false, "log scale on the bits axis; points at 0 bits are left out (default: on when the runs' final bits differ by 100× or more; -logbits=false forces linear)")
	logtime := fs.Bool("logtime", false, "log scale on the time axis")
	colorBy := fs.String("color-by", "", "colour series by this `ATTR` (method, compressor, k, seed, n_ranks, any root attribute); default: method when method and compressor both vary")
	styleBy := fs.String("style-by", "", "dash and marker by this `ATTR` (e.g. k or compressor); default: compressor when method and compressor both vary")
	sharey := fs.Bool("sharey", true, "the same ‖∇f‖² range in every panel and row (-sharey=false: each its own)")
	aggregate := fs.String("aggregate", "", "merge runs that differ only in this `ATTR` (e.g. seed) into their median with a min–max band")
	var labelFlags multiFlag
	fs.Var(&labelFlags, "label", "series labels: `TEMPLATE` with {attr} fields for every run (e.g. '{method} k={k}'), or RUN.h5=TEXT for one run (repeatable)")
	table := fs.String("table", "", "plot columns of this CSV `FILE` (efmpi sweep's sweep.csv) instead of run files")
	ycol := fs.String("y", "iters_to_target", "with -table: the y column")
	by := fs.String("by", "", "with -table: one line per value of this column")
	logx := fs.Bool("logx", false, "with -table: logarithmic x axis")
	logy := fs.Bool("logy", false, "with -table: logarithmic y axis")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: efmpi plot -o FIG.png|svg|pdf [-x iterations|bits|time|both] [-rows ATTR] [-color-by ATTR] [-style-by ATTR] [-aggregate seed] [-label T] [-title T] RUN.h5...\n"+
			"       efmpi plot -o FIG.png -table sweep.csv -x COLUMN -y COLUMN [-by COLUMN] [-logx] [-logy]\n"+
			"‖∇f(x^k)‖² (log scale) against iterations and bits per worker, one line per run.\n")
		fs.PrintDefaults()
	}
	paths, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK, nil
	} else if err != nil {
		return ExitBadInput, err
	}
	if *out == "" {
		return ExitBadInput, usageError{"plot: -o FIG.png|svg|pdf is required"}
	}
	switch ext := strings.ToLower(filepath.Ext(*out)); ext {
	case ".png", ".svg", ".pdf", ".eps":
	default:
		return ExitBadInput, usageError{fmt.Sprintf("plot: -o %s: want a .png, .svg, .pdf or .eps file", *out)}
	}
	in := []input{{"table", *table}}
	for _, p := range paths {
		in = append(in, input{"run file", p})
	}
	if err := checkNotInput("-o", *out, in); err != nil {
		return ExitBadInput, err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return ExitBadInput, fmt.Errorf("%w: %v", errOutput, err)
	}
	if *table != "" {
		if *xs == "both" {
			return ExitBadInput, usageError{"plot -table: name the x column with -x"}
		}
		fig, err := tableFigure(*table, *xs, *ycol, *by, *logx, *logy)
		if err != nil {
			return ExitBadInput, usageError{err.Error()}
		}
		fig.Title, fig.DPI = *title, *dpi
		if *target > 0 {
			fig.YRef, fig.YRefLabel = *target, "target"
		}
		fig.Width, fig.Height = vg.Length(*width)*vg.Inch, vg.Length(*height)*vg.Inch
		if err := fig.Save(*out); err != nil {
			return ExitOther, fmt.Errorf("plot %s: %w", *out, err)
		}
		fmt.Fprintf(stdout, "wrote %s\n", *out)
		return ExitOK, nil
	}
	if len(paths) == 0 {
		return ExitBadInput, usageError{"plot: name at least one RUN.h5"}
	}
	axes, err := plotting.ParseXAxes(*xs)
	if err != nil {
		return ExitBadInput, usageError{err.Error()}
	}
	series, err := plotting.ReadSeries(paths)
	if err != nil {
		return ExitBadInput, usageError{err.Error()}
	}
	if err := applyLabels(series, paths, labelFlags); err != nil {
		return ExitBadInput, usageError{err.Error()}
	}
	crit, err := runfile.ParseCriterion(*criterion)
	if err != nil {
		return ExitBadInput, usageError{err.Error()}
	}
	if *aggregate != "" {
		var apart []string
		if *rows != "" {
			apart = append(apart, *rows)
		}
		series = plotting.Aggregate(series, *aggregate, apart...)
	}
	if !flagGiven(fs, "logbits") {
		*logbits = plotting.WideBits(series)
	}
	fig := &plotting.Figure{Title: *title, Note: strings.ReplaceAll(*note, `\n`, "\n"), X: axes, YMin: *ymin, YMax: *ymax, DPI: *dpi, Target: *target, Criterion: crit,
		LogBits: *logbits, LogTime: *logtime, SharedY: *sharey,
		Style: plotting.StyleBy{ColorBy: *colorBy, MarkBy: *styleBy},
		Rows:  plotting.GroupBy(series, *rows, nil),
		Width: vg.Length(*width) * vg.Inch, Height: vg.Length(*height) * vg.Inch}
	if err := fig.Save(*out); err != nil {
		return ExitOther, fmt.Errorf("plot %s: %w", *out, err)
	}
	fmt.Fprintf(stdout, "wrote %s (%d runs, %d×%d panels)\n", *out, len(paths), len(fig.Rows), len(axes))
	return ExitOK, nil
}

// flagGiven reports whether the flag name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// applyLabels sets series labels from -label flags: "RUN.h5=TEXT" names
// one run; anything else is a template ({attr} fields) for every run not
// named.
func applyLabels(series []plotting.Series, paths []string, flags []string) error {
	named := map[int]string{}
	tmpl := ""
	for _, l := range flags {
		if eq := strings.IndexByte(l, '='); eq > 0 {
			if i := slices.Index(paths, l[:eq]); i >= 0 {
				named[i] = l[eq+1:]
				continue
			}
		}
		if tmpl != "" {
			return fmt.Errorf("-label %q: a second template (the first was %q); name single runs as RUN.h5=TEXT", l, tmpl)
		}
		tmpl = l
	}
	for i := range series {
		text, ok := named[i]
		if !ok {
			if tmpl == "" {
				continue
			}
			text = tmpl
		}
		l, err := plotting.ExpandLabel(text, series[i].Attrs)
		if err != nil {
			return err
		}
		series[i].Label = l
	}
	return nil
}

// tableFigure reads a CSV with a header line and draws column y against
// column x, one line per distinct value of column by. Empty, "never" or
// non-numeric cells are missing values; the note lists them.
func tableFigure(path, xcol, ycol, by string, logx, logy bool) (*plotting.XYFigure, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("%s: no rows", path)
	}
	col := func(name string) (int, error) {
		if i := slices.Index(recs[0], name); i >= 0 {
			return i, nil
		}
		return -1, fmt.Errorf("%s: no column %q (have %s)", path, name, strings.Join(recs[0], ", "))
	}
	xi, err := col(xcol)
	if err != nil {
		return nil, err
	}
	yi, err := col(ycol)
	if err != nil {
		return nil, err
	}
	bi := -1
	if by != "" {
		if bi, err = col(by); err != nil {
			return nil, err
		}
	}
	fig := &plotting.XYFigure{XLabel: columnTitle(xcol), YLabel: columnTitle(ycol), LogX: logx, LogY: logy,
		Method: tableMethod(recs)}
	index := map[string]int{}
	missing := map[int][]string{} // curve → x values with no y
	for _, r := range recs[1:] {
		key := ""
		if bi >= 0 {
			key = r[bi]
		}
		i, ok := index[key]
		if !ok {
			i = len(fig.Curves)
			index[key] = i
			label := ycol
			if bi >= 0 {
				label = columnTitle(by) + " = " + key
			}
			fig.Curves = append(fig.Curves, plotting.Curve{Label: label})
		}
		x, errX := strconv.ParseFloat(r[xi], 64)
		y, errY := strconv.ParseFloat(r[yi], 64)
		if errX != nil {
			continue
		}
		if errY != nil || y < 0 {
			y = math.NaN()
			missing[i] = append(missing[i], r[xi])
		}
		fig.Curves[i].X = append(fig.Curves[i].X, x)
		fig.Curves[i].Y = append(fig.Curves[i].Y, y)
	}
	if len(missing) > 0 {
		var parts []string
		for i, c := range fig.Curves {
			if xs := missing[i]; len(xs) == len(c.X) {
				parts = append(parts, c.Label+": none")
			} else if len(xs) > 0 {
				parts = append(parts, c.Label+": "+strings.Join(xs, ", "))
			}
		}
		what := fmt.Sprintf("No value of %s at %s", ycol, columnTitle(xcol))
		if strings.HasSuffix(ycol, "_to_target") {
			what = "Target never reached at " + columnTitle(xcol)
		}
		fig.Note = wrapNote(what+" — "+strings.Join(parts, "; "), 80)
	}
	return fig, nil
}

// tableMethod is the one method (runfile.MethodName) of every row of a
// sweep table, from its method, normalize, compressor, eta and
// participation columns; "" when the rows hold several or the columns are
// missing.
func tableMethod(recs [][]string) string {
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	if _, ok := col["method"]; !ok {
		return ""
	}
	name := ""
	for _, r := range recs[1:] {
		attrs := map[string]any{}
		for _, k := range []string{"method", "compressor"} {
			if i, ok := col[k]; ok {
				attrs[k] = r[i]
			}
		}
		if i, ok := col["normalize"]; ok {
			attrs["normalize"] = r[i] == "1" || r[i] == "true"
		}
		for _, k := range []string{"eta", "participation"} {
			if i, ok := col[k]; ok {
				if v, err := strconv.ParseFloat(r[i], 64); err == nil {
					attrs[k] = v
				}
			}
		}
		m := runfile.MethodName(attrs)
		if name != "" && m != name {
			return ""
		}
		name = m
	}
	return name
}

// columnTitle turns a sweep column into axis text.
func columnTitle(c string) string {
	switch c {
	case "run.iterations":
		return "K (iterations)"
	case "stepsize.gamma0":
		return "γ0"
	case "iters_to_target":
		return "iterations to reach the target"
	case "bits_to_target":
		return "bits per worker to reach the target"
	case "final_grad_norm_sq":
		return "final ‖∇f(xᴷ)‖²"
	case "min_grad_norm_sq":
		return "smallest ‖∇f(xᵏ)‖² of the run"
	case "run.ranks":
		return "n (ranks)"
	case "algorithm.k":
		return "k"
	}
	return c
}

func wrapNote(s string, width int) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if len(line)+len(w)+1 > width && line != "" {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return strings.Join(append(lines, line), "\n")
}
