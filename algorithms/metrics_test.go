package algorithms

import (
	"math"
	"testing"
)

// TestMetricsOfByHand checks a row worked by hand: n = 2 clients with
// f_1 + f_2 = 3 and ∇f_1 + ∇f_2 = (2, −4), so f = 1.5, ∇f = (1, −2),
// ‖∇f‖² = 5; with g = (0.5, −2), ‖g − ∇f‖² = 0.25.
func TestMetricsOfByHand(t *testing.T) {
	m := MetricsOf([]float64{3, 2, -4}, []float64{0.5, -2}, 2)
	if m.F != 1.5 || m.GradNormSq != 5 || m.EstErrSq != 0.25 {
		t.Fatalf("got %+v, want f = 1.5, ‖∇f‖² = 5, ‖g − ∇f‖² = 0.25", m)
	}
	if m := MetricsOf([]float64{3, 2, -4}, nil, 2); m.GradNormSq != 5 || !math.IsNaN(m.EstErrSq) {
		t.Fatalf("without an estimator: %+v, want ‖∇f‖² = 5 and a NaN error", m)
	}
}

// TestStopRule checks each branch of the decision and its order.
func TestStopRule(t *testing.T) {
	ok := RowMetrics{F: 1, GradNormSq: 1e-3}
	cases := []struct {
		m               RowMetrics
		xFinite, signal bool
		tol             float64
		want            Status
	}{
		{ok, true, false, 0, NotTerminated},
		{ok, true, false, 1e-4, NotTerminated},
		{ok, true, false, 1e-3, StoppedTolerance}, // ≤, not <
		{ok, true, true, 1e-3, Interrupted},       // a signal before the tolerance
		{ok, false, true, 1e-3, Diverged},         // non-finite x before anything
		{RowMetrics{F: math.Inf(1), GradNormSq: 1}, true, false, 0, Diverged},
		{RowMetrics{F: 1, GradNormSq: math.NaN()}, true, false, 10, Diverged},
	}
	for i, c := range cases {
		if got := StopRule(c.m, c.xFinite, c.signal, c.tol); got != c.want {
			t.Errorf("case %d: %v, want %v", i, got, c.want)
		}
	}
}
