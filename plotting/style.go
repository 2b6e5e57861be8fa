package plotting

import (
	"fmt"
	"image/color"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/efmpi/efmpi/runfile"
)

// Style is how one labelled curve is drawn.
type Style struct {
	Color  color.Color
	Dashes []vg.Length
	Glyph  draw.GlyphDrawer
	// Width of the line (0: the default 1.4 pt). When colour follows an
	// attribute, earlier colours get wider lines, so a curve drawn over
	// another of a different colour leaves a visible rim around it.
	Width vg.Length
}

// palette holds 12 colours safe for the common colour-vision deficiencies:
// Okabe & Ito's set led by black (their yellow left out: too faint on
// white), then Paul Tol's "muted" indigo, wine, olive, teal and rose, which
// stay apart from them.
var palette = []color.Color{
	color.RGBA{0x00, 0x00, 0x00, 255}, // black
	color.RGBA{0xD5, 0x5E, 0x00, 255}, // vermillion
	color.RGBA{0x00, 0x72, 0xB2, 255}, // blue
	color.RGBA{0x00, 0x9E, 0x73, 255}, // bluish green
	color.RGBA{0xCC, 0x79, 0xA7, 255}, // reddish purple
	color.RGBA{0xE6, 0x9F, 0x00, 255}, // orange
	color.RGBA{0x56, 0xB4, 0xE9, 255}, // sky blue
	color.RGBA{0x33, 0x22, 0x88, 255}, // indigo (Tol)
	color.RGBA{0x88, 0x22, 0x55, 255}, // wine (Tol)
	color.RGBA{0x99, 0x99, 0x33, 255}, // olive (Tol)
	color.RGBA{0x44, 0xAA, 0x99, 255}, // teal (Tol)
	color.RGBA{0xCC, 0x66, 0x77, 255}, // rose (Tol)
}

// dashes are 6 patterns distinguishable at line width 1.4 pt.
var dashes = [][]vg.Length{
	nil,
	{vg.Points(6), vg.Points(3)},
	{vg.Points(1.5), vg.Points(2)},
	{vg.Points(8), vg.Points(3), vg.Points(1.5), vg.Points(3)},
	{vg.Points(12), vg.Points(4)},
	{vg.Points(4), vg.Points(2), vg.Points(1.5), vg.Points(2), vg.Points(1.5), vg.Points(2)},
}

// glyphs are 8 marker shapes.
var glyphs = []draw.GlyphDrawer{
	draw.CircleGlyph{}, draw.BoxGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{},
	draw.RingGlyph{}, draw.PlusGlyph{}, draw.SquareGlyph{}, draw.PyramidGlyph{},
}

// NumColors is the number of distinct colours; the first NumColors styles
// of StyleAt differ in colour, dash pattern and marker at once.
const NumColors = 12

// StyleAt returns the i-th style: colour, dash pattern and marker all change
// together; no two of the first 12 share a colour, and no two of the first
// 24 share all three.
func StyleAt(i int) Style {
	return Style{Color: palette[i%len(palette)], Dashes: dashes[i%len(dashes)], Glyph: glyphs[i%len(glyphs)]}
}

// markStyle is the dash and marker of index i for -style-by.
func markStyle(i int) ([]vg.Length, draw.GlyphDrawer) {
	return dashes[i%len(dashes)], glyphs[i%len(glyphs)]
}

// methodColors fixes the colour (an index into palette) of the methods the
// paper and its neighbours compare, so that a method has the same colour
// in every panel and every figure whichever runs a figure holds. Methods
// not listed take the colours left, in order of appearance.
var methodColors = map[string]int{
	"||EF21||": 1, "EF21": 2, "EF14": 3, "||EF14||": 11, "||EF21-SGDM||": 4, "EF21-SGDM": 5,
	"||SGDM||": 6, "||EF21-SGD||": 7, "EF21-SGD": 10, "EF21-W": 8, "||EF21-W||": 11,
	"signSGD-MV": 0, "Signum-MV": 9, "GD": 0, "||GD||": 11,
	"EF21-PP": 3, "||EF21-PP||": 7,
}

// MethodColor is the fixed colour of a method (runfile.MethodName), if it
// has one.
func MethodColor(method string) (color.Color, bool) {
	c, ok := methodColors[method]
	if !ok {
		return nil, false
	}
	return palette[c], true
}

// AttrValue is the value of a series attribute as figures group, colour and
// style by it. Beyond the run's root attributes (k, seed, n_ranks, gamma0,
// …) it knows "method" (runfile.MethodName: ||EF21||, EF21, EF14, …,
// normalisation included), "compressor" (runfile.CompressorLabel: top-5,
// sign, …), "label" (runfile.MethodLabel), "rule" (runfile.RuleLabel: the
// step-size rule and its γ0) and "dataset" (the file's base name).
func AttrValue(attrs map[string]any, name string) string {
	switch name {
	case "method":
		return runfile.MethodName(attrs)
	case "compressor":
		if c := runfile.CompressorLabel(attrs); c != "" {
			return c
		}
		return runfile.AttrText(attrs["compressor"])
	case "label":
		return runfile.MethodLabel(attrs)
	case "rule":
		return runfile.RuleLabel(attrs)
	case "dataset":
		return filepath.Base(runfile.AttrText(attrs["dataset"]))
	}
	v, ok := attrs[name]
	if !ok {
		return ""
	}
	return runfile.FormatNumber(v)
}

