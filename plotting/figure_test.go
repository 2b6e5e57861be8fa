package plotting

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

// at least 12 series get 12 different colours, and no two of 24 share
// colour, dash and marker at once
func TestPaletteDistinct(t *testing.T) {
	colors := map[string]bool{}
	all := map[string]bool{}
	for i := 0; i < 24; i++ {
		st := StyleAt(i)
		r, g, b, _ := st.Color.RGBA()
		c := fmt.Sprint(r, g, b)
		if i < NumColors {
			if colors[c] {
				t.Errorf("style %d repeats colour %s", i, c)
			}
			colors[c] = true
		}
		k := fmt.Sprintf("%s %v %T", c, st.Dashes, st.Glyph)
		if all[k] {
			t.Errorf("style %d repeats an earlier style", i)
		}
		all[k] = true
	}
}

func runAttrs(method string, normalize bool, k int64, extra ...any) map[string]any {
	a := map[string]any{"method": method, "normalize": map[bool]int64{true: 1}[normalize], "compressor": "top-k", "k": k}
	for i := 0; i+1 < len(extra); i += 2 {
		a[extra[i].(string)] = extra[i+1]
	}
	return a
}

func series(label string, attrs map[string]any, gs ...float64) Series {
	s := Series{Label: label, Attrs: attrs, GradNormSq: gs}
	for i := range gs {
		s.Iterations = append(s.Iterations, float64(10*i))
		s.Bits = append(s.Bits, float64(320*i))
		s.Time = append(s.Time, 0.5*float64(i))
	}
	return s
}

// The 9-run comparison: colour follows the method, dash and marker follow
// k, and all nine styles differ.
func TestAutoStyleByMethodAndK(t *testing.T) {
	var ss []Series
	for _, m := range []struct {
		name string
		norm bool
	}{{"ef21", true}, {"ef21", false}, {"ef14", false}} {
		for _, k := range []int64{1, 5, 20} {
			a := runAttrs(m.name, m.norm, k)
			ss = append(ss, series(fmt.Sprintf("%v %v %d", m.name, m.norm, k), a, 1, 0.5))
		}
	}
	fig := &Figure{X: []XAxis{Iterations}, Rows: GroupBy(ss, "", nil)}
	st := fig.Styles()
	seen := map[string]bool{}
	for i, s := range ss {
		got := st[s.Label]
		if got.Color != st[ss[i/3*3].Label].Color {
			t.Errorf("%s: colour differs from its method's", s.Label)
		}
		if !reflect.DeepEqual(got.Dashes, st[ss[i%3].Label].Dashes) || got.Glyph != st[ss[i%3].Label].Glyph {
			t.Errorf("%s: dash/marker differ from its k's", s.Label)
		}
		key := fmt.Sprintf("%v %v %T", got.Color, got.Dashes, got.Glyph)
		if seen[key] {
			t.Errorf("%s: style repeated", s.Label)
		}
		seen[key] = true
	}
	if st[ss[0].Label].Color == st[ss[3].Label].Color || st[ss[3].Label].Color == st[ss[6].Label].Color {
		t.Error("methods share a colour")
	}
	// explicit choice: colour by k
	fig.Style = StyleBy{ColorBy: "k"}
	st = fig.Styles()
	if st[ss[0].Label].Color != st[ss[3].Label].Color || st[ss[0].Label].Color == st[ss[1].Label].Color {
		t.Error("-color-by k: k = 1 runs differ in colour, or k = 1 and 5 share one")
	}
}

// The same run configuration keeps its label and style in every row, and
// rows share one y range.
func TestRowsKeepStylesAndShareY(t *testing.T) {
	a := func(n int64, k int64) map[string]any { return runAttrs("ef21", true, k, "n_ranks", n) }
	ss := []Series{
		series("A", a(1, 1), 1, 1e-3), series("A", a(1, 5), 1, 1e-4),
		series("A", a(8, 5), 10, 1e-1),
	}
	rows := GroupBy(ss, "n_ranks", nil)
	if len(rows) != 2 || rows[1].Series[0].Label != "A, k = 5" || rows[0].Series[1].Label != "A, k = 5" {
		t.Fatalf("labels %v / %v", rows[0].Series, rows[1].Series)
	}
	fig := &Figure{X: []XAxis{Iterations, Bits}, Rows: rows, SharedY: true}
	st := fig.Styles()
	if len(st) != 2 {
		t.Errorf("%d styles for 2 labels", len(st))
	}
	yr := fig.yRanges()
	if yr[0][0] != yr[1][1] || yr[0][0].lo != 1e-4 || yr[0][0].hi != 10 {
		t.Errorf("shared y ranges %v", yr)
	}
	fig.SharedY = false
	yr = fig.yRanges()
	if yr[1][0].lo != 1e-1 || yr[1][0].hi != 10 || yr[0][0].lo != 1e-4 || yr[0][0].hi != 1 {
		t.Errorf("own y ranges %v", yr)
	}
}

