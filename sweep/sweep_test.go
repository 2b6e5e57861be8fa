package sweep

import (
	"context"
	"encoding/csv"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/hdf5io"
)

func TestExpandOrder(t *testing.T) {
	axes := []Axis{
		{Key: "stepsize.gamma0", Values: []string{"0.1", "1"}},
		{Key: "run.ranks", Values: []string{"1", "4", "8"}},
	}
	pts, err := Expand(axes)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, p := range pts {
		if p.Index != i {
			t.Errorf("point %d has index %d", i, p.Index)
		}
		got = append(got, p.String())
	}
	want := []string{
		"stepsize.gamma0=0.1 run.ranks=1", "stepsize.gamma0=0.1 run.ranks=4", "stepsize.gamma0=0.1 run.ranks=8",
		"stepsize.gamma0=1 run.ranks=1", "stepsize.gamma0=1 run.ranks=4", "stepsize.gamma0=1 run.ranks=8",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("expansion\n%q\nwant\n%q", got, want)
	}
	if pts, _ := Expand(nil); len(pts) != 1 || len(pts[0].Keys) != 0 {
		t.Errorf("no axes: %v, want one empty point", pts)
	}
	if _, err := Expand([]Axis{axes[0], axes[0]}); err == nil {
		t.Error("a key on two axes was accepted")
	}
}

func TestParseAxis(t *testing.T) {
	a, err := ParseAxis(` algorithm.compressor = "top-k", "rand-k" ,identity`)
	if err != nil {
		t.Fatal(err)
	}
	if a.Key != "algorithm.compressor" || !reflect.DeepEqual(a.Values, []string{`"top-k"`, `"rand-k"`, "identity"}) {
		t.Errorf("got %+v", a)
	}
	a, err = ParseAxis(`run.output="a,b.h5",c`)
	if err != nil || !reflect.DeepEqual(a.Values, []string{`"a,b.h5"`, "c"}) {
		t.Errorf("quoted comma: %+v %v", a, err)
	}
	for _, bad := range []string{"gamma0=1,2", "=1", "run.iterations=", "run.iterations=1,,2", `a.b="x`, "a.b.c=1"} {
		if _, err := ParseAxis(bad); err == nil {
			t.Errorf("ParseAxis(%q) accepted", bad)
		}
	}
}

