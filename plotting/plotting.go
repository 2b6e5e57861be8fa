// Package plotting draws efmpi's convergence figures with gonum.org/v1/plot:
// ‖∇f(x^k)‖² on a logarithmic axis against iterations and against the bits
// each worker sent, one line per recorded run, in one or several rows of
// panels that share one legend. Lines differ in dash pattern and marker as
// well as colour, so a figure stays readable when printed in black and white.
//
// The package reads run files only through hdf5io and knows nothing about
// configs or flags; cmd/efmpi's `plot` subcommand is its command-line face.
package plotting

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/runfile"
)

// XAxis selects what a panel's horizontal axis shows.
type XAxis int

const (
	// Iterations is the iteration counter k.
	Iterations XAxis = iota
	// Bits is the cumulative number of bits one worker has sent (SPEC §6:
	// 32 per transmitted value, indices not counted).
	Bits
	// Time is the wall-clock time since the first iteration (time_s).
	Time
)

// String names the axis as on the command line.
func (x XAxis) String() string {
	switch x {
	case Bits:
		return "bits"
	case Time:
		return "time"
	}
	return "iterations"
}

// ParseXAxes turns "iterations", "bits", "time", "both" (iterations and
// bits) or a comma-separated list ("iterations,time") into the panels of
// one row.
func ParseXAxes(s string) ([]XAxis, error) {
	if s == "both" || s == "" {
		return []XAxis{Iterations, Bits}, nil
	}
	var out []XAxis
	for _, part := range strings.Split(s, ",") {
		switch strings.TrimSpace(part) {
		case "iterations", "iteration", "iter":
			out = append(out, Iterations)
		case "bits":
			out = append(out, Bits)
		case "time", "time_s", "seconds":
			out = append(out, Time)
		default:
			return nil, fmt.Errorf("x axis %q: want iterations, bits, time, both, or a comma-separated list of them", s)
		}
	}
	return out, nil
}

// Series is one run's curve: ‖∇f‖² at each recorded iteration.
type Series struct {
	Label      string
	Iterations []float64
	Bits       []float64
	Time       []float64
	GradNormSq []float64
	// Lo and Hi, when set (by Aggregate), are the band drawn around the
	// curve: the smallest and largest ‖∇f‖² of the runs it stands for.
	Lo, Hi []float64
	// Runs is the number of runs an aggregated series stands for (0: one),
	// Over the attribute they differ in (e.g. "seed").
	Runs int
	Over string
	// Attrs are the run's root attributes (for labels and grouping).
	Attrs map[string]any
}

// FromRun extracts the curve of a recorded run. An empty label is replaced
// by runfile.Label(run.Attrs).
func FromRun(run *hdf5io.Run, label string) Series {
	if label == "" {
		label = runfile.Label(run.Attrs)
	}
	s := Series{Label: label, Attrs: run.Attrs, GradNormSq: append([]float64(nil), run.Floats["grad_norm_sq"]...)}
	for _, v := range run.Ints["iteration"] {
		s.Iterations = append(s.Iterations, float64(v))
	}
	for _, v := range run.Ints["bits_per_worker"] {
		s.Bits = append(s.Bits, float64(v))
	}
	s.Time = append([]float64(nil), run.Floats["time_s"]...)
	return s
}

// Row is one row of panels: the same runs drawn against each x axis.
type Row struct {
	// Title heads the row (e.g. "n = 4 ranks"); empty for none.
	Title  string
	Series []Series
}

