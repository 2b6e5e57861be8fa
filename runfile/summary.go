package runfile

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/hdf5io"
)

// Summary is one recorded run in a few numbers: what `inspect` prints, and
// one row of `summarize` and of a sweep's table.
type Summary struct {
	File string `json:"file"`
	// Label is MethodLabel (method and compressor as the paper writes them);
	// Method is the config key ("ef21", "ef21-sgdm", "ef14").
	Label  string `json:"label"`
	Method string `json:"method"`
	Status string `json:"status"`
	// Rows is the number of trajectory rows; the Final* values and
	// LastIteration are those of the last row (NaN / 0 without rows).
	Rows            int     `json:"rows"`
	LastIteration   int64   `json:"last_iteration"`
	FinalF          float64 `json:"final_f"`
	FinalGradNormSq float64 `json:"final_grad_norm_sq"`
	// MinGradNormSq is the smallest recorded ‖∇f‖² (NaN without rows).
	MinGradNormSq float64 `json:"min_grad_norm_sq"`
	BitsPerWorker int64   `json:"bits_per_worker"`
	WireBytesUp   int64   `json:"wire_bytes_up"`
	WireBytesDown int64   `json:"wire_bytes_down"`
	TimeS         float64 `json:"time_s"`
	// The last evaluation (/eval) on the training and test set; NaN when
	// the run evaluated nothing (or had no test set).
	FinalTrainAccuracy float64        `json:"final_train_accuracy"`
	FinalTestLoss      float64        `json:"final_test_loss"`
	FinalTestAccuracy  float64        `json:"final_test_accuracy"`
	Attrs              map[string]any `json:"attrs"`
	Timing             map[string]any `json:"timing,omitempty"`
	// Segments are the starts of the run (/segments; nil for older files).
	Segments []map[string]any `json:"segments,omitempty"`
	// Writer is set for a run whose status is still running: whether its
	// writer is alive or gone (see WriterOf).
	Writer *Writer `json:"writer,omitempty"`

	iteration, bits []int64
	gradNormSq      []float64
}

// Summarize computes the summary of a run read back from its file.
func Summarize(run *hdf5io.Run) *Summary {
	s := &Summary{File: run.Path, Label: MethodLabel(run.Attrs), Status: run.String("status"), Rows: run.Rows(),
		Attrs: run.Attrs, Timing: run.Timing, Segments: run.Segments, FinalF: math.NaN(), FinalGradNormSq: math.NaN(),
		MinGradNormSq: math.NaN(), TimeS: math.NaN(),
		FinalTrainAccuracy: math.NaN(), FinalTestLoss: math.NaN(), FinalTestAccuracy: math.NaN(),
		iteration: run.Ints["iteration"], bits: run.Ints["bits_per_worker"], gradNormSq: run.Floats["grad_norm_sq"]}
	s.Method, _ = run.Attrs["method"].(string)
	if s.Status == StatusRunning {
		s.Writer = WriterOf(run.Path)
	}
	if n := run.Rows(); n > 0 {
		s.LastIteration = run.Ints["iteration"][n-1]
		s.FinalF = run.Floats["f"][n-1]
		s.FinalGradNormSq = run.Floats["grad_norm_sq"][n-1]
		s.BitsPerWorker = run.Ints["bits_per_worker"][n-1]
		s.WireBytesUp = run.Ints["wire_bytes_up"][n-1]
		s.WireBytesDown = run.Ints["wire_bytes_down"][n-1]
		s.TimeS = run.Floats["time_s"][n-1]
		s.MinGradNormSq = MinFinite(s.gradNormSq)
	}
	if n := len(run.EvalIteration); n > 0 {
		s.FinalTrainAccuracy = run.Eval["train_accuracy"][n-1]
		s.FinalTestLoss = run.Eval["test_loss"][n-1]
		s.FinalTestAccuracy = run.Eval["test_accuracy"][n-1]
	}
	return s
}

// SummarizeFile opens a run file and summarizes it.
func SummarizeFile(path string) (*Summary, error) {
	run, err := hdf5io.Open(path)
	if err != nil {
		return nil, err
	}
	return Summarize(run), nil
}

// MinFinite is the smallest non-NaN value (NaN if there is none).
func MinFinite(v []float64) float64 {
	m := math.NaN()
	for _, x := range v {
		if !math.IsNaN(x) && (math.IsNaN(m) || x < m) {
			m = x
		}
	}
	return m
}

