package plotting

import (
	"image/color"
	"sync"

	"github.com/go-fonts/dejavu/dejavusans"
	"golang.org/x/image/font/opentype"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
)

// typeface is the font of every text in a figure: DejaVu Sans, which has the
// glyphs the labels use (‖ ∇ √ γ ⁻ ⁰…⁹) that gonum/plot's default Liberation
// Sans lacks in part.
const typeface = "DejaVu Sans"

// handler is the text handler over a font cache holding DejaVu Sans only; it
// is built once and never changed (gonum/plot's package-level default cache
// is left alone).
var handler = sync.OnceValue(func() text.Handler {
	ttf, err := opentype.Parse(dejavusans.TTF)
	if err != nil {
		panic("plotting: embedded DejaVu Sans: " + err.Error())
	}
	cache := font.NewCache(font.Collection{{Font: font.Font{Typeface: typeface}, Face: ttf}})
	return text.Plain{Fonts: cache}
})

// textStyle is black DejaVu Sans of the given size.
func textStyle(size vg.Length) text.Style {
	return text.Style{Font: font.Font{Typeface: typeface, Size: size}, Handler: handler(), Color: color.Black}
}

// setFont switches a style to DejaVu Sans of the given size, keeping its
// alignment and rotation.
func setFont(st *text.Style, size vg.Length) {
	st.Font = font.Font{Typeface: typeface, Size: size}
	st.Handler = handler()
	st.Color = color.Black
}