// Figure is a grid of convergence panels: one row per Row, one column per
// XAxis, and one legend below them all. Series with the same label get the
// same style in every row.
type Figure struct {
	Title string
	Rows  []Row
	X     []XAxis
	// YLabel defaults to ‖∇f(xᵏ)‖².
	YLabel string
	// YMin and YMax fix the y range when positive (default: the data's
	// range, widened to whole decades). Lines are clipped to the range.
	YMin, YMax float64
	// Target, when positive, is drawn as a thin grey horizontal line (the
	// accuracy the runs are compared at), and every curve gets a ring where
	// it reaches the target under Criterion (runfile.First when empty); the
	// note names the criterion and the curves that never reach it.
	Target    float64
	Criterion runfile.Criterion
	// Note is drawn under the legend, after the notes the figure writes
	// itself: the aggregation of seeds (AggregateNote), the bit convention
	// when a panel shows bits, the target criterion.
	Note string
	// LogBits puts the bits axis on a log scale (for runs whose traffic
	// differs by orders of magnitude, e.g. compressed vs uncompressed);
	// LogTime does the same for the time axis. Points at 0 (iteration 0
	// has sent no bits with EF14) cannot be shown there and are left out.
	LogBits, LogTime bool
	// Style chooses colours and dash/marker by attributes (see StyleBy).
	Style StyleBy
	// SharedY gives every panel the same y range (the union of their
	// ranges), so rows can be compared by eye.
	SharedY bool
	// Width and Height of the whole figure; zero picks a size from the
	// number of panels.
	Width, Height vg.Length
	// DPI of PNG output (default 150).
	DPI int
}

// markersPerLine is how many markers a curve carries (spread along x).
const markersPerLine = 7

// Labels returns the distinct series labels in order of first appearance.
func (f *Figure) Labels() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range f.Rows {
		for _, s := range r.Series {
			if !seen[s.Label] {
				seen[s.Label] = true
				out = append(out, s.Label)
			}
		}
	}
	return out
}

func (f *Figure) size() (vg.Length, vg.Length) {
	w, h := f.Width, f.Height
	cols := max(1, len(f.X))
	rows := max(1, len(f.Rows))
	if w == 0 {
		w = vg.Length(cols) * 4.2 * vg.Inch
		// wide enough for the longest legend entry
		w = max(w, legendEntryWidth(f.Labels())+vg.Points(20))
	}
	if h == 0 {
		h = vg.Length(rows)*3.1*vg.Inch + f.legendHeight(w) + f.titleHeight() + f.noteHeight(w)
	}
	return w, h
}

const fontSize = 10

// legendEntryWidth is the width of the widest legend entry: thumbnail,
// gap and text.
func legendEntryWidth(labels []string) vg.Length {
	st := textStyle(vg.Points(fontSize))
	var w vg.Length
	for _, l := range labels {
		w = max(w, st.Width(l))
	}
	return w + vg.Points(34) + 3*vg.Points(fontSize*0.45) + vg.Points(8)
}

// legendColumns is how many legend entries share one line in a figure of
// the given width: as many as fit (at most one per panel, and 2 at least
// where they fit), never so many that an entry is clipped.
func (f *Figure) legendColumns(width vg.Length) int {
	labels := f.Labels()
	ew := legendEntryWidth(labels)
	cols := max(1, min(len(labels), max(2, len(f.X))))
	for cols > 1 && vg.Length(cols)*ew > width {
		cols--
	}
	return cols
}

func (f *Figure) legendHeight(width vg.Length) vg.Length {
	return legendHeight(len(f.Labels()), f.legendColumns(width))
}

func (f *Figure) titleHeight() vg.Length {
	if f.Title == "" {
		return 0
	}
	return vg.Points(fontSize * 2.4)
}

// Save writes the figure to path; the format follows the extension (png,
// svg, pdf, eps). The figure is written to a temporary file beside path and
// renamed, so a failure never leaves a partial or empty file.
func (f *Figure) Save(path string) error {
	return save(path, f.WriteTo)
}

// WriteTo renders the figure in the given format ("png", "svg", "pdf",
// "eps") to w.
func (f *Figure) WriteTo(w io.Writer, format string) (err error) {
	if len(f.Rows) == 0 || len(f.X) == 0 {
		return fmt.Errorf("plotting: nothing to draw (%d rows, %d x axes)", len(f.Rows), len(f.X))
	}
	// gonum/plot panics on some degenerate axes; a figure is never worth
	// a crash
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plotting: %v", r)
		}
	}()
	width, height := f.size()
	c, err := newCanvas(width, height, format, f.DPI)
	if err != nil {
		return err
	}
	f.draw(draw.New(c), width)
	_, err = c.WriteTo(w)
	return err
}

func newCanvas(w, h vg.Length, format string, dpi int) (vg.CanvasWriterTo, error) {
	if format == "png" {
		if dpi == 0 {
			dpi = 150
		}
		return vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))}, nil
	}
	return draw.NewFormattedCanvas(w, h, format)
}

