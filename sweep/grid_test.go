package sweep

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/hdf5io"
)

// The 9-run comparison of the README as one grid: a set axis of three
// variants (||EF21||, EF21, EF14 — the invalid ||EF14|| is never formed)
// times k.
func TestSetAxis(t *testing.T) {
	v, err := ParseAxis("variant=algorithm.method=ef21 algorithm.normalize=true|algorithm.method=ef21 algorithm.normalize=false stepsize.rule=ef21-theory stepsize.gamma0=| algorithm.method=ef14 algorithm.normalize=false stepsize.rule=ef21-theory stepsize.gamma0=")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseAxis("algorithm.k=1,5,20")
	if err != nil {
		t.Fatal(err)
	}
	if !v.IsSet() || len(v.Values) != 3 || k.IsSet() {
		t.Fatalf("axes %+v %+v", v, k)
	}
	pts, err := Expand([]Axis{v, k})
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 9 {
		t.Fatalf("%d points", len(pts))
	}
	// the same axis written over several lines, as in the README
	multi, err := ParseAxis("variant=algorithm.method=ef21 algorithm.normalize=true\n  |algorithm.method=ef21 algorithm.normalize=false\tstepsize.rule=ef21-theory stepsize.gamma0=\n  | algorithm.method=ef14 algorithm.normalize=false stepsize.rule=ef21-theory stepsize.gamma0=")
	if err != nil || !reflect.DeepEqual(multi, v) {
		t.Errorf("multi-line axis %+v, %v", multi, err)
	}
	want := []string{"algorithm.method=ef21", "algorithm.normalize=false", "stepsize.rule=ef21-theory", "stepsize.gamma0=", "algorithm.k=5"}
	if got := pts[4].Overrides(); !reflect.DeepEqual(got, want) {
		t.Errorf("point 4 overrides %q, want %q", got, want)
	}
	if pts[8].Values[0] != "algorithm.method=ef14 algorithm.normalize=false stepsize.rule=ef21-theory stepsize.gamma0=" || pts[8].Values[1] != "20" {
		t.Errorf("point 8 values %q", pts[8].Values)
	}
	// the compressor comparison that a plain axis cannot express: sign has no k
	c, err := ParseAxis("comp=algorithm.compressor=top-k algorithm.k=5|algorithm.compressor=sign algorithm.k=")
	if err != nil {
		t.Fatal(err)
	}
	pts, _ = Expand([]Axis{c})
	if pts[1].String() != "algorithm.compressor=sign algorithm.k=" {
		t.Errorf("sign point %q", pts[1])
	}
	for _, bad := range []string{"v=method=ef21|x", "v=algorithm.k=1 algorithm.k=2", "v=a|", "my axis=algorithm.k=1", "method=algorithm.method=ef21", "algorithm.k=1,,2", "v=\"unterminated"} {
		if _, err := ParseAxis(bad); err == nil {
			t.Errorf("ParseAxis(%q) accepted", bad)
		}
	}
	// one key on two axes
	if _, err := Expand([]Axis{c, k}); err == nil || !strings.Contains(err.Error(), "algorithm.k") {
		t.Errorf("a key set by two axes: %v", err)
	}
}

