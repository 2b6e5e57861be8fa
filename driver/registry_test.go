package driver

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/hdf5io"
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