// Styles assigns a style to every label of the figure, the same in every
// row and panel: by f.Style's attributes if set; else, when the runs differ
// in method and in compressor, colour by method and dash/marker by
// compressor; else one style per label, in order of first appearance.
func (f *Figure) Styles() map[string]Style {
	var labels []string
	var attrs []map[string]any
	for _, r := range f.Rows {
		for _, s := range r.Series {
			labels = append(labels, s.Label)
			attrs = append(attrs, s.Attrs)
		}
	}
	return f.Style.assign(labels, attrs)
}

func (f *Figure) draw(dc draw.Canvas, width vg.Length) {
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	styles := f.Styles()

	// title on top, legend at the bottom, panels in between
	if f.Title != "" {
		st := textStyle(vg.Points(fontSize + 2))
		st.XAlign = draw.XCenter
		st.YAlign = draw.YTop
		dc.FillText(st, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - vg.Points(4)}, f.Title)
		dc.Max.Y -= f.titleHeight()
	}
	if nh := f.noteHeight(width); nh > 0 {
		noteArea := dc
		noteArea.Max.Y = dc.Min.Y + nh
		f.drawNote(noteArea, width)
		dc.Min.Y += nh
	}
	lh := f.legendHeight(width)
	legendArea := dc
	legendArea.Max.Y = dc.Min.Y + lh
	dc.Min.Y += lh

	yr := f.yRanges()
	plots := make([][]*plot.Plot, len(f.Rows))
	for i, r := range f.Rows {
		plots[i] = make([]*plot.Plot, len(f.X))
		for j, x := range f.X {
			plots[i][j] = f.panel(r, x, styles, yr[i][j])
			if i < len(f.Rows)-1 {
				plots[i][j].X.Label.Text = "" // one x label per column, under the last row
			}
		}
	}
	tiles := draw.Tiles{Rows: len(f.Rows), Cols: len(f.X), PadX: vg.Points(14), PadY: vg.Points(22),
		PadTop: vg.Points(2), PadRight: vg.Points(8), PadLeft: vg.Points(2)}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		for j := range plots[i] {
			plots[i][j].Draw(canvases[i][j])
		}
	}
	drawLegend(legendArea, f.Labels(), styles, f.legendColumns(width), f.banded())
}

// banded reports which labels are drawn with a band (aggregated series).
func (f *Figure) banded() map[string]bool {
	out := map[string]bool{}
	for _, r := range f.Rows {
		for _, s := range r.Series {
			if s.Lo != nil {
				out[s.Label] = true
			}
		}
	}
	return out
}

// legendHeight is the height of a legend of n entries in cols columns.
func legendHeight(n, cols int) vg.Length {
	lines := (n + cols - 1) / cols
	return vg.Length(lines)*vg.Points(fontSize*1.6) + vg.Points(10)
}

// drawLegend draws labelled line+marker samples in cols columns, each
// block centred in its column, from the top of c down.
func drawLegend(c draw.Canvas, labels []string, styles map[string]Style, cols int, banded map[string]bool) {
	perCol := (len(labels) + cols - 1) / cols
	colW := (c.Max.X - c.Min.X) / vg.Length(cols)
	for col := 0; col < cols; col++ {
		lo, hi := col*perCol, min(len(labels), (col+1)*perCol)
		if lo >= hi {
			break
		}
		leg := plot.NewLegend()
		leg.TextStyle = textStyle(vg.Points(fontSize))
		leg.Left = true
		leg.Top = true
		leg.ThumbnailWidth = vg.Points(34)
		leg.Padding = vg.Points(fontSize * 0.45)
		for _, l := range labels[lo:hi] {
			thumbs := legendThumbs(styles[l])
			if banded[l] {
				thumbs = append([]plot.Thumbnailer{bandThumb{styles[l]}}, thumbs...)
			}
			leg.Add(l, thumbs...)
		}
		sub := c
		sub.Min.X = c.Min.X + vg.Length(col)*colW
		sub.Max.X = sub.Min.X + colW
		// centre the block of entries inside its column
		r := leg.Rectangle(sub)
		shift := max(0, ((sub.Max.X-sub.Min.X)-(r.Max.X-r.Min.X))/2)
		sub.Min.X += shift
		sub.Max.X = sub.Min.X + (r.Max.X - r.Min.X)
		sub.Max.Y -= vg.Points(4)
		leg.Draw(sub)
	}
}

