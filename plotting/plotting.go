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
)

// String names the axis as on the command line.
func (x XAxis) String() string {
	if x == Bits {
		return "bits"
	}
	return "iterations"
}

// ParseXAxes turns "iterations", "bits" or "both" into the panels of one row.
func ParseXAxes(s string) ([]XAxis, error) {
	switch s {
	case "iterations", "iteration", "iter":
		return []XAxis{Iterations}, nil
	case "bits":
		return []XAxis{Bits}, nil
	case "both", "":
		return []XAxis{Iterations, Bits}, nil
	}
	return nil, fmt.Errorf("x axis %q: want iterations, bits or both", s)
}

// Series is one run's curve: ‖∇f‖² at each recorded iteration.
type Series struct {
	Label      string
	Iterations []float64
	Bits       []float64
	GradNormSq []float64
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
	// accuracy the runs are compared at).
	Target float64
	// LogBits puts the bits axis on a log scale (for runs whose traffic
	// differs by orders of magnitude, e.g. compressed vs uncompressed).
	LogBits bool
	// Width and Height of the whole figure; zero picks a size from the
	// number of panels.
	Width, Height vg.Length
	// DPI of PNG output (default 150).
	DPI int
}

// Style is how one labelled curve is drawn.
type Style struct {
	Color  color.Color
	Dashes []vg.Length
	Glyph  draw.GlyphDrawer
}

// palette is Okabe & Ito's colour-blind-safe set (yellow left out: too faint
// on white), led by black.
var palette = []color.Color{
	color.RGBA{0, 0, 0, 255},
	color.RGBA{0xD5, 0x5E, 0x00, 255}, // vermillion
	color.RGBA{0x00, 0x72, 0xB2, 255}, // blue
	color.RGBA{0x00, 0x9E, 0x73, 255}, // bluish green
	color.RGBA{0xCC, 0x79, 0xA7, 255}, // reddish purple
	color.RGBA{0xE6, 0x9F, 0x00, 255}, // orange
	color.RGBA{0x56, 0xB4, 0xE9, 255}, // sky blue
}

var dashes = [][]vg.Length{
	nil,
	{vg.Points(6), vg.Points(3)},
	{vg.Points(1.5), vg.Points(2)},
	{vg.Points(8), vg.Points(3), vg.Points(1.5), vg.Points(3)},
	{vg.Points(3), vg.Points(3)},
	{vg.Points(10), vg.Points(4)},
	{vg.Points(4), vg.Points(2), vg.Points(1.5), vg.Points(2), vg.Points(1.5), vg.Points(2)},
}

var glyphs = []draw.GlyphDrawer{
	draw.CircleGlyph{}, draw.BoxGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{},
	draw.RingGlyph{}, draw.PlusGlyph{}, draw.SquareGlyph{}, draw.PyramidGlyph{},
}

// StyleAt returns the i-th style: colour, dash pattern and marker all change
// together, and no two of the first 7·8 styles share all three.
func StyleAt(i int) Style {
	return Style{Color: palette[i%len(palette)], Dashes: dashes[i%len(dashes)], Glyph: glyphs[i%len(glyphs)]}
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
	}
	if h == 0 {
		h = vg.Length(rows)*3.1*vg.Inch + f.legendHeight() + f.titleHeight()
	}
	return w, h
}

const fontSize = 10

// legendColumns is how many legend entries share one line.
func (f *Figure) legendColumns() int {
	if len(f.X) >= 2 {
		return 2
	}
	return 1
}

func (f *Figure) legendHeight() vg.Length {
	return legendHeight(len(f.Labels()), f.legendColumns())
}

func (f *Figure) titleHeight() vg.Length {
	if f.Title == "" {
		return 0
	}
	return vg.Points(fontSize * 2.4)
}

// Save writes the figure to path; the format follows the extension (png,
// svg, pdf, eps).
func (f *Figure) Save(path string) error {
	return save(path, f.WriteTo)
}

