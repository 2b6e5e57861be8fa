package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// polyNorm and polyEF21 are a small polynomial problem (SPEC §5) run as
// ||EF21|| and as EF21.
const polyNorm = `[problem]
kind = "polynomial"
dim = 20
[algorithm]
method = "ef21"
normalize = true
compressor = "top-k"
k = 2
[stepsize]
rule = "norm-theory"
gamma0 = 1.0
[run]
iterations = 200
ranks = 2
log_every = 5
`

const polyEF21 = `[problem]
kind = "polynomial"
dim = 20
[algorithm]
method = "ef21"
normalize = false
compressor = "top-k"
k = 2
[stepsize]
rule = "ef21-theory"
[run]
iterations = 200
ranks = 2
log_every = 5
`

func TestPlotTwoRuns(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "norm.toml", polyNorm)
	write(t, dir, "ef21.toml", polyEF21)
	for _, name := range []string{"norm", "ef21"} {
		if code, _, stderr := efmpi(t, dir, "run", "-quiet", "-config", name+".toml", "-out", name+".h5"); code != 0 {
			t.Fatalf("run %s: exit %d: %s", name, code, stderr)
		}
	}
	code, stdout, stderr := efmpi(t, dir, "plot", "-o", "figs/fig.png", "-title", "two runs", "norm.h5", "ef21.h5", "-dpi", "80")
	if code != 0 {
		t.Fatalf("plot: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "2 runs, 1×2 panels") {
		t.Errorf("stdout %q", stdout)
	}
	data, err := os.ReadFile(filepath.Join(dir, "figs/fig.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	b := img.Bounds()
	if b.Dx() < 500 || b.Dy() < 200 {
		t.Errorf("image %dx%d", b.Dx(), b.Dy())
	}
	drawn := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, g, bl, _ := img.At(x, y).RGBA(); r < 0x8000 || g < 0x8000 || bl < 0x8000 {
				drawn++
			}
		}
	}
	if drawn < b.Dx()*b.Dy()/100 {
		t.Errorf("blank figure: %d drawn pixels of %d", drawn, b.Dx()*b.Dy())
	}

	if code, _, stderr := efmpi(t, dir, "plot", "-o", "fig.svg", "-x", "bits", "norm.h5", "ef21.h5"); code != 0 {
		t.Fatalf("plot svg: exit %d: %s", code, stderr)
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "fig.svg"))
	for _, want := range []string{"<svg", "</svg>", "||EF21|| top-2", "EF21 top-2", "bits sent per worker"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("SVG lacks %q", want)
		}
	}

	for _, bad := range [][]string{
		{"plot", "norm.h5"},                           // no -o
		{"plot", "-o", "fig.gif", "norm.h5"},          // format
		{"plot", "-o", "f.png"},                       // no runs
		{"plot", "-o", "f.png", "-x", "time", "a.h5"}, // axis
		{"plot", "-o", "f.png", "missing.h5"},         // file
	} {
		if code, _, _ := efmpi(t, dir, bad...); code != ExitBadInput {
			t.Errorf("%q: exit %d, want %d", bad, code, ExitBadInput)
		}
	}
}
