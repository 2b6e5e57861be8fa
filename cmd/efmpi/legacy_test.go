package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/internal/testenv"
)

// toOldLayout rewrites a run file's root attributes as versions before the
// rename wrote them: the contraction as `alpha`, the Dirichlet
// concentration as `split_alpha`.
const toOldLayout = `
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    for old, cur in (("alpha", "contraction_alpha"), ("split_alpha", "dirichlet_alpha")):
        f.attrs[old] = f.attrs[cur]
        del f.attrs[cur]
    assert "contraction_alpha" not in f.attrs and f.attrs["alpha"] == 0.1
`

// A run file of the old layout (root attributes alpha and split_alpha) reads
// in every command under the current names: inspect shows contraction_alpha
// = k/d and dirichlet_alpha, export and summarize give the same cells as for
// the file of the new layout, plot draws it, and compare_runs.py finds the
// two files equal. A new file has no attribute named alpha.
func TestOldLayoutReadable(t *testing.T) {
	py := testenv.PythonWithH5py(t)
	dir := t.TempDir()
	write(t, dir, "cfg.toml", strings.Replace(small, "ranks = 2", "ranks = 3", 1))
	if code, _, stderr := efmpi(t, dir, "run", "-config", "cfg.toml", "-quiet", "-set", "data.split=dirichlet", "-set", "data.alpha=0.7"); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	if err := os.Mkdir(filepath.Join(dir, "old"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "out.h5"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "old", "out.h5"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(py, "-c", toOldLayout, filepath.Join(dir, "old", "out.h5")).CombinedOutput(); err != nil {
		t.Fatalf("rewriting to the old layout: %v\n%s", err, out)
	}
	attrs := func(file string) map[string]any {
		code, stdout, stderr := efmpi(t, dir, "inspect", "-json", file)
		if code != 0 {
			t.Fatalf("inspect %s: exit %d\n%s", file, code, stderr)
		}
		var s []struct {
			Attrs map[string]any `json:"attrs"`
		}
		if err := json.Unmarshal([]byte(stdout), &s); err != nil || len(s) != 1 {
			t.Fatalf("inspect %s: %v\n%s", file, err, stdout)
		}
		return s[0].Attrs
	}
	for _, file := range []string{"out.h5", "old/out.h5"} {
		a := attrs(file)
		if a["contraction_alpha"] != 0.1 || a["dirichlet_alpha"] != 0.7 {
			t.Errorf("%s: contraction_alpha %v (want k/d = 1/10), dirichlet_alpha %v (want 0.7)", file, a["contraction_alpha"], a["dirichlet_alpha"])
		}
		if _, ok := a["alpha"]; ok {
			t.Errorf("%s: an attribute named alpha: %v", file, a["alpha"])
		}
		if _, ok := a["split_alpha"]; ok {
			t.Errorf("%s: an attribute named split_alpha", file)
		}
	}
	table := func(args ...string) string {
		code, stdout, stderr := efmpi(t, dir, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, stderr)
		}
		return strings.ReplaceAll(stdout, "old/", "")
	}
	if nw, old := table("export", "-what", "attrs", "out.h5"), table("export", "-what", "attrs", "old/out.h5"); nw != old || !strings.Contains(nw, "contraction_alpha,0.1") {
		t.Errorf("export differs between the layouts:\n%s\n---\n%s", nw, old)
	}
	if nw, old := table("summarize", "-csv", "out.h5"), table("summarize", "-csv", "old/out.h5"); nw != old || strings.Contains(nw, "alpha =") {
		t.Errorf("summarize differs between the layouts:\n%s\n---\n%s", nw, old)
	}
	if code, _, stderr := efmpi(t, dir, "plot", "-o", "fig.png", "out.h5", "old/out.h5"); code != 0 {
		t.Errorf("plot: exit %d\n%s", code, stderr)
	}
	if out, err := exec.Command(py, filepath.Join("..", "..", "scripts", "compare_runs.py"), filepath.Join(dir, "out.h5"), filepath.Join(dir, "old", "out.h5")).CombinedOutput(); err != nil {
		t.Errorf("compare_runs.py: %v\n%s", err, out)
	}
}