// Reach returns the first recorded iteration and bits per worker at which
// ‖∇f‖² ≤ target; ok is false if the run never got there (or target is
// NaN). Only recorded rows count: with log_every > 1 the true first
// iteration may lie up to log_every − 1 earlier.
func (s *Summary) Reach(target float64) (iteration, bits int64, ok bool) {
	return s.ReachBy(target, First)
}

// TableColumn is one column of the run tables (`summarize`, a sweep's
// sweep.csv): its name and what it holds.
type TableColumn struct{ Name, Description string }

// tableColumns are the per-run columns every table of runs shares, in order.
var tableColumns = []TableColumn{
	{"label", "method and compressor as the paper writes them (runfile.MethodLabel), e.g. ||EF21|| top-1"},
	{"method", "the config's algorithm.method: ef21, ef21-sgdm or ef14"},
	{"normalize", "1 for the ||·|| (normalised) variants, else 0"},
	{"compressor", "the config's algorithm.compressor"},
	{"k", "k of top-k and rand-k (empty for other compressors)"},
	{"ranks", "number of ranks n"},
	{"d", "dimension d"},
	{"dataset", "the data: a LIBSVM path, or synthetic"},
	{"stepsize_rule", "the config's stepsize.rule"},
	{"gamma", "γ: the constant step, or the rule's γ for theory rules (γ0 for decreasing)"},
	{"gamma0", "γ0 of norm-theory and decreasing (empty otherwise)"},
	{"seed", "run.seed"},
	{"iterations", "K, the configured number of iterations"},
	{"iterations_done", "iterations actually done (fewer on a tolerance stop or failure)"},
	{"last_iteration", "iteration of the last recorded row"},
	{"rows", "number of recorded rows"},
	{"status", "completed, stopped-tolerance, diverged, failed, interrupted or running"},
	{"final_f", "f at the last recorded row"},
	{"final_grad_norm_sq", "‖∇f‖² at the last recorded row"},
	{"min_grad_norm_sq", "smallest recorded ‖∇f‖²"},
	{"bits_per_worker", "cumulative bits per worker at the last row (32 per value)"},
	{"wire_bytes_up", "cumulative bytes to rank 0 at the last row"},
	{"wire_bytes_down", "cumulative bytes from rank 0 at the last row"},
	{"time_s", "wall seconds at the last row"},
	{"final_train_accuracy", "training accuracy at the last evaluation (/eval; empty without eval_every)"},
	{"final_test_loss", "test loss at the last evaluation (empty without a test set)"},
	{"final_test_accuracy", "test accuracy at the last evaluation (empty without a test set)"},
}

// targetColumns follow tableColumns when a target is given.
var targetColumns = []TableColumn{
	{"target", "the ‖∇f‖² target T"},
	{"target_criterion", "when the target counts as reached: first (the first row with ‖∇f‖² ≤ T) or stays (the first row from which ‖∇f‖² stays ≤ T to the end of the run)"},
	{"iters_to_target", "recorded iteration at which the target is reached under target_criterion (empty if never)"},
	{"bits_to_target", "bits per worker at that iteration (empty if never)"},
}

// TableColumns returns the per-run columns of the tables, with the three
// target columns at the end when withTarget is set.
func TableColumns(withTarget bool) []TableColumn {
	out := append([]TableColumn(nil), tableColumns...)
	if withTarget {
		out = append(out, targetColumns...)
	}
	return out
}

