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
		{"plot", "norm.h5"},                                     // no -o
		{"plot", "-o", "fig.gif", "norm.h5"},                    // format
		{"plot", "-o", "f.png"},                                 // no runs
		{"plot", "-o", "f.png", "-x", "walltime", "norm.h5"},    // axis
		{"plot", "-o", "f.png", "-label", "{method", "norm.h5"}, // label template
		{"plot", "-o", "f.png", "missing.h5"},                   // file
	} {
		if code, _, _ := efmpi(t, dir, bad...); code != ExitBadInput {
			t.Errorf("%q: exit %d, want %d", bad, code, ExitBadInput)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "f.png")); err == nil {
		t.Error("a refused plot left f.png")
	}
}

// EF14 sends nothing at iteration 0: -x bits -logbits used to crash with a
// Go stack trace and leave a 0-byte file. -x time, -label, -aggregate and
// -color-by work from the command line.
func TestPlotLogBitsEF14AndOptions(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "ef14.toml", strings.Replace(polyEF21, `method = "ef21"`, `method = "ef14"`, 1))
	write(t, dir, "norm.toml", polyNorm)
	for _, name := range []string{"ef14", "norm"} {
		for _, seed := range []string{"1", "2", "3"} {
			if code, _, se := efmpi(t, dir, "run", "-quiet", "-config", name+".toml", "-set", "run.seed="+seed, "-out", name+seed+".h5"); code != 0 {
				t.Fatalf("run %s: %s", name, se)
			}
		}
	}
	code, so, se := efmpi(t, dir, "plot", "-o", "lb.png", "-x", "bits", "-logbits", "ef141.h5", "norm1.h5")
	if code != 0 || strings.Contains(se, "goroutine") {
		t.Fatalf("-logbits with EF14: exit %d\n%s%s", code, so, se)
	}
	if st, err := os.Stat(filepath.Join(dir, "lb.png")); err != nil || st.Size() < 1000 {
		t.Fatalf("lb.png: %v", err)
	}
	code, _, se = efmpi(t, dir, "plot", "-o", "agg.svg", "-x", "iterations,time", "-aggregate", "seed", "-color-by", "method",
		"-label", "{method} k={k}", "-label", "norm1.h5=mine", "ef141.h5", "ef142.h5", "ef143.h5", "norm1.h5", "norm2.h5")
	svg, _ := os.ReadFile(filepath.Join(dir, "agg.svg"))
	for _, want := range []string{"EF14 k=2", "mine", "||EF21|| k=2", "wall-clock time (s)"} {
		if code != 0 || !strings.Contains(string(svg), want) {
			t.Errorf("agg.svg lacks %q (exit %d %s)", want, code, se)
		}
	}
	// the aggregation is said once, in the note; no legend entry repeats it
	if n := strings.Count(string(svg), "median over 3 seeds"); n != 1 || strings.Contains(string(svg), "median of 3") {
		t.Errorf("agg.svg says \"median over 3 seeds\" %d times", n)
	}
}

// The bits axis is logarithmic by default when the runs' traffic differs by
// 100× or more (identity for 200 iterations: 32·20·201 = 128 640 bits;
// top-2 for 2 iterations: 32·(20 + 2·2) = 768), linear otherwise, and
// -logbits=false forces linear. The bit convention is on the figure.
func TestPlotBitsAxisDefault(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "norm.toml", polyNorm)
	for name, sets := range map[string][]string{
		"id.h5": {"algorithm.compressor=identity", "algorithm.k="}, "short.h5": {"run.iterations=2"}, "top.h5": nil} {
		args := []string{"run", "-quiet", "-config", "norm.toml", "-out", name}
		for _, s := range sets {
			args = append(args, "-set", s)
		}
		if code, _, se := efmpi(t, dir, args...); code != 0 {
			t.Fatalf("run %s: %s", name, se)
		}
	}
	for _, c := range []struct {
		args []string
		log  bool
	}{
		{[]string{"id.h5", "short.h5"}, true},
		{[]string{"-logbits=false", "id.h5", "short.h5"}, false},
		{[]string{"id.h5", "top.h5"}, false}, // 128 640 vs 13 440 bits: under 100×
	} {
		args := append([]string{"plot", "-o", "b.svg", "-x", "bits"}, c.args...)
		if code, _, se := efmpi(t, dir, args...); code != 0 {
			t.Fatalf("%v: %s", c.args, se)
		}
		svg, _ := os.ReadFile(filepath.Join(dir, "b.svg"))
		if got := strings.Contains(string(svg), "(log scale)"); got != c.log {
			t.Errorf("%v: log bits axis %v, want %v", c.args, got, c.log)
		}
		if !strings.Contains(string(svg), "Bits per worker: cumulative uplink") {
			t.Errorf("%v: no bit convention on the figure", c.args)
		}
	}
}