// Zipped axes advance together and take the place of their earliest axis.
func TestZip(t *testing.T) {
	axes := []Axis{
		{Key: "run.seed", Values: []string{"1", "2"}},
		{Key: "algorithm.k", Values: []string{"1", "5", "20"}},
		{Key: "stepsize.gamma0", Values: []string{"0.1", "0.5", "1"}},
	}
	pts, err := ExpandZip(axes, [][]string{{"stepsize.gamma0", "algorithm.k"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pts {
		got = append(got, p.String())
	}
	want := []string{
		"run.seed=1 algorithm.k=1 stepsize.gamma0=0.1", "run.seed=1 algorithm.k=5 stepsize.gamma0=0.5", "run.seed=1 algorithm.k=20 stepsize.gamma0=1",
		"run.seed=2 algorithm.k=1 stepsize.gamma0=0.1", "run.seed=2 algorithm.k=5 stepsize.gamma0=0.5", "run.seed=2 algorithm.k=20 stepsize.gamma0=1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("zip\n%q\nwant\n%q", got, want)
	}
	// zip first: the pair varies slowest
	pts, _ = ExpandZip([]Axis{axes[1], axes[2], axes[0]}, [][]string{{"algorithm.k", "stepsize.gamma0"}})
	if pts[1].String() != "algorithm.k=1 stepsize.gamma0=0.1 run.seed=2" || len(pts) != 6 {
		t.Errorf("zip first: %q", pts[1])
	}
	for _, z := range [][][]string{{{"algorithm.k", "run.seed"}}, {{"algorithm.k", "nope"}}, {{"algorithm.k"}},
		{{"algorithm.k", "stepsize.gamma0"}, {"stepsize.gamma0", "algorithm.k"}}} {
		if _, err := ExpandZip(axes, z); err == nil {
			t.Errorf("zip %q accepted", z)
		}
	}
}

// A sweep folder that holds files is refused; -overwrite clears the sweep's
// own files (and nothing else); -resume needs the same sweep and reruns
// only unfinished points.
func TestFolderModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sw")
	axes := []Axis{{Key: "stepsize.gamma0", Values: []string{"1", "2", "3"}}}
	pts, _ := Expand(axes)
	m := Manifest{Config: "c.toml", Points: []string{pts[0].String(), pts[1].String(), pts[2].String()}}
	if err := PrepareDir(dir, Fresh, m); err != nil {
		t.Fatal(err)
	}
	fr := &fakeRunner{kNeeded: 0}
	sw := &Sweep{Dir: dir, Target: 1e-3, Axes: axes}
	if _, err := sw.Run(context.Background(), fr.run); err != nil {
		t.Fatal(err)
	}
	if err := PrepareDir(dir, Fresh, m); !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "point-000.h5") {
		t.Fatalf("fresh sweep into a full folder: %v", err)
	}
	// resume: mark point 1 unfinished; only it runs again
	if err := PrepareDir(dir, Resume, m); err != nil {
		t.Fatal(err)
	}
	markStatus(t, filepath.Join(dir, "point-001.h5"), "interrupted")
	fr.calls = nil
	sw.Resume = true
	res, err := sw.Run(context.Background(), fr.run)
	if err != nil {
		t.Fatal(err)
	}
	if len(fr.calls) != 1 || !res[0].Reused || res[1].Reused || !res[2].Reused || res[1].Status != "completed" {
		t.Errorf("resume ran %d points (%v); reused %v %v %v", len(fr.calls), fr.calls, res[0].Reused, res[1].Reused, res[2].Reused)
	}
	// resume of a different sweep is refused
	m2 := m
	m2.Points = append([]string(nil), m.Points...)
	m2.Points[2] = "stepsize.gamma0=4"
	if err := PrepareDir(dir, Resume, m2); err == nil || !strings.Contains(err.Error(), "point 2") {
		t.Errorf("resume of another sweep: %v", err)
	}
	// overwrite removes the sweep's files and keeps the user's
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
	if err := PrepareDir(dir, Overwrite, m2); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	var names []string
	for _, l := range left {
		names = append(names, filepath.Base(l))
	}
	if !reflect.DeepEqual(names, []string{"notes.txt", "sweep.json"}) {
		t.Errorf("after -overwrite: %q", names)
	}
}

func TestGridFile(t *testing.T) {
	dir := t.TempDir()
	a, _ := ParseAxis("v=algorithm.method=ef14 stepsize.gamma0=|algorithm.method=ef21")
	pts, _ := Expand([]Axis{a, {Key: "algorithm.k", Values: []string{"1", "2"}}})
	path, err := WriteGridFile(dir, pts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	want := []string{"algorithm.method=ef14 stepsize.gamma0= algorithm.k=1", "algorithm.method=ef14 stepsize.gamma0= algorithm.k=2",
		"algorithm.method=ef21 algorithm.k=1", "algorithm.method=ef21 algorithm.k=2"}
	if !strings.HasPrefix(lines[0], "#") || !reflect.DeepEqual(lines[1:], want) {
		t.Errorf("grid file %q", lines)
	}
	sp, _ := ParseAxis(`run.output="a b.h5"`)
	pts, _ = Expand([]Axis{sp})
	if _, err := WriteGridFile(dir, pts); err == nil {
		t.Error("a value with a space was written to a grid file")
	}
}

// markStatus replaces a run file by an empty one with the given status.
func markStatus(t *testing.T, path, status string) {
	t.Helper()
	rec, err := hdf5io.Create(path, true, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(status); err != nil {
		t.Fatal(err)
	}
}
