package plotting

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Curve is one line of an XYFigure: points (X[i], Y[i]); a NaN Y is a
// missing value (e.g. "target never reached") and breaks nothing: the
// point is left out and listed in the figure's note.
type Curve struct {
	Label string
	X, Y  []float64
}

// XYFigure is a single panel of lines with markers at every point, for
// tables such as a sweep's (iterations to target against K, one line per γ0).
type XYFigure struct {
	Title, XLabel, YLabel string
	LogX, LogY            bool
	Curves                []Curve
	// Note is printed under the legend (e.g. which points never reached the
	// target); lines break at "\n".
	Note string
	// YRef, when positive, is drawn as a thin grey horizontal line labelled
	// YRefLabel (e.g. the target accuracy).
	YRef          float64
	YRefLabel     string
	Width, Height vg.Length
	DPI           int
	// Method, when it names a method of one fixed colour (MethodColor),
	// draws every curve in that colour, told apart by dash and marker: the
	// lines of a sweep of one method (one per γ0) keep the method's colour.
	Method string
}

// Save writes the figure to path, the format following the extension.
func (f *XYFigure) Save(path string) error {
	return save(path, f.WriteTo)
}

// WriteTo renders the figure in the given format to w.
func (f *XYFigure) WriteTo(w io.Writer, format string) error {
	if len(f.Curves) == 0 {
		return fmt.Errorf("plotting: no curves to draw")
	}
	width, height := f.Width, f.Height
	if width == 0 {
		width = 5.5 * vg.Inch
	}
	if height == 0 {
		height = 4 * vg.Inch
	}
	c, err := newCanvas(width, height, format, f.DPI)
	if err != nil {
		return err
	}
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	dc.Max.Y -= vg.Points(4) // keep the title off the edge

	p := plot.New()
	p.TextHandler = handler()
	p.Title.Text = f.Title
	setFont(&p.Title.TextStyle, vg.Points(fontSize+1))
	// The y label is drawn here, not by gonum/plot: on a log axis gonum/plot
	// reserves room for it as if it were centred on the arithmetic midpoint
	// of the range, which leaves a gap above the panel.
	p.X.Label.Text = f.XLabel
	setFont(&p.X.Label.TextStyle, vg.Points(fontSize))
	setFont(&p.Y.Label.TextStyle, vg.Points(fontSize))
	setFont(&p.X.Tick.Label, vg.Points(fontSize-1))
	setFont(&p.Y.Tick.Label, vg.Points(fontSize-1))
	p.X.Tick.Marker, p.Y.Tick.Marker = siTicks{}, siTicks{}
	if f.LogX {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, logTicks{}
	}
	if f.LogY {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, logTicks{}
	}
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 225}
	grid.Horizontal.Color = color.Gray{Y: 225}
	p.Add(grid)
	setFont(&p.Legend.TextStyle, vg.Points(fontSize-1))
	p.Legend.Top = true
	p.Legend.ThumbnailWidth = vg.Points(30)
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	styles := map[string]Style{}
	var labels []string
	for i, cv := range f.Curves {
		var pts plotter.XYs
		for j := range min(len(cv.X), len(cv.Y)) {
			x, y := cv.X[j], cv.Y[j]
			if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) ||
				(f.LogX && x <= 0) || (f.LogY && y <= 0) {
				continue
			}
			pts = append(pts, plotter.XY{X: x, Y: y})
			xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
			ymin, ymax = math.Min(ymin, y), math.Max(ymax, y)
		}
		st := StyleAt(i)
		if c, ok := MethodColor(f.Method); ok {
			st.Color = c
		}
		styles[cv.Label] = st
		labels = append(labels, cv.Label)
		if line, scatter, err := plotter.NewLinePoints(pts); err == nil && len(pts) > 0 {
			line.LineStyle = lineStyle(st)
			scatter.GlyphStyle = glyphStyle(st)
			p.Add(line, scatter)
		}
	}
	if f.YRef > 0 && !(f.LogY && f.YRef <= 0) {
		ymin, ymax = math.Min(ymin, f.YRef), math.Max(ymax, f.YRef)
	}
	if !math.IsInf(ymin, 0) && f.LogY {
		p.Y.Min = math.Pow(10, math.Floor(math.Log10(ymin)))
		p.Y.Max = math.Pow(10, math.Ceil(math.Log10(ymax)))
	} else if !math.IsInf(ymin, 0) {
		p.Y.Min = math.Min(0, ymin)
		p.Y.Max = ymax + 0.05*(ymax-p.Y.Min)
	}
	if !math.IsInf(xmin, 0) && !f.LogX {
		p.X.Min, p.X.Max = math.Min(0, xmin), xmax*1.03
	} else if !math.IsInf(xmin, 0) {
		p.X.Min, p.X.Max = xmin/1.2, xmax*1.2 // room for the end markers
	}
	if f.YRef > 0 && !math.IsInf(xmin, 0) {
		lo, hi := p.X.Min, p.X.Max
		if f.LogX {
			lo, hi = xmin, xmax
		}
		if tl, err := plotter.NewLine(plotter.XYs{{X: lo, Y: f.YRef}, {X: hi, Y: f.YRef}}); err == nil {
			tl.LineStyle = draw.LineStyle{Color: color.Gray{Y: 110}, Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(1), vg.Points(2.5)}}
			p.Add(tl)
			if f.YRefLabel != "" {
				if lbl, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: hi, Y: f.YRef}}, Labels: []string{f.YRefLabel}}); err == nil {
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
	}
	if f.Note != "" {
		st := textStyle(vg.Points(fontSize - 1))
		lines := strings.Split(f.Note, "\n")
		h := vg.Length(len(lines)) * vg.Points((fontSize-1)*1.4)
		for i, l := range lines {
			dc.FillText(st, vg.Point{X: dc.Min.X + vg.Points(6), Y: dc.Min.Y + h - vg.Length(i+1)*vg.Points((fontSize-1)*1.4) + vg.Points(3)}, l)
		}
		dc.Min.Y += h + vg.Points(4)
	}
	cols := 2
	if len(labels) <= 2 {
		cols = len(labels)
	}
	lh := legendHeight(len(labels), cols)
	legendArea := dc
	legendArea.Max.Y = dc.Min.Y + lh
	drawLegend(legendArea, labels, styles, cols, nil)
	dc.Min.Y += lh
	if f.YLabel != "" {
		st := textStyle(vg.Points(fontSize))
		st.Rotation = math.Pi / 2
		st.XAlign, st.YAlign = draw.XCenter, draw.YTop
		dc.FillText(st, vg.Point{X: dc.Min.X + vg.Points(2), Y: (dc.Min.Y + dc.Max.Y) / 2}, f.YLabel)
		dc.Min.X += st.Height(f.YLabel) + vg.Points(6)
	}
	p.Draw(dc)
	_, err = c.WriteTo(w)
	return err
}
