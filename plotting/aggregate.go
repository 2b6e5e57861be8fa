package plotting

import (
	"fmt"
	"math"
	"slices"

	"github.com/efmpi/efmpi/runfile"
)

// Aggregate merges the series that differ only in the attribute attr (e.g.
// "seed"): runs whose labels, disambiguated without attr, agree. Each group
// becomes one series of the median ‖∇f‖² at every iteration all its runs
// recorded, with Lo and Hi the smallest and largest value there (drawn as a
// band); x values (bits, time) are the medians too. Its Runs and Over say
// how many runs it stands for and over what; the figure says so once, in
// its note (AggregateNote), not on every legend entry. A series alone in its group is kept as it is. The γ
// of a rule other than "constant" is computed from the data and so may
// differ with the seed; it does not keep runs apart.
//
// Attributes named in apart (e.g. the attribute a figure's rows are grouped
// by) keep runs apart without entering the label: runs on two datasets
// become two series with one label, drawn in their own rows with one
// legend entry.
func Aggregate(series []Series, attr string, apart ...string) []Series {
	labels := make([]string, len(series))
	attrs := make([]map[string]any, len(series))
	for i, s := range series {
		labels[i], attrs[i] = s.Label, s.Attrs
	}
	keys := GroupKeys(labels, attrs, attr, apart...)
	labelOf := map[string]string{}
	for i, k := range keys {
		full := k
		for _, a := range apart {
			full += "\x00" + AttrValue(attrs[i], a)
		}
		labelOf[full] = k
		keys[i] = full
	}
	var order []string
	groups := map[string][]Series{}
	for i, k := range keys {
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], series[i])
	}
	var out []Series
	for _, k := range order {
		g := groups[k]
		if len(g) == 1 {
			s := g[0]
			s.Label = labelOf[k]
			out = append(out, s)
			continue
		}
		out = append(out, mergeSeries(g, labelOf[k], attr))
	}
	return out
}

func plural(attr string, n int) string {
	if n == 1 || attr == "" {
		return attr
	}
	return attr + "s"
}

// GroupKeys returns the key under which Aggregate(…, attr) merges each of
// the runs with these labels and attributes: runs with equal keys differ
// only in attr (and, unless some run has a constant step, in the γ a theory
// rule computed from the data, which the seed may change). The key is the
// label disambiguated by every other attribute that tells runs apart
// within the groups that the attributes named in within make (the rows of
// a figure; see DisambiguateWithin). The
// tables of `summarize` and `sweep` group runs with it too, so that they
// and the figure merge the same runs.
func GroupKeys(labels []string, attrs []map[string]any, attr string, within ...string) []string {
	ignore := []string{attr}
	if !slices.ContainsFunc(attrs, func(a map[string]any) bool { return a["stepsize_rule"] == "constant" }) {
		ignore = append(ignore, "gamma")
	}
	return DisambiguateWithin(labels, attrs, within, ignore...)
}

// mergeSeries is the median / min–max of runs at the iterations they all
// recorded (runfile.CommonRows and runfile.MedianColumn: the same median a
// table of runs that differ only by seed reports, runfile.GroupReach).
func mergeSeries(g []Series, label, attr string) Series {
	its := make([][]float64, len(g))
	for j, s := range g {
		its[j] = s.Iterations
	}
	common, rows := runfile.CommonRows(its)
	col := func(get func(Series) []float64) [][]float64 {
		out := make([][]float64, len(g))
		for j, s := range g {
			out[j] = get(s)
		}
		return out
	}
	out := Series{Label: label, Attrs: g[0].Attrs, Runs: len(g), Over: attr, Iterations: common}
	out.Bits = runfile.MedianColumn(col(func(s Series) []float64 { return s.Bits }), rows)
	out.Time = runfile.MedianColumn(col(func(s Series) []float64 { return s.Time }), rows)
	gs := col(func(s Series) []float64 { return s.GradNormSq })
	out.GradNormSq = runfile.MedianColumn(gs, rows)
	vals := make([]float64, len(g))
	for i := range common {
		for j := range g {
			vals[j] = math.NaN()
			if r := rows[j][i]; r < len(gs[j]) {
				vals[j] = gs[j][r]
			}
		}
		out.Lo = append(out.Lo, slices.Min(vals))
		out.Hi = append(out.Hi, slices.Max(vals))
	}
	return out
}

// AggregateNote is the figure's one sentence on aggregated series: "Lines:
// median over 3 seeds at each iteration; bands: min–max." ("" when no series
// stands for several runs). Series aggregated over different counts list
// every count.
func AggregateNote(series []Series) string {
	counts := map[int]bool{}
	var ns []int
	over := ""
	for _, s := range series {
		if s.Runs > 1 {
			if !counts[s.Runs] {
				counts[s.Runs] = true
				ns = append(ns, s.Runs)
			}
			over = s.Over
		}
	}
	if len(ns) == 0 {
		return ""
	}
	slices.Sort(ns)
	n := fmt.Sprint(ns[0])
	for _, x := range ns[1:] {
		n += " or " + fmt.Sprint(x)
	}
	return fmt.Sprintf("Lines: median over %s %s at each iteration; bands: min–max over them.", n, plural(over, ns[len(ns)-1]))
}
