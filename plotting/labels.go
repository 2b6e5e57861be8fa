package plotting

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"

	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/runfile"
)

// distinguishing are the attributes Disambiguate may add to a label, in
// order, with how they are written.
var distinguishing = []struct{ key, name string }{
	{"n_ranks", "n"}, {"iterations", "K"}, {"gamma0", "γ0"}, {"gamma", "γ"}, {"k", "k"},
	{"dataset", "data"}, {"batch", "b"}, {"eta", "η"}, {"seed", "seed"}, {"lambda", "λ"},
	{"d", "d"}, {"factor", "factor"}, {"participation", "p"}, {"noise_nu", "ν"},
}

// Disambiguate appends to every label that occurs more than once the
// attributes whose values tell those runs apart (n, K, γ0, …), so that no
// two curves of a figure share a legend entry unless their runs agree on
// all of them. Attributes named in ignore are never added (e.g. the one the
// figure's rows are grouped by).
func Disambiguate(labels []string, attrs []map[string]any, ignore ...string) []string {
	return DisambiguateWithin(labels, attrs, nil, ignore...)
}

// DisambiguateWithin is Disambiguate for a figure whose rows (or groups)
// are the values of the attributes within: an attribute is appended to a
// label when it tells apart runs of that label in one row; runs of one
// label in different rows that differ only in what differs between rows
// (the dataset, and with it n or d) keep one label, so they are one
// series with one legend entry. Attributes named in within are never
// appended.
func DisambiguateWithin(labels []string, attrs []map[string]any, within []string, ignore ...string) []string {
	out := append([]string(nil), labels...)
	ignore = append(append([]string(nil), ignore...), within...)
	groups := map[string][]int{} // label and row → runs
	var order []string
	for i, l := range labels {
		k := l
		for _, w := range within {
			k += "\x00" + AttrValue(attrs[i], w)
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	tell := map[string][]int{} // label → indices into distinguishing, in order
	for _, k := range order {
		idx := groups[k]
		if len(idx) < 2 {
			continue
		}
		for di, d := range distinguishing {
			if slices.Contains(ignore, d.key) || slices.Contains(tell[labels[idx[0]]], di) {
				continue
			}
			vals := map[string]bool{}
			for _, i := range idx {
				vals[fmt.Sprint(attrs[i][d.key])] = true
			}
			if len(vals) > 1 {
				tell[labels[idx[0]]] = append(tell[labels[idx[0]]], di)
			}
		}
	}
	for i, l := range labels {
		ds := slices.Clone(tell[l])
		slices.Sort(ds)
		for _, di := range ds {
			d := distinguishing[di]
			out[i] += fmt.Sprintf(", %s = %s", d.name, fmtNum(attrs[i][d.key]))
		}
	}
	return out
}

// GroupBy splits series into rows by the value of one attribute (see
// AttrValue: a root attribute such as "n_ranks" or "dataset", or "method",
// "compressor"), in increasing order of a numeric value, else in order of
// first appearance; rows are titled title(value) (nil: RowTitle(attr)). An
// empty attribute gives one row with all series. Labels that collide are
// disambiguated over the whole figure, not row by row (see Disambiguate;
// the grouping attribute is never added), so the same run configuration
// has the same label, and so the same style, in every row.
func GroupBy(series []Series, attr string, title func(v any) string) []Row {
	series = disambiguateAll(series, attr)
	if attr == "" {
		return []Row{{Series: series}}
	}
	var keys []any
	byKey := map[string][]Series{}
	for _, s := range series {
		var v any = AttrValue(s.Attrs, attr)
		if raw, ok := s.Attrs[attr]; ok {
			v = raw
		}
		k := fmt.Sprint(v)
		if _, ok := byKey[k]; !ok {
			keys = append(keys, v)
		}
		byKey[k] = append(byKey[k], s)
	}
	// numbers in increasing order; anything else keeps the order of first
	// appearance (the order the files were named in)
	sort.SliceStable(keys, func(i, j int) bool {
		a, aok := number(keys[i])
		b, bok := number(keys[j])
		return aok && bok && a < b
	})
	if title == nil {
		title = RowTitle(attr)
	}
	rows := make([]Row, len(keys))
	for i, k := range keys {
		rows[i] = Row{Title: title(k), Series: byKey[fmt.Sprint(k)]}
	}
	return rows
}

func disambiguateAll(series []Series, ignore string) []Series {
	out := append([]Series(nil), series...)
	labels := make([]string, len(out))
	attrs := make([]map[string]any, len(out))
	for i, s := range out {
		labels[i], attrs[i] = s.Label, s.Attrs
	}
	var within []string
	if ignore != "" {
		within = []string{ignore}
	}
	for i, l := range DisambiguateWithin(labels, attrs, within) {
		out[i].Label = l
	}
	return out
}

// RowTitle is the default row title for common grouping attributes.
func RowTitle(attr string) func(v any) string {
	return func(v any) string {
		switch attr {
		case "n_ranks":
			if fmt.Sprint(v) == "1" {
				return "n = 1 rank"
			}
			return fmt.Sprintf("n = %v ranks", v)
		case "dataset":
			return filepath.Base(fmt.Sprint(v))
		case "iterations":
			return fmt.Sprintf("K = %v", v)
		case "gamma0":
			return "γ0 = " + fmtNum(v)
		case "noise_nu":
			return "ν = " + fmtNum(v)
		}
		return fmt.Sprintf("%s = %v", attr, v)
	}
}

// ReadSeries reads run files; each series is labelled runfile.Label(attrs).
func ReadSeries(paths []string) ([]Series, error) {
	var out []Series
	for _, p := range paths {
		run, err := hdf5io.Open(p)
		if err != nil {
			return nil, err
		}
		out = append(out, FromRun(run, ""))
	}
	return out, nil
}

func number(v any) (float64, bool) { return runfile.Number(v) }

func fmtNum(v any) string { return runfile.FormatNumber(v) }
