package algorithms

import "math"

// RowMetrics are the exact metrics of a trajectory row at x^k (SPEC §6): f(x^k),
// ‖∇f(x^k)‖² and the estimator's error ‖g^k − ∇f(x^k)‖².
type RowMetrics struct {
	F, GradNormSq, EstErrSq float64
}

// MetricsOf turns sum = [Σ_i f_i(x), Σ_i ∇f_i(x)] over n clients (summed in
// the collectives' fixed order) and the estimator g into the row's metrics,
// with f = (1/n)Σf_i and ∇f = (1/n)Σ∇f_i, in one pass in index order. g may
// be nil (a method without an estimator): EstErrSq is then NaN.
func MetricsOf(sum, g []float64, n int) RowMetrics {
	nf := float64(n)
	grad := sum[1:]
	m := RowMetrics{F: sum[0] / nf}
	if g == nil {
		for _, s := range grad {
			gj := s / nf
			m.GradNormSq += gj * gj
		}
		m.EstErrSq = math.NaN()
		return m
	}
	g = g[:len(grad)]
	for j, s := range grad {
		gj := s / nf
		m.GradNormSq += gj * gj
		e := g[j] - gj
		m.EstErrSq += e * e
	}
	return m
}

// Finite reports whether f and ‖∇f‖² are finite.
func (m RowMetrics) Finite() bool {
	return !math.IsNaN(m.F) && !math.IsInf(m.F, 0) && !math.IsNaN(m.GradNormSq) && !math.IsInf(m.GradNormSq, 0)
}

// StopRule is the decision taken at a metric row, in this order: non-finite
// metrics or x (Diverged), a stop signal on some rank (Interrupted),
// ‖∇f‖² ≤ tolerance when tolerance > 0 (StoppedTolerance); NotTerminated
// otherwise.
func StopRule(m RowMetrics, xFinite, signalled bool, tolerance float64) Status {
	switch {
	case !m.Finite() || !xFinite:
		return Diverged
	case signalled:
		return Interrupted
	case tolerance > 0 && m.GradNormSq <= tolerance:
		return StoppedTolerance
	}
	return NotTerminated
}
