package driver

import (
	"testing"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/hdf5io"
)

// The recorded status strings are the typed algorithms.Status values'.
func TestStatusStringsAreTyped(t *testing.T) {
	for s, want := range map[string]algorithms.Status{StatusRunning: algorithms.NotTerminated, StatusCompleted: algorithms.Completed,
		StatusTolerance: algorithms.StoppedTolerance, StatusDiverged: algorithms.Diverged, StatusFailed: algorithms.Failed,
		StatusInterrupted: algorithms.Interrupted} {
		if s != want.String() {
			t.Errorf("driver status %q, algorithms says %q", s, want)
		}
	}
}

// bits_down_per_worker: majority vote broadcasts one bit per coordinate per
// iteration, so K iterations cost K·d; EF21 with top-1 and n ranks at most
// 32·(d + K·n) (the uncompressed init, then ≤ n entries per aggregate).
func TestBitsDownRecorded(t *testing.T) {
	spec := baseSpec(t)
	spec.Method, spec.Eta, spec.Rule, spec.Gamma, spec.Iterations = algorithms.SignSGD, 1, algorithms.RuleConstant, 0.01, 50
	runSpec(t, t.Context(), spec, StatusCompleted)
	got := readAttr(t, spec.Output, "bits_down_per_worker")
	if got != int64(50*20) {
		t.Fatalf("signsgd: bits_down_per_worker = %v, want K·d = %d", got, 50*20)
	}
	spec = baseSpec(t)
	spec.Iterations = 50
	runSpec(t, t.Context(), spec, StatusCompleted)
	if got := readAttr(t, spec.Output, "bits_down_per_worker").(int64); got > 32*(20+50*4) || got < 32*(20+50) {
		t.Fatalf("ef21 top-1: bits_down_per_worker = %d, want within [32(d+K), 32(d+nK)]", got)
	}
}

func readAttr(t *testing.T, path, name string) any {
	t.Helper()
	run, err := hdf5io.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return run.Attrs[name]
}
