package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// col2imSame (one contiguous run per row of patches, −0 written over the
// columns outside the image) gives the bits of the row-by-row col2imRows, in
// both precisions, for several "same" geometries, on a column block inside a
// wider one (off, ld) and with signed zeros and large values among the
// gradients.
func TestCol2imSameMatchesRows(t *testing.T) {
	testCol2imSame[float32](t)
	testCol2imSame[float64](t)
}

func testCol2imSame[T Float](t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, g := range []struct{ c, h, w, k, p int }{{2, 5, 7, 3, 1}, {3, 9, 4, 5, 2}, {1, 1, 3, 3, 1}, {2, 11, 13, 1, 0}} {
		l := NewConv2d[T](4, g.k, 1, g.p, false)
		if _, err := l.Build(Shape{g.c, g.h, g.w}, 1, newEnv[T](1)); err != nil {
			t.Fatal(err)
		}
		hw := g.h * g.w
		ld, off := 3*hw, hw
		dcol := make([]T, l.ckk*ld)
		for i := range dcol {
			switch r.IntN(6) {
			case 0:
				dcol[i] = T(math.Copysign(0, -1))
			case 1:
				dcol[i] = T(1e30 * r.NormFloat64())
			default:
				dcol[i] = T(r.NormFloat64())
			}
		}
		want, got := make([]T, g.c*hw), make([]T, g.c*hw)
		l.col2imRows(append([]T(nil), dcol...), off, ld, want)
		l.col2imSame(dcol, off, ld, got)
		for i := range want {
			if math.Float64bits(float64(got[i])) != math.Float64bits(float64(want[i])) {
				t.Fatalf("%T geometry %+v: dx[%d] = %v, row by row %v", got[0], g, i, got[i], want[i])
			}
		}
	}
}