// WriteTo renders the figure in the given format ("png", "svg", "pdf",
// "eps") to w.
func (f *Figure) WriteTo(w io.Writer, format string) error {
	if len(f.Rows) == 0 || len(f.X) == 0 {
		return fmt.Errorf("plotting: nothing to draw (%d rows, %d x axes)", len(f.Rows), len(f.X))
	}
	width, height := f.size()
	c, err := newCanvas(width, height, format, f.DPI)
	if err != nil {
		return err
	}
	f.draw(draw.New(c))
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

// styles assigns a style to every label, in order of first appearance.
func (f *Figure) styles() map[string]Style {
	m := map[string]Style{}
	for i, l := range f.Labels() {
		m[l] = StyleAt(i)
	}
	return m
}

func (f *Figure) draw(dc draw.Canvas) {
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	styles := f.styles()

	// title on top, legend at the bottom, panels in between
	if f.Title != "" {
		st := textStyle(vg.Points(fontSize + 2))
		st.XAlign = draw.XCenter
		st.YAlign = draw.YTop
		dc.FillText(st, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - vg.Points(4)}, f.Title)
		dc.Max.Y -= f.titleHeight()
	}
	legendArea := dc
	legendArea.Max.Y = dc.Min.Y + f.legendHeight()
	dc.Min.Y += f.legendHeight()

	plots := make([][]*plot.Plot, len(f.Rows))
	for i, r := range f.Rows {
		plots[i] = make([]*plot.Plot, len(f.X))
		for j, x := range f.X {
			plots[i][j] = f.panel(r, x, styles)
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
	f.drawLegend(legendArea, styles)
}

// drawLegend lays the entries out in columns, centred under the panels.
func (f *Figure) drawLegend(c draw.Canvas, styles map[string]Style) {
	drawLegend(c, f.Labels(), styles, f.legendColumns())
}

// legendHeight is the height of a legend of n entries in cols columns.
func legendHeight(n, cols int) vg.Length {
	lines := (n + cols - 1) / cols
	return vg.Length(lines)*vg.Points(fontSize*1.6) + vg.Points(10)
}

// drawLegend draws labelled line+marker samples in cols columns, each
// block centred in its column, from the top of c down.
func drawLegend(c draw.Canvas, labels []string, styles map[string]Style, cols int) {
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
			line, pts := legendThumbs(styles[l])
			leg.Add(l, line, pts)
		}
		sub := c
		sub.Min.X = c.Min.X + vg.Length(col)*colW
		sub.Max.X = sub.Min.X + colW
		// centre the block of entries inside its column
		r := leg.Rectangle(sub)
		shift := ((sub.Max.X - sub.Min.X) - (r.Max.X - r.Min.X)) / 2
		sub.Min.X += shift
		sub.Max.X = sub.Min.X + (r.Max.X - r.Min.X)
		sub.Max.Y -= vg.Points(4)
		leg.Draw(sub)
	}
}

func legendThumbs(st Style) (plot.Thumbnailer, plot.Thumbnailer) {
	line := &plotter.Line{LineStyle: lineStyle(st)}
	pts := &plotter.Scatter{GlyphStyle: glyphStyle(st)}
	return line, pts
}

func lineStyle(st Style) draw.LineStyle {
	return draw.LineStyle{Color: st.Color, Width: vg.Points(1.4), Dashes: st.Dashes}
}

func glyphStyle(st Style) draw.GlyphStyle {
	return draw.GlyphStyle{Color: st.Color, Radius: vg.Points(3), Shape: st.Glyph}
}

// xValues returns a series' x coordinates for an axis.
func (s Series) xValues(x XAxis) []float64 {
	if x == Bits {
		return s.Bits
	}
	return s.Iterations
}

