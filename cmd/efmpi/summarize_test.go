package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/runfile"
)

// summarize's table against values read from each file directly: parameters
// from the root attributes, finals from the last trajectory row, the target
// columns from a scan of its own.
func TestSummarizeCSV(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cfg.toml", small)
	sweep := filepath.Join(dir, "sweep")
	type point struct {
		file, label, k, rule, g0 string
		sets                     []string
	}
	points := []point{
		{"point-0.h5", "||EF21|| top-1", "1", "norm-theory", "0.5", []string{"stepsize.gamma0=0.5"}},
		{"point-1.h5", "||EF21|| top-3", "3", "norm-theory", "1", []string{"algorithm.k=3", "run.ranks=3"}},
		{"point-10.h5", "EF21 top-1", "1", "ef21-theory", "", []string{"algorithm.normalize=false", "stepsize.rule=ef21-theory"}},
		{"sub/point-2.h5", "||EF21|| sign", "", "norm-theory", "1", []string{"algorithm.compressor=sign", "algorithm.k="}}, // sign: k does not apply, so it is unset
	}
	for _, p := range points {
		args := []string{"run", "-config", "cfg.toml", "-quiet", "-out", filepath.Join(sweep, p.file)}
		for _, s := range p.sets {
			args = append(args, "-set", s)
		}
		if code, so, se := efmpi(t, dir, args...); code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", p.file, code, so, se)
		}
	}
	runs := map[string]*hdf5io.Run{}
	for _, p := range points {
		r, err := hdf5io.Open(filepath.Join(sweep, p.file))
		if err != nil {
			t.Fatal(err)
		}
		runs[p.file] = r
	}
	// A target that point-0 reaches midway.
	g0 := runs["point-0.h5"].Floats["grad_norm_sq"]
	target := g0[len(g0)/2]

	code, stdout, stderr := efmpi(t, dir, "summarize", "-csv", "sweep", "-target", strconv.FormatFloat(target, 'g', -1, 64))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	table, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := append([]string{"file"}, runfile.TableHeader(true)...)
	if !slices.Equal(table[0], header) {
		t.Fatalf("header %v", table[0])
	}
	// Natural order within a directory: point-0, point-1, point-10, then sub/.
	wantOrder := []string{"point-0.h5", "point-1.h5", "point-10.h5", "sub/point-2.h5"}
	if len(table) != 1+len(wantOrder) {
		t.Fatalf("%d rows:\n%s", len(table)-1, stdout)
	}
	for i, name := range wantOrder {
		row := map[string]string{}
		for j, h := range header {
			row[h] = table[i+1][j]
		}
		if row["file"] != filepath.Join("sweep", name) {
			t.Fatalf("row %d is %s, want %s", i, row["file"], name)
		}
		p := points[slices.IndexFunc(points, func(q point) bool { return q.file == name })]
		r := runs[name]
		n := r.Rows()
		ranks := "2"
		if name == "point-1.h5" {
			ranks = "3"
		}
		minG := r.Floats["grad_norm_sq"][0]
		for _, g := range r.Floats["grad_norm_sq"] {
			minG = min(minG, g)
		}
		wantIt, wantBits := "", ""
		for j, g := range r.Floats["grad_norm_sq"] {
			if g <= target {
				wantIt, wantBits = strconv.FormatInt(r.Ints["iteration"][j], 10), strconv.FormatInt(r.Ints["bits_per_worker"][j], 10)
				break
			}
		}
		want := map[string]string{
			"label": p.label, "k": p.k, "stepsize_rule": p.rule, "gamma0": p.g0, "ranks": ranks,
			"status": "completed", "iterations": "30", "iterations_done": "30", "last_iteration": "30",
			"rows": strconv.Itoa(n), "d": "10", "seed": "1",
			"iters_to_target": wantIt, "bits_to_target": wantBits,
			"bits_per_worker": strconv.FormatInt(r.Ints["bits_per_worker"][n-1], 10),
		}
		for col, w := range want {
			if row[col] != w {
				t.Errorf("%s: %s = %q, want %q", name, col, row[col], w)
			}
		}
		floats := map[string]float64{
			"final_f": r.Floats["f"][n-1], "final_grad_norm_sq": r.Floats["grad_norm_sq"][n-1],
			"min_grad_norm_sq": minG, "gamma": r.Attrs["gamma"].(float64), "time_s": r.Floats["time_s"][n-1],
		}
		for col, w := range floats {
			got, err := strconv.ParseFloat(row[col], 64)
			if err != nil || got != w {
				t.Errorf("%s: %s = %q, want %v exactly", name, col, row[col], w)
			}
		}
	}
	if table[1][len(header)-2] == "" {
		t.Error("point-0 never reached a target taken from its own trajectory")
	}

	// -o writes the same table to a file; a single file may be named.
	if code, _, se := efmpi(t, dir, "summarize", "-o", "table.csv", "-target", strconv.FormatFloat(target, 'g', -1, 64), "sweep"); code != 0 {
		t.Fatalf("-o: exit %d: %s", code, se)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "table.csv")); string(b) != stdout {
		t.Fatalf("-o wrote\n%s\nwant\n%s", b, stdout)
	}
	code, stdout, _ = efmpi(t, dir, "summarize", "-csv", filepath.Join("sweep", "point-1.h5"))
	if rows, _ := csv.NewReader(strings.NewReader(stdout)).ReadAll(); code != 0 || len(rows) != 2 || len(rows[0]) != 1+len(runfile.TableHeader(false)) {
		t.Fatalf("one file: exit %d\n%s", code, stdout)
	}

	// An unreadable file is reported and skipped; the others are still listed.
	write(t, dir, "sweep/point-3.h5", "not hdf5")
	code, stdout, stderr = efmpi(t, dir, "summarize", "-csv", "sweep")
	if rows, _ := csv.NewReader(strings.NewReader(stdout)).ReadAll(); code != 1 || len(rows) != 5 || !strings.Contains(stderr, "point-3.h5") {
		t.Fatalf("with a broken file: exit %d, %d lines\n%s", code, len(rows), stderr)
	}

	// Nothing to summarise, or a missing path: bad input.
	os.Mkdir(filepath.Join(dir, "empty"), 0o755)
	for _, args := range [][]string{{"summarize", "empty"}, {"summarize", "nowhere"}, {"summarize"}, {"summarize", "-target", "-1", "sweep"}} {
		if code, _, se := efmpi(t, dir, args...); code != 2 || se == "" {
			t.Errorf("%v: exit %d: %s", args, code, se)
		}
	}
}

func TestNaturalLess(t *testing.T) {
	in := []string{"p-10.h5", "p-2.h5", "p-1.h5", "a/p-02b.h5", "p-1a.h5", "b", "a"}
	slices.SortFunc(in, func(a, b string) int {
		if naturalLess(a, b) {
			return -1
		}
		if naturalLess(b, a) {
			return 1
		}
		return 0
	})
	want := []string{"a", "a/p-02b.h5", "b", "p-1.h5", "p-1a.h5", "p-2.h5", "p-10.h5"}
	if !slices.Equal(in, want) {
		t.Fatalf("got %v, want %v", in, want)
	}
}
