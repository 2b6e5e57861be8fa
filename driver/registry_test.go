package driver

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/problems"
	"github.com/efmpi/efmpi/runfile"
)

// halfTop is a toy compressor of the kind a user adds in one file: top-k
// with k = ⌈d/2⌉, registered with a parameter of its own.
type halfTop struct{ *algorithms.TopK }

func (halfTop) Name() string { return "half-top" }

func init() {
	algorithms.RegisterCompressor(algorithms.CompressorInfo{
		Name: "half-top",
		New: func(_, d int, _ *rand.Rand) (algorithms.Compressor, error) {
			return halfTop{algorithms.NewTopK((d + 1) / 2)}, nil
		},
		Params: func(_, d int) map[string]any { return map[string]any{"fraction": 0.5, "kept": (d + 1) / 2} },
	})
}

// A registered compressor runs through the whole driver with no edit
// elsewhere: its run equals top-k with the same k bit for bit, and its
// parameters are in the file and in the label.
func TestRegisteredCompressor(t *testing.T) {
	spec := baseSpec(t)
	spec.Compressor, spec.K = "half-top", 0
	sh, err := Prepare(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunInproc(context.Background(), sh, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ref := baseSpec(t)
	ref.Compressor, ref.K = "top-k", (sh.Dim+1)/2
	rsh, err := Prepare(ref, 3)
	if err != nil {
		t.Fatal(err)
	}
	want, err := RunInproc(context.Background(), rsh, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.X, want.X) || sh.Alpha != rsh.Alpha {
		t.Errorf("half-top differs from top-%d (α %v vs %v)", ref.K, sh.Alpha, rsh.Alpha)
	}
	run, err := hdf5io.Open(spec.Output)
	if err != nil {
		t.Fatal(err)
	}
	if run.Attrs["compressor_fraction"] != 0.5 || run.Attrs["compressor_kept"] != int64(ref.K) {
		t.Errorf("parameters %v %v", run.Attrs["compressor_fraction"], run.Attrs["compressor_kept"])
	}
	if got, want := runfile.MethodLabel(run.Attrs), "EF21 half-top (fraction = 0.5, kept = 10)"; got != want {
		t.Errorf("label %q, want %q", got, want)
	}
	s := runfile.Summarize(run)
	cells := s.Cells(false, 0)
	for i, h := range runfile.TableHeader(false) {
		if h == "k" && cells[i] != "" {
			t.Errorf("k column %q for a compressor without k", cells[i])
		}
	}
}

func init() {
	// a data problem registered from one file: logistic regression under
	// another name, so its run can be checked bit for bit
	problems.RegisterDataProblem(problems.DataProblem{Kind: "logreg-copy",
		New: func(ds *datasets.Dataset, lambda float64) (problems.Objective, error) {
			return problems.NewLogReg(ds, lambda)
		},
		Smoothness: problems.LogRegSmoothness,
		Loss:       func(z, b float64) float64 { return problems.Softplus(-b * z) },
	})
}

// A registered data problem runs through the driver (data, shards, L for
// ef21-theory, test-set scores) with no edit elsewhere.
func TestRegisteredProblem(t *testing.T) {
	run := func(kind string) (Result, *hdf5io.Run) {
		spec := baseSpec(t)
		spec.Problem, spec.TestFraction, spec.EvalEvery, spec.LogEvery = kind, 0.2, 20, 10
		sh, err := Prepare(spec, 2)
		if err != nil {
			t.Fatal(err)
		}
		res, err := RunInproc(context.Background(), sh, Options{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := hdf5io.Open(spec.Output)
		if err != nil {
			t.Fatal(err)
		}
		return res, r
	}
	a, ra := run("logreg-copy")
	b, rb := run("logreg")
	if !slices.Equal(a.X, b.X) || ra.Attrs["gamma"] != rb.Attrs["gamma"] || !slices.Equal(ra.Eval["test_loss"], rb.Eval["test_loss"]) {
		t.Errorf("logreg-copy differs from logreg: γ %v vs %v", ra.Attrs["gamma"], rb.Attrs["gamma"])
	}
	if ra.Attrs["problem"] != "logreg-copy" {
		t.Errorf("problem attribute %v", ra.Attrs["problem"])
	}
}
