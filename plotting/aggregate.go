package plotting

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Aggregate merges the series that differ only in the attribute attr (e.g.
// "seed"): runs whose labels, disambiguated without attr, agree. Each group
// becomes one series of the median ‖∇f‖² at every iteration all its runs
// recorded, with Lo and Hi the smallest and largest value there (drawn as a
// band); x values (bits, time) are the medians too. Its label says how many
// runs it stands for. A series alone in its group is kept as it is. The γ
// of a rule other than "constant" is computed from the data and so may
// differ with the seed; it does not keep runs apart.
func Aggregate(series []Series, attr string) []Series {
	labels := make([]string, len(series))
	attrs := make([]map[string]any, len(series))
	for i, s := range series {
		labels[i], attrs[i] = s.Label, s.Attrs
	}
	// γ of a theory rule is computed from the data, which the seed may
	// change (the polynomial's coefficients): not a difference of setup
	ignore := []string{attr}
	if !slices.ContainsFunc(series, func(s Series) bool { return s.Attrs["stepsize_rule"] == "constant" }) {
		ignore = append(ignore, "gamma")
	}
	keys := Disambiguate(labels, attrs, ignore...)
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
			s.Label = k
			out = append(out, s)
			continue
		}
		out = append(out, mergeSeries(g, fmt.Sprintf("%s (median of %d %s, min–max band)", k, len(g), plural(attr, len(g)))))
	}
	return out
}

func plural(attr string, n int) string {
	if n == 1 || attr == "" {
		return attr
	}
	return attr + "s"
}

// mergeSeries is the median / min–max of runs at the iterations they all
// recorded.
func mergeSeries(g []Series, label string) Series {
	common := map[float64]int{}
	for _, s := range g {
		seen := map[float64]bool{}
		for _, it := range s.Iterations {
			if !seen[it] {
				seen[it] = true
				common[it]++
			}
		}
	}
	var its []float64
	for it, n := range common {
		if n == len(g) {
			its = append(its, it)
		}
	}
	sort.Float64s(its)
	out := Series{Label: label, Attrs: g[0].Attrs, Runs: len(g)}
	at := make([]map[float64]int, len(g))
	for j, s := range g {
		at[j] = map[float64]int{}
		for i, it := range s.Iterations {
			at[j][it] = i
		}
	}
	vals := make([]float64, len(g))
	pick := func(col func(Series) []float64, i int, j int) float64 {
		c := col(g[j])
		if i < len(c) {
			return c[i]
		}
		return math.NaN()
	}
	for _, it := range its {
		for _, col := range []struct {
			get func(Series) []float64
			dst *[]float64
		}{
			{func(s Series) []float64 { return s.Bits }, &out.Bits},
			{func(s Series) []float64 { return s.Time }, &out.Time},
		} {
			for j := range g {
				vals[j] = pick(col.get, at[j][it], j)
			}
			*col.dst = append(*col.dst, median(vals))
		}
		for j := range g {
			vals[j] = pick(func(s Series) []float64 { return s.GradNormSq }, at[j][it], j)
		}
		out.Iterations = append(out.Iterations, it)
		out.GradNormSq = append(out.GradNormSq, median(vals))
		out.Lo = append(out.Lo, slices.Min(vals))
		out.Hi = append(out.Hi, slices.Max(vals))
	}
	return out
}

// median of values (NaN if any is NaN); the mean of the middle two for an
// even count.
func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	for _, x := range s {
		if math.IsNaN(x) {
			return math.NaN()
		}
	}
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