// bandThumb is the legend sample of a band: a light rectangle.
type bandThumb struct{ st Style }

// Thumbnail implements plot.Thumbnailer.
func (b bandThumb) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y}}
	c.FillPolygon(bandColor(b.st.Color), c.ClipPolygonXY(pts))
}

// bandColor is a translucent version of a line colour.
func bandColor(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 56} // 22 % opaque
}

func legendThumbs(st Style) []plot.Thumbnailer {
	line := &plotter.Line{LineStyle: lineStyle(st)}
	pts := &plotter.Scatter{GlyphStyle: glyphStyle(st)}
	return []plot.Thumbnailer{line, pts}
}

func lineStyle(st Style) draw.LineStyle {
	w := st.Width
	if w == 0 {
		w = vg.Points(1.4)
	}
	return draw.LineStyle{Color: st.Color, Width: w, Dashes: st.Dashes}
}

func glyphStyle(st Style) draw.GlyphStyle {
	return draw.GlyphStyle{Color: st.Color, Radius: vg.Points(3), Shape: st.Glyph}
}

// xValues returns a series' x coordinates for an axis.
func (s Series) xValues(x XAxis) []float64 {
	switch x {
	case Bits:
		return s.Bits
	case Time:
		return s.Time
	}
	return s.Iterations
}

// logX reports whether the panel of axis x has a log scale.
func (f *Figure) logX(x XAxis) bool {
	return (x == Bits && f.LogBits) || (x == Time && f.LogTime)
}

// finitePoints keeps the points that the axes can show: finite values,
// y > 0 (log axis), and x > 0 when the x axis is logarithmic.
func finitePoints(xs, ys []float64, logX bool) plotter.XYs {
	var pts plotter.XYs
	for i := range min(len(xs), len(ys)) {
		x, y := xs[i], ys[i]
		if y > 0 && !math.IsInf(y, 0) && !math.IsNaN(y) && !math.IsNaN(x) && !math.IsInf(x, 0) && (!logX || x > 0) {
			pts = append(pts, plotter.XY{X: x, Y: y})
		}
	}
	return pts
}

// markerPoints picks about markersPerLine points spread evenly in x, shifted
// by a per-series phase so markers of different lines do not sit on top of
// each other.
func markerPoints(pts plotter.XYs, xmin, xmax float64, phase float64, logX bool) plotter.XYs {
	if len(pts) == 0 || xmax <= xmin {
		return pts
	}
	tr := func(v float64) float64 { return v }
	if logX {
		tr = math.Log10
	}
	lo, hi := tr(xmin), tr(xmax)
	var out plotter.XYs
	j := 0
	for m := 0; m < markersPerLine; m++ {
		target := lo + (float64(m)+0.25+0.5*phase)/markersPerLine*(hi-lo)
		for j < len(pts)-1 && tr(pts[j].X) < target {
			j++
		}
		if tr(pts[j].X) < target || (len(out) > 0 && out[len(out)-1] == pts[j]) {
			continue
		}
		out = append(out, pts[j])
	}
	return out
}

// yRange is a panel's y range (decades); zero when the panel has no points.
type yRange struct{ lo, hi float64 }

