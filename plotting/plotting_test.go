package plotting

import (
	"bytes"
	"image/png"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/efmpi/efmpi/hdf5io"
)

// writeRun records a run file whose ‖∇f‖² decays geometrically by rate per
// iteration, with bits growing by bitsPer per iteration.
func writeRun(t *testing.T, path string, attrs []hdf5io.Attr, iters int, rate float64, bitsPer int64) {
	t.Helper()
	rec, err := hdf5io.Create(path, true, 100, attrs)
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k <= iters; k += 10 {
		g := 100 * math.Pow(rate, float64(k))
		row := hdf5io.Row{Iteration: int64(k), F: g, GradNormSq: g, StepSize: 0.1, BitsPerWorker: int64(k) * bitsPer}
		if err := rec.Append(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Close("completed"); err != nil {
		t.Fatal(err)
	}
}

func attrs(method string, normalize bool, rule string, extra ...hdf5io.Attr) []hdf5io.Attr {
	a := []hdf5io.Attr{{Name: "method", Value: method}, {Name: "normalize", Value: normalize},
		{Name: "compressor", Value: "top-k"}, {Name: "k", Value: 1}, {Name: "stepsize_rule", Value: rule},
		{Name: "n_ranks", Value: 4}, {Name: "iterations", Value: 500}}
	if rule == "norm-theory" {
		a = append(a, hdf5io.Attr{Name: "gamma0", Value: 1.0})
	}
	return append(a, extra...)
}

func twoRuns(t *testing.T) []string {
	dir := t.TempDir()
	a := filepath.Join(dir, "norm.h5")
	b := filepath.Join(dir, "ef21.h5")
	writeRun(t, a, attrs("ef21", true, "norm-theory"), 500, 0.97, 32)
	writeRun(t, b, attrs("ef21", false, "ef21-theory"), 500, 0.99, 32)
	return []string{a, b}
}

func TestFigurePNG(t *testing.T) {
	series, err := ReadSeries(twoRuns(t))
	if err != nil {
		t.Fatal(err)
	}
	fig := &Figure{Title: "test", X: []XAxis{Iterations, Bits}, Rows: GroupBy(series, "", nil), DPI: 100}
	var buf bytes.Buffer
	if err := fig.WriteTo(&buf, "png"); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	w, h := fig.size()
	wantW, wantH := int(math.Ceil(float64(w/vg.Inch)*100)), int(math.Ceil(float64(h/vg.Inch)*100))
	b := img.Bounds()
	if abs(b.Dx()-wantW) > 1 || abs(b.Dy()-wantH) > 1 {
		t.Errorf("size %dx%d, want %dx%d", b.Dx(), b.Dy(), wantW, wantH)
	}
	// not blank: a fair share of non-white pixels, and the second style's
	// vermillion (lines, markers, legend) is there
	dark, vermillion := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r < 0xC000 || g < 0xC000 || bl < 0xC000 {
				dark++
			}
			if r>>8 > 0xC0 && g>>8 > 0x40 && g>>8 < 0x80 && bl>>8 < 0x30 {
				vermillion++
			}
		}
	}
	if frac := float64(dark) / float64(b.Dx()*b.Dy()); frac < 0.01 {
		t.Errorf("only %.2f%% of the pixels are drawn on", 100*frac)
	}
	if vermillion < 50 {
		t.Errorf("%d vermillion pixels: the second run's line is missing", vermillion)
	}
}

func TestFigureSVG(t *testing.T) {
	series, err := ReadSeries(twoRuns(t))
	if err != nil {
		t.Fatal(err)
	}
	fig := &Figure{X: []XAxis{Bits}, Rows: GroupBy(series, "", nil)}
	path := filepath.Join(t.TempDir(), "f.svg")
	if err := fig.Save(path); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := fig.WriteTo(&buf, "svg"); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	for _, want := range []string{"<svg", "</svg>", "EF21", "bits sent per worker"} {
		if !strings.Contains(s, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if err := (&Figure{X: []XAxis{Bits}}).WriteTo(&buf, "svg"); err == nil {
		t.Error("a figure without rows drew")
	}
}

func TestDisambiguateAndGroup(t *testing.T) {
	mk := func(label string, n, k int64, g0 float64) Series {
		return Series{Label: label, Attrs: map[string]any{"n_ranks": n, "iterations": k, "gamma0": g0}}
	}
	series := []Series{mk("A", 8, 100, 1), mk("A", 1, 100, 1), mk("B", 1, 100, 1), mk("B", 1, 200, 0.5), mk("A", 8, 100, 1)}
	rows := GroupBy(series, "n_ranks", nil)
	var got [][]string
	var titles []string
	for _, r := range rows {
		titles = append(titles, r.Title)
		var ls []string
		for _, s := range r.Series {
			ls = append(ls, s.Label)
		}
		got = append(got, ls)
	}
	want := [][]string{{"A", "B, K = 100, γ0 = 1", "B, K = 200, γ0 = 0.5"}, {"A", "A"}}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(titles, []string{"n = 1 rank", "n = 8 ranks"}) {
		t.Errorf("rows %v %q, want %v", got, titles, want)
	}
	// labels must not pick up the grouping attribute
	flat := Disambiguate([]string{"A", "A"}, []map[string]any{{"n_ranks": 1}, {"n_ranks": 2}}, "n_ranks")
	if flat[0] != "A" || flat[1] != "A" {
		t.Errorf("ignored attribute added: %q", flat)
	}
}

func TestTicks(t *testing.T) {
	var labels []string
	for _, tk := range (logTicks{}).Ticks(1e-4, 1e2) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if want := []string{"10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "1", "10", "10²"}; !reflect.DeepEqual(labels, want) {
		t.Errorf("log tick labels %q, want %q", labels, want)
	}
	// 30 decades: at most 9 labels
	n := 0
	for _, tk := range (logTicks{}).Ticks(1e-28, 1e2) {
		if tk.Label != "" {
			n++
		}
	}
	if n > 9 || n < 4 {
		t.Errorf("%d labels on 30 decades", n)
	}
	for v, want := range map[float64]string{0: "0", 500: "500", 2000: "2k", 2.5e5: "250k", 1.5e6: "1.5M"} {
		if got := siLabel(v); got != want {
			t.Errorf("siLabel(%g) = %q, want %q", v, got, want)
		}
	}
}

func TestMarkerPoints(t *testing.T) {
	pts := finitePoints([]float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, []float64{1, 1, 0, math.NaN(), 1, math.Inf(1), 1, 1, 1, 1, 1}, false)
	if len(pts) != 8 {
		t.Fatalf("%d finite positive points, want 8", len(pts))
	}
	m := markerPoints(pts, 0, 10, 0, false)
	if len(m) == 0 || len(m) > markersPerLine {
		t.Errorf("%d markers", len(m))
	}
}

func abs(v int) int { return max(v, -v) }
