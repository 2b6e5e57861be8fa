package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/efmpi/efmpi/plotting"
	"github.com/efmpi/efmpi/runfile"
)

// targetHeads are the headers of the two target columns of a readable
// table: the target and the criterion are in every header.
func targetHeads(target float64, crit runfile.Criterion) []string {
	return []string{fmt.Sprintf("iters to %.2g (%s)", target, crit), fmt.Sprintf("bits to %.2g (%s)", target, crit)}
}

// seedGroup is runs that differ only by seed (plotting.GroupKeys: the runs
// `efmpi plot -aggregate seed` merges into one median curve).
type seedGroup struct {
	key  string
	runs []*runfile.Summary
}

// seedGroups groups the summaries by plotting.GroupKeys over "seed", in
// order of first appearance; only groups of two or more runs are returned.
func seedGroups(sums []*runfile.Summary) []seedGroup {
	labels := make([]string, len(sums))
	attrs := make([]map[string]any, len(sums))
	for i, s := range sums {
		labels[i], attrs[i] = runfile.Label(s.Attrs), s.Attrs
	}
	keys := plotting.GroupKeys(labels, attrs, "seed")
	var out []seedGroup
	at := map[string]int{}
	for i, k := range keys {
		j, ok := at[k]
		if !ok {
			j = len(out)
			at[k] = j
			out = append(out, seedGroup{key: k})
		}
		out[j].runs = append(out[j].runs, sums[i])
	}
	return slices.DeleteFunc(out, func(g seedGroup) bool { return len(g.runs) < 2 })
}

// spreadText writes a group's value as "median [min–max]", "never" for a
// target not reached.
func spreadText(med, lo, hi int64) string {
	return fmt.Sprintf("%s [%s–%s]", reachText(med), reachText(lo), reachText(hi))
}

// floatSpread is "median [min–max]" of the runs' values.
func floatSpread(v []float64) string {
	if len(v) == 0 {
		return ""
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return fmt.Sprintf("%.3e [%.3e–%.3e]", runfile.Median(v), lo, hi)
}

// statusText is the one status of a group's runs, or their counts.
func statusText(runs []*runfile.Summary) string {
	count := map[string]int{}
	var order []string
	for _, r := range runs {
		if count[r.Status] == 0 {
			order = append(order, r.Status)
		}
		count[r.Status]++
	}
	if len(order) == 1 {
		return order[0]
	}
	var parts []string
	for _, s := range order {
		parts = append(parts, fmt.Sprintf("%d %s", count[s], s))
	}
	return strings.Join(parts, ", ")
}

// printSeedTable prints one line per group of runs that differ only by
// seed: the median over the seeds with [min–max]. The median of iterations
// and bits to the target is where the median curve (the median ‖∇f‖² over
// the seeds at every iteration, the curve of `plot -aggregate seed`)
// reaches it (runfile.GroupReach), so the table and the figure agree. It
// prints nothing and returns false when no runs differ only by seed.
func printSeedTable(w io.Writer, sums []*runfile.Summary, withTarget bool, target float64, crit runfile.Criterion) bool {
	groups := seedGroups(sums)
	if len(groups) == 0 {
		return false
	}
	fmt.Fprintf(w, "\nruns that differ only by seed: median [min–max] over the seeds")
	if withTarget {
		fmt.Fprintf(w, "; to target: where the median curve reaches ‖∇f‖² ≤ %g (%s: %s), range over the seeds' own values", target, crit, crit.Describe())
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"run", "seeds"}
	if withTarget {
		head = append(head, targetHeads(target, crit)...)
	}
	head = append(head, "final ‖∇f‖²", "status")
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, g := range groups {
		cells := []string{g.key, fmt.Sprint(len(g.runs))}
		if withTarget {
			sp := runfile.GroupReach(g.runs, target, crit)
			cells = append(cells, spreadText(sp.Iteration, sp.MinIteration, sp.MaxIteration), spreadText(sp.Bits, sp.MinBits, sp.MaxBits))
		}
		var finals []float64
		for _, r := range g.runs {
			finals = append(finals, r.FinalGradNormSq)
		}
		cells = append(cells, floatSpread(finals), statusText(g.runs))
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	tw.Flush()
	return true
}