// yRanges is the y range of every panel: from its own points, or with
// SharedY the union over all panels; Target and YMin/YMax widen or fix it.
func (f *Figure) yRanges() [][]yRange {
	out := make([][]yRange, len(f.Rows))
	all := yRange{math.Inf(1), math.Inf(-1)}
	for i, r := range f.Rows {
		out[i] = make([]yRange, len(f.X))
		for j, x := range f.X {
			yr := yRange{math.Inf(1), math.Inf(-1)}
			for _, s := range r.Series {
				for _, ys := range [][]float64{s.GradNormSq, s.Lo, s.Hi} {
					for _, pt := range finitePoints(s.xValues(x), ys, f.logX(x)) {
						yr.lo, yr.hi = math.Min(yr.lo, pt.Y), math.Max(yr.hi, pt.Y)
					}
				}
			}
			out[i][j] = yr
			all.lo, all.hi = math.Min(all.lo, yr.lo), math.Max(all.hi, yr.hi)
		}
	}
	for i := range out {
		for j := range out[i] {
			yr := out[i][j]
			if f.SharedY {
				yr = all
			}
			if math.IsInf(yr.lo, 0) {
				yr = yRange{1e-3, 1} // no points: any decade range, for the axis to draw
			}
			// whole decades, so the log ticks have labels at both ends
			yr.lo = math.Pow(10, math.Floor(math.Log10(yr.lo)))
			yr.hi = math.Pow(10, math.Ceil(math.Log10(yr.hi)))
			if yr.hi <= yr.lo {
				yr.hi = yr.lo * 10
			}
			if f.Target > 0 {
				yr.lo = math.Min(yr.lo, math.Pow(10, math.Floor(math.Log10(f.Target))))
			}
			if f.YMin > 0 {
				yr.lo = f.YMin
			}
			if f.YMax > 0 {
				yr.hi = f.YMax
			}
			out[i][j] = yr
		}
	}
	return out
}

// panel draws one row's series against one x axis.
func (f *Figure) panel(r Row, x XAxis, styles map[string]Style, yr yRange) *plot.Plot {
	p := plot.New()
	p.TextHandler = handler()
	setFont(&p.X.Label.TextStyle, vg.Points(fontSize))
	setFont(&p.Y.Label.TextStyle, vg.Points(fontSize))
	setFont(&p.X.Tick.Label, vg.Points(fontSize-1))
	setFont(&p.Y.Tick.Label, vg.Points(fontSize-1))
	setFont(&p.Title.TextStyle, vg.Points(fontSize))
	logX := f.logX(x)
	switch x {
	case Bits:
		p.X.Label.Text = "bits sent per worker"
	case Time:
		p.X.Label.Text = "wall-clock time (s)"
	default:
		p.X.Label.Text = "iteration k"
	}
	p.X.Tick.Marker = siTicks{}
	if logX {
		p.X.Label.Text += " (log scale)"
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, logTicks{}
	}
	p.Y.Label.Text = f.YLabel
	if p.Y.Label.Text == "" {
		p.Y.Label.Text = "‖∇f(xᵏ)‖²"
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	if r.Title != "" {
		p.Title.Text = r.Title
	}
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 225}
	grid.Horizontal.Color = color.Gray{Y: 225}
	grid.Vertical.Dashes = nil
	p.Add(grid)

	xmin, xmax := math.Inf(1), math.Inf(-1)
	var lines []plotter.XYs
	for _, s := range r.Series {
		pts := finitePoints(s.xValues(x), s.GradNormSq, logX)
		lines = append(lines, pts)
		for _, pt := range pts {
			xmin, xmax = math.Min(xmin, pt.X), math.Max(xmax, pt.X)
		}
	}
	p.Y.Min, p.Y.Max = yr.lo, yr.hi
	switch {
	case math.IsInf(xmin, 0): // nothing to show: an empty, valid axis
		p.X.Min, p.X.Max = 0, 1
		if logX {
			p.X.Min, p.X.Max = 1, 10
		}
	case logX:
		p.X.Min, p.X.Max = xmin, xmax
		if xmax <= xmin {
			p.X.Min, p.X.Max = xmin/2, xmin*2
		}
	default:
		p.X.Min, p.X.Max = math.Min(0, xmin), xmax
		if p.X.Max <= p.X.Min {
			p.X.Max = p.X.Min + 1
		}
	}
	if f.Target > 0 && !math.IsInf(xmin, 0) {
		if tl, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: f.Target}, {X: p.X.Max, Y: f.Target}}); err == nil {
			tl.LineStyle = draw.LineStyle{Color: color.Gray{Y: 110}, Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(1), vg.Points(2.5)}}
			p.Add(tl)
			lbl, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: p.X.Max, Y: f.Target}}, Labels: []string{"target"}})
			if err == nil {
				for i := range lbl.TextStyle {
					setFont(&lbl.TextStyle[i], vg.Points(fontSize-2))
					lbl.TextStyle[i].Color = color.Gray{Y: 90}
					lbl.TextStyle[i].XAlign = draw.XRight
				}
				lbl.Offset = vg.Point{X: -vg.Points(2), Y: vg.Points(2)}
				p.Add(lbl)
			}
		}
	}
	// bands first, under every line
	for _, s := range r.Series {
		if s.Lo == nil {
			continue
		}
		if poly := bandPolygon(s, x, logX, yr); poly != nil {
			poly.Color = bandColor(styles[s.Label].Color)
			poly.LineStyle.Width = 0
			p.Add(poly)
		}
	}
	for i, s := range r.Series {
		pts := lines[i]
		if len(pts) == 0 {
			continue
		}
		st := styles[s.Label]
		l, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		l.LineStyle = lineStyle(st)
		p.Add(l)
		var marks plotter.XYs
		for _, m := range markerPoints(pts, pts[0].X, pts[len(pts)-1].X, float64(i%5)/5, logX) {
			if m.Y >= p.Y.Min && m.Y <= p.Y.Max { // scatter glyphs are not clipped
				marks = append(marks, m)
			}
		}
		if sc, err := plotter.NewScatter(marks); err == nil && len(marks) > 0 {
			sc.GlyphStyle = glyphStyle(st)
			p.Add(sc)
		}
		if pt, ok := f.reachPoint(s, x); ok && pt.Y >= p.Y.Min && pt.Y <= p.Y.Max {
			if sc, err := plotter.NewScatter(plotter.XYs{pt}); err == nil {
				sc.GlyphStyle = draw.GlyphStyle{Color: st.Color, Radius: vg.Points(5.5), Shape: draw.RingGlyph{}}
				p.Add(sc)
			}
		}
	}
	return p
}