// TableHeader is the names of TableColumns(withTarget).
func TableHeader(withTarget bool) []string {
	cols := TableColumns(withTarget)
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

// Cells returns the summary as the values of TableHeader(withTarget),
// target being the ‖∇f‖² threshold of the target columns. Floats are
// written with the fewest digits that read back to the same float64; an
// absent value is an empty cell.
func (s *Summary) Cells(withTarget bool, target float64) []string {
	if !withTarget {
		return s.CellsBy(math.NaN(), "")
	}
	return s.CellsBy(target, First)
}

// CellsBy returns the summary as the values of TableHeader(c != ""): with a
// criterion c, the target columns for target T reached under c.
func (s *Summary) CellsBy(target float64, c Criterion) []string {
	withTarget := c != ""
	a := s.Attrs
	k := ""
	if c, _ := a["compressor"].(string); algorithms.CompressorUsesK(c) {
		k = AttrText(a["k"])
	}
	last, rows := "", strconv.Itoa(s.Rows)
	bits, up, down := "", "", ""
	if s.Rows > 0 {
		last = strconv.FormatInt(s.LastIteration, 10)
		bits = strconv.FormatInt(s.BitsPerWorker, 10)
		up = strconv.FormatInt(s.WireBytesUp, 10)
		down = strconv.FormatInt(s.WireBytesDown, 10)
	}
	out := []string{
		s.Label, s.Method, AttrText(a["normalize"]), AttrText(a["compressor"]), k,
		AttrText(a["n_ranks"]), AttrText(a["d"]), AttrText(a["dataset"]),
		AttrText(a["stepsize_rule"]), AttrText(a["gamma"]), AttrText(a["gamma0"]), AttrText(a["seed"]),
		AttrText(a["iterations"]), AttrText(a["iterations_done"]), last, rows, s.Status,
		FloatText(s.FinalF), FloatText(s.FinalGradNormSq), FloatText(s.MinGradNormSq), bits, up, down, FloatText(s.TimeS),
		FloatText(s.FinalTrainAccuracy), FloatText(s.FinalTestLoss), FloatText(s.FinalTestAccuracy),
	}
	if withTarget {
		crit := string(c)
		if math.IsNaN(target) {
			crit = "" // no target: the target columns are empty
		}
		out = append(out, FloatText(target), crit)
		if it, b, ok := s.ReachBy(target, c); ok {
			out = append(out, strconv.FormatInt(it, 10), strconv.FormatInt(b, 10))
		} else {
			out = append(out, "", "")
		}
	}
	return out
}

// EmptyCells is a row of TableHeader(withTarget) for a run that has no file:
// every cell empty but status.
func EmptyCells(withTarget bool, status string) []string {
	out := make([]string, len(TableHeader(withTarget)))
	for i, c := range TableColumns(withTarget) {
		if c.Name == "status" {
			out[i] = status
		}
	}
	return out
}

// AttrText formats an attribute value for a table ("" if absent).
func AttrText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case float64:
		return FloatText(v)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return fmt.Sprint(v)
}

// FloatText writes v with the fewest digits that read back to the same
// float64; NaN is an empty cell.
func FloatText(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// jsonNumber is a float64 that encodes NaN and ±Inf as JSON null.
type jsonNumber float64

// MarshalJSON implements json.Marshaler.
func (v jsonNumber) MarshalJSON() ([]byte, error) {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// MarshalJSON writes the summary with the field names of the tables; a
// value that is not a number (no rows, no evaluation) is null.
func (s *Summary) MarshalJSON() ([]byte, error) {
	attrs := map[string]any{}
	for k, v := range s.Attrs {
		if f, ok := v.(float64); ok {
			v = jsonNumber(f)
		}
		attrs[k] = v
	}
	timing := map[string]any{}
	for k, v := range s.Timing {
		if f, ok := v.(float64); ok {
			v = jsonNumber(f)
		}
		timing[k] = v
	}
	if len(timing) == 0 {
		timing = nil
	}
	return json.Marshal(struct {
		File               string           `json:"file"`
		Label              string           `json:"label"`
		Method             string           `json:"method"`
		Status             string           `json:"status"`
		Rows               int              `json:"rows"`
		LastIteration      int64            `json:"last_iteration"`
		FinalF             jsonNumber       `json:"final_f"`
		FinalGradNormSq    jsonNumber       `json:"final_grad_norm_sq"`
		MinGradNormSq      jsonNumber       `json:"min_grad_norm_sq"`
		BitsPerWorker      int64            `json:"bits_per_worker"`
		WireBytesUp        int64            `json:"wire_bytes_up"`
		WireBytesDown      int64            `json:"wire_bytes_down"`
		TimeS              jsonNumber       `json:"time_s"`
		FinalTrainAccuracy jsonNumber       `json:"final_train_accuracy"`
		FinalTestLoss      jsonNumber       `json:"final_test_loss"`
		FinalTestAccuracy  jsonNumber       `json:"final_test_accuracy"`
		Attrs              map[string]any   `json:"attrs"`
		Timing             map[string]any   `json:"timing,omitempty"`
		Segments           []map[string]any `json:"segments,omitempty"`
		Writer             *Writer          `json:"writer,omitempty"`
	}{s.File, s.Label, s.Method, s.Status, s.Rows, s.LastIteration, jsonNumber(s.FinalF), jsonNumber(s.FinalGradNormSq),
		jsonNumber(s.MinGradNormSq), s.BitsPerWorker, s.WireBytesUp, s.WireBytesDown, jsonNumber(s.TimeS),
		jsonNumber(s.FinalTrainAccuracy), jsonNumber(s.FinalTestLoss), jsonNumber(s.FinalTestAccuracy), attrs, timing, s.Segments, s.Writer})
}
