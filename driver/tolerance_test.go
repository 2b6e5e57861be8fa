package driver

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/hdf5io"
)

// With a tolerance, a full-gradient method stops at the first iteration
// where ‖∇f‖² ≤ tolerance whatever log_every is (the stopping row is
// recorded between log rows); a stochastic method stops on a recorded row.
func TestToleranceEveryIteration(t *testing.T) {
	run := func(spec Spec, logEvery int, name string) *hdf5io.Run {
		t.Helper()
		spec.LogEvery = logEvery
		spec.Output = filepath.Join(t.TempDir(), name+".h5")
		sh, err := Prepare(spec, 2)
		if err != nil {
			t.Fatal(err)
		}
		res, err := RunInproc(context.Background(), sh, Options{})
		if err != nil || res.Status != StatusTolerance {
			t.Fatalf("%s: %v %v", name, res.Status, err)
		}
		r, err := hdf5io.Open(spec.Output)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	spec := baseSpec(t)
	spec.Tolerance, spec.Iterations = 1e-3, 5000
	every := run(spec, 1, "every")
	n := every.Rows()
	stop := every.Ints["iteration"][n-1]
	sparse := run(spec, 50, "sparse")
	m := sparse.Rows()
	if got := sparse.Ints["iteration"][m-1]; got != stop || stop%50 == 0 {
		t.Fatalf("log_every 50 stopped at %d, log_every 1 at %d (want equal, and not a multiple of 50 for this test to mean anything)", got, stop)
	}
	if sparse.Floats["grad_norm_sq"][m-1] != every.Floats["grad_norm_sq"][n-1] {
		t.Errorf("stopping ‖∇f‖² %v vs %v", sparse.Floats["grad_norm_sq"][m-1], every.Floats["grad_norm_sq"][n-1])
	}
	for i := 0; i < m-1; i++ {
		if it := sparse.Ints["iteration"][i]; it%50 != 0 || sparse.Floats["grad_norm_sq"][i] != every.Floats["grad_norm_sq"][it] {
			t.Errorf("row %d: iteration %d differs from the log_every 1 run", i, it)
		}
	}
	// EF21-SGDM: no exact gradient at hand, so only recorded rows count
	spec.Method, spec.Normalize, spec.Rule, spec.Gamma0 = algorithms.EF21SGDM, true, algorithms.RuleNormTheory, 0.5
	spec.Tolerance = 3e-2
	sg := run(spec, 25, "sgdm")
	if it := sg.Ints["iteration"][sg.Rows()-1]; it%25 != 0 {
		t.Errorf("EF21-SGDM stopped at %d, not on a recorded row", it)
	}
}