// criterion is the figure's target criterion (runfile.First by default).
func (f *Figure) criterion() runfile.Criterion {
	if f.Criterion == "" {
		return runfile.First
	}
	return f.Criterion
}

// reachPoint is where a series reaches the target on axis x: the row
// runfile.ReachRow picks on the curve drawn (for an aggregated series, its
// median curve, as the tables of `summarize` and `sweep` do).
func (f *Figure) reachPoint(s Series, x XAxis) (plotter.XY, bool) {
	if f.Target <= 0 {
		return plotter.XY{}, false
	}
	i := runfile.ReachRow(s.GradNormSq, f.Target, f.criterion())
	xs := s.xValues(x)
	if i < 0 || i >= len(xs) || math.IsNaN(xs[i]) || (f.logX(x) && xs[i] <= 0) {
		return plotter.XY{}, false
	}
	return plotter.XY{X: xs[i], Y: s.GradNormSq[i]}, true
}

// Notes returns the sentences drawn under the legend: the aggregation of
// runs, the bit convention when a panel shows bits, the target criterion
// with the curves that never reach the target, and Note.
func (f *Figure) Notes() []string {
	var all []Series
	for _, r := range f.Rows {
		all = append(all, r.Series...)
	}
	var out []string
	if n := AggregateNote(all); n != "" {
		out = append(out, n)
	}
	if slices.Contains(f.X, Bits) {
		n := "Bits per worker: cumulative uplink of one worker, 32 bits per transmitted value (d values at initialisation), indices not counted"
		if slices.ContainsFunc(all, func(s Series) bool { return s.Attrs["compressor"] == "sign" }) {
			n += "; sign: 32 + d bits per message"
		}
		out = append(out, n+".")
	}
	if f.Target > 0 {
		n := fmt.Sprintf("Target ‖∇f‖² ≤ %g, criterion %s (%s): ○ marks where a curve reaches it", f.Target, f.criterion(), f.criterion().Describe())
		// per label, the rows (titles) where its curve never reaches T;
		// the rows are named unless it never reaches T in any row
		var order []string
		missed, rows := map[string][]string{}, map[string]int{}
		for _, r := range f.Rows {
			for _, s := range r.Series {
				if _, ok := rows[s.Label]; !ok {
					order = append(order, s.Label)
				}
				rows[s.Label]++
				if runfile.ReachRow(s.GradNormSq, f.Target, f.criterion()) < 0 {
					missed[s.Label] = append(missed[s.Label], r.Title)
				}
			}
		}
		var never []string
		for _, l := range order {
			switch m := missed[l]; {
			case len(m) == 0:
			case len(m) == rows[l] || slices.Contains(m, ""):
				never = append(never, l)
			default:
				never = append(never, l+" ("+strings.Join(m, ", ")+")")
			}
		}
		if len(never) > 0 {
			n += "; never reached by " + strings.Join(never, ", ")
		}
		out = append(out, n+".")
	}
	if f.Note != "" {
		out = append(out, f.Note)
	}
	return out
}