// Log axes with zeros: EF14 sends no bits at iteration 0, and a run may
// reach ‖∇f‖² = 0; neither may crash the figure or leave an empty file.
func TestLogAxesWithZeros(t *testing.T) {
	dir := t.TempDir()
	ss := []Series{series("ef14", runAttrs("ef14", false, 1), 1, 0.5, 0.25), series("zero", runAttrs("ef21", true, 1), 0, 0, 0)}
	fig := &Figure{X: []XAxis{Bits, Time}, Rows: GroupBy(ss, "", nil), LogBits: true, LogTime: true, DPI: 60}
	path := filepath.Join(dir, "f.png")
	if err := fig.Save(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	// only zeros in a log panel: still a valid figure
	fig.Rows = GroupBy(ss[1:], "", nil)
	if err := fig.Save(path); err != nil {
		t.Fatal(err)
	}
	// a failed write leaves nothing behind (and no temporary file)
	bad := filepath.Join(dir, "g.gif")
	if err := fig.Save(bad); err == nil {
		t.Fatal("gif accepted")
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) != 1 {
		t.Errorf("files left: %q", left)
	}
	// the points a log axis cannot show are exactly the zeros
	if pts := finitePoints([]float64{0, 320, 640}, []float64{1, 0.5, 0.25}, true); len(pts) != 2 || pts[0].X != 320 {
		t.Errorf("log-x points %v", pts)
	}
}

// The legend never clips: with long labels the figure widens to the widest
// entry, and columns are as many as fit.
func TestLegendFits(t *testing.T) {
	long := strings.Repeat("||EF21-SGDM|| rand-10, γ = γ0/(K+1)^¾ ", 3)
	var ss []Series
	for i := 0; i < 5; i++ {
		ss = append(ss, series(fmt.Sprintf("%s seed = %d", long, i), runAttrs("ef21", true, 1, "seed", int64(i)), 1, 0.1))
	}
	fig := &Figure{X: []XAxis{Iterations}, Rows: GroupBy(ss, "", nil)}
	w, _ := fig.size()
	ew := legendEntryWidth(fig.Labels())
	if vg.Length(fig.legendColumns(w))*ew > w || w < ew {
		t.Errorf("legend %d × %v does not fit in %v", fig.legendColumns(w), ew, w)
	}
	short := &Figure{X: []XAxis{Iterations, Bits}, Rows: GroupBy(ss[:0:0], "", nil)}
	short.Rows = []Row{{Series: []Series{series("a", nil, 1), series("b", nil, 1)}}}
	if w, _ := short.size(); short.legendColumns(w) != 2 || w != 2*4.2*vg.Inch {
		t.Errorf("short labels: %d columns, width %v", short.legendColumns(w), w)
	}
}

// Aggregate: the median and min–max band of runs that differ only in the
// seed, at the iterations they all recorded, worked out by hand.
func TestAggregateSeeds(t *testing.T) {
	a := func(seed int64) map[string]any { return runAttrs("ef21", true, 1, "seed", seed) }
	ss := []Series{series("X", a(1), 1, 0.4, 0.1), series("X", a(2), 2, 0.2, 0.3), series("X", a(3), 4, 0.1, 0.2, 0.05),
		series("Y", runAttrs("ef14", false, 1), 3, 2)}
	out := Aggregate(ss, "seed")
	if len(out) != 2 {
		t.Fatalf("%d series", len(out))
	}
	m := out[0]
	if m.Label != "X" || m.Runs != 3 || m.Over != "seed" {
		t.Errorf("label %q runs %d over %q", m.Label, m.Runs, m.Over)
	}
	if !reflect.DeepEqual(m.Iterations, []float64{0, 10, 20}) || !reflect.DeepEqual(m.GradNormSq, []float64{2, 0.2, 0.2}) ||
		!reflect.DeepEqual(m.Lo, []float64{1, 0.1, 0.1}) || !reflect.DeepEqual(m.Hi, []float64{4, 0.4, 0.3}) {
		t.Errorf("aggregate %v %v %v %v", m.Iterations, m.GradNormSq, m.Lo, m.Hi)
	}
	if out[1].Label != "Y" || out[1].Lo != nil {
		t.Errorf("single run changed: %+v", out[1])
	}
	fig := &Figure{X: []XAxis{Iterations, Bits}, Rows: GroupBy(out, "", nil), DPI: 60}
	var buf bytes.Buffer
	if err := fig.WriteTo(&buf, "svg"); err != nil {
		t.Fatalf("aggregate figure: %v", err)
	}
	// the aggregation is said once, in the note, never in a legend entry
	svg := buf.String()
	if n := strings.Count(svg, "median over 3 seeds"); n != 1 || strings.Contains(svg, "median of") {
		t.Errorf("the note on the median appears %d times", n)
	}
	if !strings.Contains(svg, "32 bits per transmitted value") || !strings.Contains(svg, "indices not counted") {
		t.Error("no bit convention on a figure with a bits panel")
	}
}

func TestParseXAxesAndLabels(t *testing.T) {
	for in, want := range map[string][]XAxis{"both": {Iterations, Bits}, "time": {Time}, "iterations,time": {Iterations, Time}, "bits": {Bits}} {
		if got, err := ParseXAxes(in); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseXAxes(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseXAxes("walltime"); err == nil {
		t.Error("unknown axis accepted")
	}
	attrs := runAttrs("ef21", true, 5, "seed", int64(3))
	if l, err := ExpandLabel("{method} k={k} (seed {seed}) {compressor}", attrs); err != nil || l != "||EF21|| k=5 (seed 3) top-5" {
		t.Errorf("label %q %v", l, err)
	}
	if _, err := ExpandLabel("{method", attrs); err == nil {
		t.Error("unclosed brace accepted")
	}
}

// Colouring by method gives each method one colour in every figure, in
// whatever order and company its runs come: EF21 has the same colour
// alone, after ||EF21|| and beside EF14; labels of one method differ in
// dash and marker. Aggregating with the rows' attribute apart keeps one
// label per series across rows.
func TestMethodColoursFixed(t *testing.T) {
	colour := func(labels []string, attrs []map[string]any, want string) Style {
		st := StyleBy{ColorBy: "method"}.assign(labels, attrs)
		return st[want]
	}
	ef21 := runAttrs("ef21", false, 1)
	norm := runAttrs("ef21", true, 1)
	ef14 := runAttrs("ef14", false, 1)
	a := colour([]string{"e"}, []map[string]any{ef21}, "e")
	b := colour([]string{"n", "e"}, []map[string]any{norm, ef21}, "e")
	c := colour([]string{"x", "n", "e"}, []map[string]any{ef14, norm, ef21}, "e")
	if a.Color != b.Color || b.Color != c.Color {
		t.Errorf("EF21's colour changes with the company: %v %v %v", a.Color, b.Color, c.Color)
	}
	st := StyleBy{ColorBy: "method"}.assign([]string{"n1", "n2", "e"}, []map[string]any{norm, norm, ef21})
	if st["n1"].Color != st["n2"].Color || reflect.DeepEqual(st["n1"].Dashes, st["n2"].Dashes) || st["n1"].Color == st["e"].Color {
		t.Errorf("one method, two labels: %+v %+v; EF21 %+v", st["n1"], st["n2"], st["e"])
	}
	// two datasets, three seeds each, one label: two series, one label
	var ss []Series
	for _, ds := range []string{"a1a", "mushrooms"} {
		for seed := int64(1); seed <= 3; seed++ {
			ss = append(ss, series("X", runAttrs("ef21", true, 1, "seed", seed, "dataset", ds), 1, 0.5))
		}
	}
	out := Aggregate(ss, "seed", "dataset")
	if len(out) != 2 || out[0].Label != "X" || out[1].Label != "X" || out[0].Runs != 3 || out[1].Runs != 3 {
		t.Fatalf("aggregate with rows apart: %d series %+v", len(out), out)
	}
}

// Across rows, a label gains only the attributes that tell its runs apart
// within a row: n and d change with the dataset (the rows) and are not
// added; γ0 tells two runs of one row apart and is added to the label in
// every row, so equal settings share one legend entry.
func TestDisambiguateWithinRows(t *testing.T) {
	at := func(ds string, n int64, g0 float64) map[string]any {
		return runAttrs("ef21", true, 1, "dataset", ds, "n_ranks", n, "gamma0", g0)
	}
	attrs := []map[string]any{at("a1a", 5, 1), at("a1a", 5, 0.3), at("mushrooms", 8, 1), at("mushrooms", 8, 0.3), at("mushrooms", 8, 1)}
	got := DisambiguateWithin([]string{"X", "X", "X", "X", "Y"}, attrs, []string{"dataset"})
	want := []string{"X, γ0 = 1", "X, γ0 = 0.3", "X, γ0 = 1", "X, γ0 = 0.3", "Y"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// without rows, n tells the runs apart too
	if got := Disambiguate([]string{"X", "X"}, attrs[1:3]); !reflect.DeepEqual(got, []string{"X, n = 5, γ0 = 0.3, data = a1a", "X, n = 8, γ0 = 1, data = mushrooms"}) {
		t.Errorf("no rows: %q", got)
	}
}

// The note names the curves that never reach the target, with the rows
// where they miss it when they reach it in others.
func TestTargetNoteNamesRows(t *testing.T) {
	fig := &Figure{X: []XAxis{Iterations}, Target: 0.1, Rows: []Row{
		{Title: "a1a", Series: []Series{series("X", nil, 1, 0.5), series("Y", nil, 1, 0.5)}},
		{Title: "mushrooms", Series: []Series{series("X", nil, 1, 0.05), series("Y", nil, 1, 0.5)}},
	}}
	notes := strings.Join(fig.Notes(), " ")
	if !strings.Contains(notes, "never reached by X (a1a), Y.") {
		t.Errorf("notes: %s", notes)
	}
}