// finitePoints keeps the points that a log y axis can show.
func finitePoints(xs, ys []float64) plotter.XYs {
	var pts plotter.XYs
	for i := range min(len(xs), len(ys)) {
		if y := ys[i]; y > 0 && !math.IsInf(y, 0) && !math.IsNaN(y) && !math.IsNaN(xs[i]) {
			pts = append(pts, plotter.XY{X: xs[i], Y: y})
		}
	}
	return pts
}

// markerPoints picks about markersPerLine points spread evenly in x, shifted
// by a per-series phase so markers of different lines do not sit on top of
// each other.
func markerPoints(pts plotter.XYs, xmin, xmax float64, phase float64) plotter.XYs {
	if len(pts) == 0 || xmax <= xmin {
		return pts
	}
	var out plotter.XYs
	j := 0
	for m := 0; m < markersPerLine; m++ {
		target := xmin + (float64(m)+0.25+0.5*phase)/markersPerLine*(xmax-xmin)
		for j < len(pts)-1 && pts[j].X < target {
			j++
		}
		if pts[j].X < target || (len(out) > 0 && out[len(out)-1] == pts[j]) {
			continue
		}
		out = append(out, pts[j])
	}
	return out
}

// panel draws one row's series against one x axis.
func (f *Figure) panel(r Row, x XAxis, styles map[string]Style) *plot.Plot {
	p := plot.New()
	p.TextHandler = handler()
	setFont(&p.X.Label.TextStyle, vg.Points(fontSize))
	setFont(&p.Y.Label.TextStyle, vg.Points(fontSize))
	setFont(&p.X.Tick.Label, vg.Points(fontSize-1))
	setFont(&p.Y.Tick.Label, vg.Points(fontSize-1))
	setFont(&p.Title.TextStyle, vg.Points(fontSize))
	if x == Bits {
		p.X.Label.Text = "bits sent per worker"
		p.X.Tick.Marker = siTicks{}
		if f.LogBits {
			p.X.Label.Text += " (log scale)"
			p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, logTicks{}
		}
	} else {
		p.X.Label.Text = "iteration k"
		p.X.Tick.Marker = siTicks{}
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
	ymin, ymax := math.Inf(1), math.Inf(-1)
	var lines []plotter.XYs
	for _, s := range r.Series {
		pts := finitePoints(s.xValues(x), s.GradNormSq)
		lines = append(lines, pts)
		for _, pt := range pts {
			xmin, xmax = math.Min(xmin, pt.X), math.Max(xmax, pt.X)
			ymin, ymax = math.Min(ymin, pt.Y), math.Max(ymax, pt.Y)
		}
	}
	if !math.IsInf(ymin, 0) {
		// whole decades, so the log ticks have labels at both ends
		p.Y.Min = math.Pow(10, math.Floor(math.Log10(ymin)))
		p.Y.Max = math.Pow(10, math.Ceil(math.Log10(ymax)))
		p.X.Min, p.X.Max = math.Min(0, xmin), xmax
		if x == Bits && f.LogBits {
			p.X.Min = xmin
		}
	}
	if f.Target > 0 {
		p.Y.Min = math.Min(p.Y.Min, math.Pow(10, math.Floor(math.Log10(f.Target))))
	}
	if f.YMin > 0 {
		p.Y.Min = f.YMin
	}
	if f.YMax > 0 {
		p.Y.Max = f.YMax
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
		for _, m := range markerPoints(pts, pts[0].X, pts[len(pts)-1].X, float64(i%4)/4) {
			if m.Y >= p.Y.Min && m.Y <= p.Y.Max { // scatter glyphs are not clipped
				marks = append(marks, m)
			}
		}
		if sc, err := plotter.NewScatter(marks); err == nil && len(marks) > 0 {
			sc.GlyphStyle = glyphStyle(st)
			p.Add(sc)
		}
	}
	return p
}

// save writes a figure to path with write, the format following the
// extension; a failed write leaves no partial file behind.
func save(path string, write func(w io.Writer, format string) error) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(out, format); err != nil {
		out.Close()
		os.Remove(path)
		return err
	}
	return out.Close()
}