// StyleBy says how series are styled: ColorBy and MarkBy name attributes
// (see AttrValue) whose values choose a series' colour and its dash and
// marker; empty fields follow the rules of Figure.Styles.
type StyleBy struct {
	ColorBy, MarkBy string
}

// assign returns a style for every series key (its label) in order of
// first appearance. Series are given as (label, attrs) pairs; a label's
// first attrs decide its style.
func (sb StyleBy) assign(labels []string, attrs []map[string]any) map[string]Style {
	colorBy, markBy := sb.ColorBy, sb.MarkBy
	if colorBy == "" && markBy == "" {
		// automatic: method by colour and compressor by dash/marker when
		// both vary (the usual comparison) and the pairs tell every label
		// apart, else one style per label
		if distinct(attrs, "method") > 1 && distinct(attrs, "compressor") > 1 {
			pairs := map[string]string{}
			unique := true
			for i, l := range labels {
				p := AttrValue(attrs[i], "method") + "\x00" + AttrValue(attrs[i], "compressor")
				if other, ok := pairs[p]; ok && other != l {
					unique = false
				}
				pairs[p] = l
			}
			if unique {
				colorBy, markBy = "method", "compressor"
			}
		}
	}
	out := map[string]Style{}
	if colorBy == "" && markBy == "" {
		for _, l := range labels {
			if _, ok := out[l]; !ok {
				out[l] = StyleAt(len(out))
			}
		}
		return out
	}
	colors, marks := map[string]int{}, map[string]int{}
	index := func(m map[string]int, v string) int {
		if i, ok := m[v]; ok {
			return i
		}
		m[v] = len(m)
		return m[v]
	}
	// colouring by method: the fixed colour of each known method, the
	// colours no known method of this figure uses for the others
	var colorOf func(v string) int
	perMethod := map[string]int{} // labels styled so far per method
	if colorBy == "method" {
		used := map[int]bool{}
		for _, a := range attrs {
			if c, ok := methodColors[AttrValue(a, "method")]; ok {
				used[c] = true
			}
		}
		other := map[string]int{}
		colorOf = func(v string) int {
			if c, ok := methodColors[v]; ok {
				return c
			}
			if c, ok := other[v]; ok {
				return c
			}
			c := 0
			for used[c] && c < len(palette)-1 {
				c++
			}
			used[c], other[v] = true, c
			return c
		}
	}
	for i, l := range labels {
		if _, ok := out[l]; ok {
			continue
		}
		var st Style
		switch {
		case colorBy != "" && markBy != "":
			c := index(colors, AttrValue(attrs[i], colorBy))
			m := index(marks, AttrValue(attrs[i], markBy))
			st.Color = palette[c%len(palette)]
			if colorOf != nil {
				st.Color = palette[colorOf(AttrValue(attrs[i], colorBy))]
			}
			st.Dashes, st.Glyph = markStyle(m)
			st.Width = vg.Length(c) // replaced below, once the number of colours is known
		case colorOf != nil:
			// one colour per method, fixed; dash and marker tell apart
			// the labels of one method
			v := AttrValue(attrs[i], "method")
			st.Color = palette[colorOf(v)]
			st.Dashes, st.Glyph = markStyle(perMethod[v])
			perMethod[v]++
		case colorBy != "":
			// one attribute: its values get whole styles, as labels do
			st = StyleAt(index(colors, AttrValue(attrs[i], colorBy)))
		default:
			st = StyleAt(index(marks, AttrValue(attrs[i], markBy)))
			st.Color = palette[0]
		}
		out[l] = st
	}
	if colorBy != "" && markBy != "" && len(colors) > 1 {
		n := float64(len(colors) - 1)
		for l, st := range out {
			c := float64(st.Width)
			st.Width = vg.Points(1.2 + 1.0*(n-c)/n)
			out[l] = st
		}
	}
	return out
}

// distinct counts the values of an attribute among attrs.
func distinct(attrs []map[string]any, name string) int {
	seen := map[string]bool{}
	for _, a := range attrs {
		seen[AttrValue(a, name)] = true
	}
	return len(seen)
}

// ExpandLabel fills a label template: "{name}" is replaced by AttrValue of
// that attribute ("{method} k={k}"); text without braces is returned as is.
func ExpandLabel(tmpl string, attrs map[string]any) (string, error) {
	var b strings.Builder
	for rest := tmpl; rest != ""; {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return "", fmt.Errorf("label %q: unclosed {", tmpl)
		}
		b.WriteString(rest[:open])
		b.WriteString(AttrValue(attrs, rest[open+1:open+end]))
		rest = rest[open+end+1:]
	}
	return b.String(), nil
}
