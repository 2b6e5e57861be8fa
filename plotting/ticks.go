package plotting

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
)

// siTicks are plot.DefaultTicks on a linear axis with compact labels
// (250k, 1.5M) instead of 250000 or 1.5e+06.
type siTicks struct{}

// Ticks implements plot.Ticker.
func (siTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = siLabel(ticks[i].Value)
		}
	}
	return ticks
}

// siLabel writes v with a k, M or G suffix when that makes it shorter.
func siLabel(v float64) string {
	a := math.Abs(v)
	for _, u := range []struct {
		scale  float64
		suffix string
	}{{1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if a >= u.scale {
			return strconv.FormatFloat(v/u.scale, 'f', -1, 64) + u.suffix
		}
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// logTicks puts a tick at every decade of a log axis and labels them as
// powers of ten (10⁻⁴); on a range of many decades only every second or
// third decade carries a label so the labels stay apart.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= lo || math.IsInf(hi, 0) || math.IsNaN(lo) {
		return nil // an axis a log scale cannot show: no ticks rather than a panic
	}
	a, b := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	every := 1
	for (b-a)/every > 8 {
		every++
	}
	var ticks []plot.Tick
	for e := a; e <= b; e++ {
		v := math.Pow(10, float64(e))
		t := plot.Tick{Value: v}
		if e%every == 0 {
			t.Label = pow10Label(e)
		}
		if v >= lo*(1-1e-12) && v <= hi*(1+1e-12) {
			ticks = append(ticks, t)
		}
		if every == 1 && b-a <= 3 {
			for m := 2; m <= 9; m++ {
				if w := float64(m) * v; w >= lo && w <= hi {
					ticks = append(ticks, plot.Tick{Value: w})
				}
			}
		}
	}
	return ticks
}

var superscript = strings.NewReplacer("-", "⁻", "0", "⁰", "1", "¹", "2", "²", "3", "³",
	"4", "⁴", "5", "⁵", "6", "⁶", "7", "⁷", "8", "⁸", "9", "⁹")

// pow10Label writes 10^e with a superscript exponent: 1 and 10 stay plain.
func pow10Label(e int) string {
	switch e {
	case 0:
		return "1"
	case 1:
		return "10"
	}
	return "10" + superscript.Replace(fmt.Sprint(e))
}
