package runfile

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/efmpi/efmpi/hdf5io"
)

func attrMap(kv ...any) map[string]any {
	out := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// The labels of the paper's methods, the two cases outputs used to disagree
// on (ef21-sgdm with η = 1; ef21 with the identity and normalisation), and a
// compressor that records its own parameter.
func TestLabels(t *testing.T) {
	for _, c := range []struct {
		attrs       map[string]any
		method, all string
	}{
		{attrMap("method", "ef21", "normalize", int64(1), "compressor", "top-k", "k", int64(1), "stepsize_rule", "norm-theory", "gamma0", 1.0),
			"||EF21|| top-1", "||EF21|| top-1, γ = γ0/√(K+1), γ0 = 1"},
		{attrMap("method", "ef21", "normalize", int64(0), "compressor", "top-k", "k", int64(10), "stepsize_rule", "ef21-theory", "factor", 1.0),
			"EF21 top-10", "EF21 top-10, γ = 1/(L + L̃√(β/θ))"},
		{attrMap("method", "ef21-sgdm", "normalize", int64(1), "compressor", "identity", "stepsize_rule", "norm-theory", "gamma0", 0.1, "eta", 0.05),
			"||SGDM||", "||SGDM||, γ = γ0/(K+1)^¾, γ0 = 0.1"},
		{attrMap("method", "ef21-sgdm", "normalize", int64(1), "compressor", "top-k", "k", int64(1), "stepsize_rule", "norm-theory", "gamma0", 1.0, "eta", 1.0),
			"||EF21-SGD|| top-1", "||EF21-SGD|| top-1, γ = γ0/(K+1)^¾, γ0 = 1"},
		{attrMap("method", "ef21-sgdm", "normalize", int64(0), "compressor", "identity", "eta", 1.0, "stepsize_rule", "constant", "gamma", 0.5),
			"SGD", "SGD, γ = 0.5"},
		{attrMap("method", "ef21-sgdm", "normalize", int64(1), "compressor", "top-k", "k", int64(1), "stepsize_rule", "poly", "gamma0", 1.0, "p", 0.75, "eta", 1.0, "eta_rule", "poly", "eta_q", 0.5),
			"||EF21-SGDM|| top-1", "||EF21-SGDM|| top-1, γ = γ0/(t+1)^p, γ0 = 1, p = 0.75, η = η0(2/(t+2))^q, q = 0.5"},
		{attrMap("method", "ef21-storm", "normalize", int64(1), "compressor", "top-k", "k", int64(1), "stepsize_rule", "poly", "gamma0", 1.0, "p", 0.5, "eta", 0.3),
			"||EF21-STORM|| top-1", "||EF21-STORM|| top-1, γ = γ0/(t+1)^p, γ0 = 1, p = 0.5"},
		{attrMap("method", "ef21", "normalize", int64(1), "compressor", "identity", "stepsize_rule", "norm-theory", "gamma0", 1.0),
			"||GD||", "||GD||, γ = γ0/√(K+1), γ0 = 1"},
		{attrMap("method", "ef21", "normalize", int64(0), "compressor", "identity", "stepsize_rule", "constant", "gamma", 0.01),
			"GD", "GD, γ = 0.01"},
		{attrMap("method", "ef14", "normalize", int64(0), "compressor", "rand-k", "k", int64(3), "stepsize_rule", "decreasing", "gamma0", 2.0),
			"EF14 rand-3", "EF14 rand-3, γ = γ0/√(k+1), γ0 = 2"},
		{attrMap("method", "ef21", "normalize", int64(0), "compressor", "sign", "k", int64(3), "stepsize_rule", "ef21-theory", "factor", 2.0),
			"EF21 sign", "EF21 sign, γ = 2/(L + L̃√(β/θ))"},
		{attrMap("method", "ef21", "normalize", int64(1), "compressor", "natural-dither", "compressor_levels", int64(4), "stepsize_rule", "norm-theory", "gamma0", 1.0),
			"||EF21|| natural-dither (levels = 4)", "||EF21|| natural-dither (levels = 4), γ = γ0/√(K+1), γ0 = 1"},
		{attrMap("method", "ef21-w", "normalize", int64(0), "compressor", "top-k", "k", int64(1), "stepsize_rule", "ef21-theory-am", "factor", 1.0),
			"EF21-W top-1", "EF21-W top-1, γ = 1/(L + L_AM√(β/θ))"},
		{attrMap("method", "ef21", "normalize", int64(1), "compressor", "top-k", "k", int64(2), "participation", 0.5, "stepsize_rule", "norm-theory", "gamma0", 1.0),
			"||EF21-PP|| top-2", "||EF21-PP|| top-2, γ = γ0/√(K+1), γ0 = 1"},
		{attrMap("method", "ef21", "normalize", int64(0), "compressor", "top-k", "k", int64(1), "participation", 0.1, "stepsize_rule", "ef21-pp-theory", "factor", 30.0),
			"EF21-PP top-1", "EF21-PP top-1, γ = 30/(L + L̃√(B_p/θ_p))"},
		{attrMap("method", "signsgd", "normalize", int64(0), "compressor", "top-k", "k", int64(1), "eta", 0.1, "noise", "student-t", "noise_nu", 1.5, "stepsize_rule", "constant", "gamma", 0.001),
			"Signum-MV (student-t, ν = 1.5)", "Signum-MV (student-t, ν = 1.5), γ = 0.001"},
		{attrMap("method", "signsgd", "normalize", int64(0), "compressor", "top-k", "eta", 1.0, "stepsize_rule", "decreasing", "gamma0", 0.01),
			"signSGD-MV", "signSGD-MV, γ = γ0/√(k+1), γ0 = 0.01"},
		{attrMap("method", "ef21-sgdm", "normalize", int64(1), "compressor", "top-k", "k", int64(1), "eta", 0.1, "noise", "student-t", "noise_nu", 3.0, "stepsize_rule", "norm-theory", "gamma0", 1.0),
			"||EF21-SGDM|| top-1 (student-t, ν = 3)", "||EF21-SGDM|| top-1 (student-t, ν = 3), γ = γ0/(K+1)^¾, γ0 = 1"},
	} {
		if got := MethodLabel(c.attrs); got != c.method {
			t.Errorf("MethodLabel(%v) = %q, want %q", c.attrs, got, c.method)
		}
		if got := Label(c.attrs); got != c.all {
			t.Errorf("Label(%v) = %q, want %q", c.attrs, got, c.all)
		}
	}
}

// writeRun records a small run file with hand-chosen rows.
func writeRun(t *testing.T, path string, attrs []hdf5io.Attr, rows []hdf5io.Row, status string) {
	t.Helper()
	rec, err := hdf5io.Create(path, true, 2, attrs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := rec.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Close(status); err != nil {
		t.Fatal(err)
	}
}

// The summary's numbers are those of the rows written, worked out by hand:
// final values of the last row, the minimum over rows, and the first row
// at or below a target.
func TestSummaryAgainstRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.h5")
	rows := []hdf5io.Row{
		{Iteration: 0, F: 3, GradNormSq: 1, BitsPerWorker: 0, TimeS: 0},
		{Iteration: 10, F: 2, GradNormSq: 0.1, BitsPerWorker: 320, WireBytesUp: 7, TimeS: 0.5},
		{Iteration: 20, F: 1.5, GradNormSq: 0.01, BitsPerWorker: 640, WireBytesUp: 14, TimeS: 1},
		{Iteration: 25, F: 1.25, GradNormSq: 0.05, BitsPerWorker: 800, WireBytesUp: 21, WireBytesDown: 3, TimeS: 1.25},
	}
	writeRun(t, path, []hdf5io.Attr{{Name: "method", Value: "ef21-sgdm"}, {Name: "normalize", Value: true},
		{Name: "compressor", Value: "top-k"}, {Name: "k", Value: 5}, {Name: "eta", Value: 1.0},
		{Name: "n_ranks", Value: 4}, {Name: "stepsize_rule", Value: "norm-theory"}, {Name: "gamma0", Value: 0.5}},
		rows, StatusCompleted)
	rec, err := hdf5io.Create(path+".eval.h5", true, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec.AppendEval(hdf5io.EvalRow{Iteration: 0, TrainAccuracy: 0.5, TestLoss: 2, TestAccuracy: 0.4})
	rec.AppendEval(hdf5io.EvalRow{Iteration: 20, TrainAccuracy: 0.75, TestLoss: 1.5, TestAccuracy: 0.625})
	rec.Close(StatusCompleted)
	if ev, err := SummarizeFile(path + ".eval.h5"); err != nil || ev.FinalTrainAccuracy != 0.75 || ev.FinalTestLoss != 1.5 || ev.FinalTestAccuracy != 0.625 {
		t.Errorf("eval summary %+v %v", ev, err)
	}
	s, err := SummarizeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(s.FinalTestAccuracy) {
		t.Errorf("no /eval, test accuracy %v", s.FinalTestAccuracy)
	}
	if s.Label != "||EF21-SGD|| top-5" || s.Method != "ef21-sgdm" || s.Status != "completed" || s.Rows != 4 ||
		s.LastIteration != 25 || s.FinalF != 1.25 || s.FinalGradNormSq != 0.05 || s.MinGradNormSq != 0.01 ||
		s.BitsPerWorker != 800 || s.WireBytesUp != 21 || s.WireBytesDown != 3 || s.TimeS != 1.25 {
		t.Fatalf("summary %+v", s)
	}
	for target, want := range map[float64][2]int64{1: {0, 0}, 0.1: {10, 320}, 0.05: {20, 640}, 0.01: {20, 640}, 0.001: {-1, -1}} {
		it, bits, ok := s.Reach(target)
		if it != want[0] || bits != want[1] || ok != (want[0] >= 0) {
			t.Errorf("Reach(%g) = %d, %d, %v; want %v", target, it, bits, ok, want)
		}
	}
	head := TableHeader(true)
	cells := s.Cells(true, 0.05)
	if len(head) != len(cells) {
		t.Fatalf("%d header names, %d cells", len(head), len(cells))
	}
	got := map[string]string{}
	for i, h := range head {
		got[h] = cells[i]
	}
	want := map[string]string{"label": "||EF21-SGD|| top-5", "method": "ef21-sgdm", "normalize": "1", "k": "5",
		"ranks": "4", "stepsize_rule": "norm-theory", "gamma0": "0.5", "last_iteration": "25", "rows": "4",
		"status": "completed", "final_f": "1.25", "final_grad_norm_sq": "0.05", "min_grad_norm_sq": "0.01",
		"bits_per_worker": "800", "time_s": "1.25", "target": "0.05", "iters_to_target": "20", "bits_to_target": "640",
		"gamma": ""}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("column %s = %q, want %q", k, got[k], v)
		}
	}
}