// noteLines wraps the notes to the figure's width.
func (f *Figure) noteLines(width vg.Length) []string {
	st := textStyle(vg.Points(fontSize - 1))
	avail := width - vg.Points(16)
	var lines []string
	for _, n := range f.Notes() {
		for _, para := range strings.Split(n, "\n") {
			line := ""
			for _, w := range strings.Fields(para) {
				try := w
				if line != "" {
					try = line + " " + w
				}
				if line != "" && st.Width(try) > avail {
					lines = append(lines, line)
					try = w
				}
				line = try
			}
			if line != "" {
				lines = append(lines, line)
			}
		}
	}
	return lines
}

func (f *Figure) noteHeight(width vg.Length) vg.Length {
	n := len(f.noteLines(width))
	if n == 0 {
		return 0
	}
	return vg.Length(n)*vg.Points((fontSize-1)*1.45) + vg.Points(6)
}

func (f *Figure) drawNote(c draw.Canvas, width vg.Length) {
	st := textStyle(vg.Points(fontSize - 1))
	st.Color = color.Gray{Y: 60}
	st.XAlign = draw.XLeft
	st.YAlign = draw.YTop
	y := c.Max.Y
	for _, l := range f.noteLines(width) {
		c.FillText(st, vg.Point{X: c.Min.X + vg.Points(8), Y: y}, l)
		y -= vg.Points((fontSize - 1) * 1.45)
	}
}

// WideBits reports whether the runs' traffic differs by orders of
// magnitude: the largest final bits per worker is at least 100 times the
// smallest positive one. Then a linear bits axis squeezes the compressed
// runs against 0, and `efmpi plot` defaults to a log scale.
func WideBits(series []Series) bool {
	lo, hi := math.Inf(1), 0.0
	for _, s := range series {
		for i := len(s.Bits) - 1; i >= 0; i-- {
			if b := s.Bits[i]; b > 0 && !math.IsInf(b, 0) {
				lo, hi = math.Min(lo, b), math.Max(hi, b)
				break
			}
		}
	}
	return hi > 0 && hi >= 100*lo
}

// bandPolygon is the region between Lo and Hi of an aggregated series
// (points the axes cannot show left out; values clamped to the y range).
func bandPolygon(s Series, x XAxis, logX bool, yr yRange) *plotter.Polygon {
	xs := s.xValues(x)
	var upper, lower plotter.XYs
	for i := range min(len(xs), len(s.Lo), len(s.Hi)) {
		lo, hi := s.Lo[i], s.Hi[i]
		if math.IsNaN(xs[i]) || math.IsInf(xs[i], 0) || (logX && xs[i] <= 0) || math.IsNaN(lo) || math.IsNaN(hi) || hi <= 0 {
			continue
		}
		lo = math.Min(math.Max(lo, yr.lo), yr.hi)
		hi = math.Min(math.Max(hi, yr.lo), yr.hi)
		upper = append(upper, plotter.XY{X: xs[i], Y: hi})
		lower = append(lower, plotter.XY{X: xs[i], Y: lo})
	}
	if len(upper) < 2 {
		return nil
	}
	ring := append(plotter.XYs{}, upper...)
	for i := len(lower) - 1; i >= 0; i-- {
		ring = append(ring, lower[i])
	}
	poly, err := plotter.NewPolygon(ring)
	if err != nil {
		return nil
	}
	return poly
}

// save writes a figure to path with write, the format following the
// extension: into a temporary file in the same directory, renamed over path
// once complete, so a failure leaves neither a partial nor an empty file.
func save(path string, write func(w io.Writer, format string) error) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	if err := write(tmp, format); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