func TestParseKSearch(t *testing.T) {
	for in, want := range map[string]KSearch{
		"500:500:20000":                {Key: "run.iterations", Start: 500, Step: 500, Max: 20000},
		"run.iterations=100:50:1000":   {Key: "run.iterations", Start: 100, Step: 50, Max: 1000},
		":250:1000":                    {Key: "run.iterations", Start: 250, Step: 250, Max: 1000},
		"run.iterations = 10 : 5 : 10": {Key: "run.iterations", Start: 10, Step: 5, Max: 10},
	} {
		got, err := ParseKSearch(in)
		if err != nil || got != want {
			t.Errorf("ParseKSearch(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"500:500", "a:1:2", "500:0:1000", "1000:500:500", "0:1:5"} {
		if _, err := ParseKSearch(bad); err == nil {
			t.Errorf("ParseKSearch(%q) accepted", bad)
		}
	}
}

// fakeRunner writes a run file whose ‖∇f‖² after k iterations is
// c·exp(−rate·k) with c from stepsize.gamma0 and a floor that reaches below
// 1e-3 only when K ≥ kNeeded; it records every K it was asked for.
type fakeRunner struct {
	kNeeded int
	calls   []int
	fail    string // a gamma0 value for which the runner errors
}

func (f *fakeRunner) run(_ context.Context, overrides []string, out string) error {
	vals := map[string]string{}
	for _, o := range overrides {
		k, v, _ := strings.Cut(o, "=")
		vals[k] = v
	}
	if vals["stepsize.gamma0"] == f.fail && f.fail != "" {
		return errors.New("bad point")
	}
	K := 1000
	if v, ok := vals["run.iterations"]; ok {
		K, _ = strconv.Atoi(v)
	}
	f.calls = append(f.calls, K)
	g0, _ := strconv.ParseFloat(vals["stepsize.gamma0"], 64)
	if g0 == 0 {
		g0 = 1
	}
	floor := 1e-2
	if K >= f.kNeeded {
		floor = 1e-4
	}
	rec, err := hdf5io.Create(out, true, 50, []hdf5io.Attr{{Name: "gamma", Value: g0 / math.Sqrt(float64(K+1))}})
	if err != nil {
		return err
	}
	for k := 0; k <= K; k += 10 {
		g := math.Max(floor, g0*math.Exp(-float64(k)/50))
		row := hdf5io.Row{Iteration: int64(k), F: 1 + g, GradNormSq: g, BitsPerWorker: 320 + 32*int64(k)}
		if err := rec.Append(row); err != nil {
			return err
		}
	}
	return rec.Close("completed")
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func writeCSV(t *testing.T, sw *Sweep, results []Result) [][]string {
	t.Helper()
	path := filepath.Join(sw.Dir, "sweep.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.WriteCSV(f, results); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return readCSV(t, path)
}

// TestSweepCSVMatchesFiles runs a 2×2 grid and checks every CSV cell that
// comes from a run against the run file read back with hdf5io.
func TestSweepCSVMatchesFiles(t *testing.T) {
	dir := t.TempDir()
	fr := &fakeRunner{kNeeded: math.MaxInt}
	sw := &Sweep{Dir: dir, Target: 0.05, Axes: []Axis{
		{Key: "stepsize.gamma0", Values: []string{"1", "10"}},
		{Key: "run.iterations", Values: []string{"300", "400"}},
	}}
	results, err := sw.Run(context.Background(), fr.run)
	if err != nil {
		t.Fatal(err)
	}
	recs := writeCSV(t, sw, results)
	header := recs[0]
	// the per-run columns are those of efmpi summarize (runfile.TableHeader)
	wantHeader := []string{"point", "stepsize.gamma0", "run.iterations", "label", "method", "normalize", "compressor", "k",
		"ranks", "d", "dataset", "stepsize_rule", "gamma", "gamma0", "seed", "iterations", "iterations_done",
		"last_iteration", "rows", "status", "final_f", "final_grad_norm_sq", "min_grad_norm_sq", "bits_per_worker",
		"wire_bytes_up", "wire_bytes_down", "time_s", "final_train_accuracy", "final_test_loss", "final_test_accuracy",
		"target", "target_criterion", "iters_to_target", "bits_to_target", "file", "error"}
	if !reflect.DeepEqual(header, wantHeader) {
		t.Fatalf("header %q", header)
	}
	if len(recs) != 5 {
		t.Fatalf("%d rows, want 4", len(recs)-1)
	}
	col := func(row []string, name string) string {
		for i, h := range header {
			if h == name {
				return row[i]
			}
		}
		t.Fatalf("no column %s", name)
		return ""
	}
	wantParams := [][2]string{{"1", "300"}, {"1", "400"}, {"10", "300"}, {"10", "400"}}
	for i, row := range recs[1:] {
		if col(row, "point") != strconv.Itoa(i) || col(row, "stepsize.gamma0") != wantParams[i][0] || col(row, "run.iterations") != wantParams[i][1] {
			t.Errorf("row %d parameters %q", i, row[:3])
		}
		file := col(row, "file")
		if filepath.Base(file) != "point-00"+strconv.Itoa(i)+".h5" {
			t.Errorf("row %d file %s", i, file)
		}
		run, err := hdf5io.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		n := run.Rows()
		g := run.Floats["grad_norm_sq"]
		// independent search for the first row at or under the target
		first := -1
		for j := range g {
			if g[j] <= 0.05 {
				first = j
				break
			}
		}
		if first < 0 {
			t.Fatalf("row %d: fake run never reached the target", i)
		}
		minG := math.Inf(1)
		for _, v := range g {
			minG = math.Min(minG, v)
		}
		for name, want := range map[string]string{
			"iters_to_target":    strconv.FormatInt(run.Ints["iteration"][first], 10),
			"bits_to_target":     strconv.FormatInt(run.Ints["bits_per_worker"][first], 10),
			"last_iteration":     strconv.FormatInt(run.Ints["iteration"][n-1], 10),
			"final_f":            strconv.FormatFloat(run.Floats["f"][n-1], 'g', -1, 64),
			"final_grad_norm_sq": strconv.FormatFloat(g[n-1], 'g', -1, 64),
			"min_grad_norm_sq":   strconv.FormatFloat(minG, 'g', -1, 64),
			"bits_per_worker":    strconv.FormatInt(run.Ints["bits_per_worker"][n-1], 10),
			"gamma":              strconv.FormatFloat(run.Attrs["gamma"].(float64), 'g', -1, 64),
			"status":             "completed",
			"target":             "0.05",
		} {
			if got := col(row, name); got != want {
				t.Errorf("row %d %s = %q, file says %q", i, name, got, want)
			}
		}
	}
	// γ0 = 10 starts 10× higher: reaching 0.05 takes longer
	a, _ := strconv.Atoi(col(recs[1], "iters_to_target"))
	b, _ := strconv.Atoi(col(recs[3], "iters_to_target"))
	if b <= a {
		t.Errorf("iterations to target %d (γ0=1) vs %d (γ0=10)", a, b)
	}
}

func TestSweepRecordsRunnerErrors(t *testing.T) {
	fr := &fakeRunner{kNeeded: 0, fail: "10"}
	sw := &Sweep{Dir: t.TempDir(), Target: 1e-3, Axes: []Axis{{Key: "stepsize.gamma0", Values: []string{"10", "1"}}}}
	results, err := sw.Run(context.Background(), fr.run)
	if err != nil {
		t.Fatal(err)
	}
	if results[0].Status != "error" || results[0].Err != "bad point" || results[1].Status != "completed" {
		t.Errorf("results %+v", results)
	}
	recs := writeCSV(t, sw, results)
	if recs[1][len(recs[1])-1] != "bad point" || recs[1][3] != "" {
		t.Errorf("error row %q", recs[1])
	}
}

// TestKSearchSmallest: the target is reachable from K = 1700 on; on the grid
// 500, 1000, … the smallest K is 2000, and 1500 must have been run and
// failed to prove it.
func TestKSearchSmallest(t *testing.T) {
	for _, linear := range []bool{false, true} {
		fr := &fakeRunner{kNeeded: 1700}
		dir := t.TempDir()
		sw := &Sweep{Dir: dir, Target: 1e-3, KSearch: &KSearch{Key: "run.iterations", Start: 500, Step: 500, Max: 20000, Linear: linear},
			Axes: []Axis{{Key: "stepsize.gamma0", Values: []string{"1"}}}}
		results, err := sw.Run(context.Background(), fr.run)
		if err != nil {
			t.Fatal(err)
		}
		chosen := Chosen(results)
		if len(chosen) != 1 || chosen[0].K != 2000 || chosen[0].Role != "chosen" {
			t.Fatalf("linear=%v: chosen %+v", linear, chosen)
		}
		ran := map[int]bool{}
		for _, k := range fr.calls {
			if ran[k] {
				t.Errorf("K = %d run twice", k)
			}
			ran[k] = true
		}
		if !ran[1500] {
			t.Errorf("linear=%v: K − step = 1500 was not run (runs %v)", linear, fr.calls)
		}
		for _, r := range results {
			if r.K < 2000 && r.Reached() {
				t.Errorf("K = %d reached the target but was not chosen", r.K)
			}
		}
		if !linear && len(fr.calls) > 7 {
			t.Errorf("doubling+bisection made %d runs: %v", len(fr.calls), fr.calls)
		}
		if linear && !reflect.DeepEqual(fr.calls, []int{500, 1000, 1500, 2000}) {
			t.Errorf("linear scan ran %v", fr.calls)
		}
		// the chosen run is point-000.h5 and says K = 2000
		run, err := hdf5io.Open(filepath.Join(dir, "point-000.h5"))
		if err != nil {
			t.Fatal(err)
		}
		if last := run.Ints["iteration"][run.Rows()-1]; last != 2000 {
			t.Errorf("point-000.h5 ends at %d", last)
		}
		recs := writeCSV(t, sw, results)
		if recs[0][2] != "run.iterations" || recs[0][3] != "role" {
			t.Errorf("header %q", recs[0])
		}
		last := recs[len(recs)-1]
		if last[2] != "2000" || last[3] != "chosen" {
			t.Errorf("last row %q", last)
		}
	}
}

func TestKSearchEdges(t *testing.T) {
	// reachable at once: Start is chosen after one run
	fr := &fakeRunner{kNeeded: 0}
	sw := &Sweep{Dir: t.TempDir(), Target: 1e-3, KSearch: &KSearch{Key: "run.iterations", Start: 500, Step: 500, Max: 5000}}
	results, err := sw.Run(context.Background(), fr.run)
	if err != nil || len(results) != 1 || results[0].K != 500 || results[0].Role != "chosen" {
		t.Errorf("immediate: %+v %v", results, err)
	}
	// never reachable: the largest K is marked "none" and Max was tried
	fr = &fakeRunner{kNeeded: math.MaxInt}
	sw.Dir = t.TempDir()
	results, err = sw.Run(context.Background(), fr.run)
	if err != nil {
		t.Fatal(err)
	}
	ch := Chosen(results)
	if len(ch) != 1 || ch[0].Role != "none" || ch[0].K != 5000 {
		t.Errorf("never: chosen %+v (runs %v)", ch, fr.calls)
	}
	// a K search needs a target and K must not also be an axis
	bad := &Sweep{Dir: t.TempDir(), KSearch: &KSearch{Key: "run.iterations", Start: 1, Step: 1, Max: 2}, Target: math.NaN()}
	if _, err := bad.Run(context.Background(), fr.run); err == nil {
		t.Error("K search without target accepted")
	}
	bad.Target = 1
	bad.Axes = []Axis{{Key: "run.iterations", Values: []string{"1"}}}
	if _, err := bad.Run(context.Background(), fr.run); err == nil {
		t.Error("K both chosen and an axis accepted")
	}
}