// export writes exactly the values in the file.
func TestExportCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.h5")
	rows := []hdf5io.Row{{Iteration: 0, F: 1.0 / 3, GradNormSq: math.Pi, EstErrSq: math.NaN(), BitsPerWorker: 32},
		{Iteration: 5, F: 0.1, GradNormSq: 1e-300, EstErrSq: 2, StepSize: 0.25, BitsPerWorker: 64, TimeS: 1e-3}}
	writeRun(t, path, []hdf5io.Attr{{Name: "method", Value: "ef14"}}, rows, StatusCompleted)
	run, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteTrajectoryCSV(&buf, run); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], hdf5io.Columns) || len(recs) != 3 {
		t.Fatalf("header %v, %d lines", recs[0], len(recs))
	}
	for i, rec := range recs[1:] {
		for j, c := range recs[0] {
			v, err := strconv.ParseFloat(rec[j], 64)
			if err != nil {
				t.Fatalf("row %d %s: %q", i, c, rec[j])
			}
			var want float64
			if ints, ok := run.Ints[c]; ok {
				want = float64(ints[i])
			} else {
				want = run.Floats[c][i]
			}
			if v != want && !(math.IsNaN(v) && math.IsNaN(want)) {
				t.Errorf("row %d %s: %v, file has %v", i, c, v, want)
			}
		}
	}
	buf.Reset()
	if err := WriteColumnsCSV(&buf, run); err != nil {
		t.Fatal(err)
	}
	recs, _ = csv.NewReader(&buf).ReadAll()
	if len(recs) != len(hdf5io.Columns)+1 || recs[6][0] != "bits_per_worker" || recs[6][1] != "bit" || len(recs[6][2]) < 20 {
		t.Errorf("columns table %q", recs)
	}
}

func TestStatuses(t *testing.T) {
	if !Finished(StatusCompleted) || !Finished(StatusTolerance) || Finished(StatusInterrupted) || Finished(StatusRunning) {
		t.Error("Finished")
	}
	if len(Statuses()) != 6 {
		t.Error("Statuses")
	}
}

// JSON (inspect -json) writes a missing number as null, never fails on NaN.
func TestSummaryJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.h5")
	writeRun(t, path, []hdf5io.Attr{{Name: "method", Value: "ef14"}, {Name: "gamma", Value: math.NaN()}}, nil, StatusFailed)
	s, err := SummarizeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back["final_f"] != nil || back["rows"] != 0.0 || back["status"] != "failed" || back["attrs"].(map[string]any)["gamma"] != nil {
		t.Errorf("json %s", b)
	}
}
