package datasets

import (
	"math"
	"reflect"
	"testing"
)

func TestSyntheticRows(t *testing.T) {
	const m, d, seed = 37, 6, 99
	full, err := Synthetic(m, d, seed)
	if err != nil {
		t.Fatal(err)
	}
	if full.Rows() != m || full.Cols() != d || full.Sparse != nil || full.Source != "synthetic" {
		t.Fatalf("Synthetic: %d×%d %q", full.Rows(), full.Cols(), full.Source)
	}
	const n = 4
	for r := range n {
		lo, hi := ShardBounds(m, n, r)
		part, err := SyntheticRows(m, d, seed, lo, hi)
		if err != nil {
			t.Fatal(err)
		}
		if part.Dense.Rows != hi-lo || !reflect.DeepEqual(part.Dense.Data, full.Dense.Data[lo*d:hi*d]) ||
			!reflect.DeepEqual(part.Labels, full.Labels[lo:hi]) {
			t.Errorf("rank %d: SyntheticRows differs from rows [%d, %d) of Synthetic", r, lo, hi)
		}
		// Also equal to sharding the full dataset.
		sh, err := Shard(full, n, r, ShardOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(sh.Dense.Data, part.Dense.Data) {
			t.Errorf("rank %d: Shard and SyntheticRows differ", r)
		}
	}
	again, _ := Synthetic(m, d, seed)
	other, _ := Synthetic(m, d, seed+1)
	if !reflect.DeepEqual(full, again) {
		t.Error("Synthetic is not reproducible")
	}
	if reflect.DeepEqual(full.Dense.Data, other.Dense.Data) {
		t.Error("different seeds gave the same data")
	}
}

func TestSyntheticDistribution(t *testing.T) {
	const m, d = 4000, 50 // 200 000 entries: standard error of the mean ≈ 0.0022
	ds, err := Synthetic(m, d, 2024)
	if err != nil {
		t.Fatal(err)
	}
	var sum, sum2, sum4 float64
	for _, x := range ds.Dense.Data {
		sum += x
		sum2 += x * x
		sum4 += x * x * x * x
	}
	N := float64(len(ds.Dense.Data))
	mean := sum / N
	variance := sum2/N - mean*mean
	kurt := sum4 / N / (variance * variance)
	if math.Abs(mean) > 0.015 || math.Abs(variance-1) > 0.025 || math.Abs(kurt-3) > 0.1 {
		t.Errorf("mean %.4f variance %.4f kurtosis %.4f, want N(0,1)", mean, variance, kurt)
	}
	pos := 0
	for _, y := range ds.Labels {
		switch y {
		case 1:
			pos++
		case -1:
		default:
			t.Fatalf("label %v", y)
		}
	}
	if frac := float64(pos) / m; math.Abs(frac-0.5) > 0.04 { // sd ≈ 0.008
		t.Errorf("fraction of +1 labels %.3f", frac)
	}
	t.Logf("mean %.4f variance %.4f kurtosis %.3f, +1 fraction %.3f", mean, variance, kurt, float64(pos)/m)
}

func TestSyntheticErrors(t *testing.T) {
	for _, tc := range []struct{ m, d, lo, hi int }{
		{0, 3, 0, 0}, {3, 0, 0, 3}, {-1, 3, 0, 0}, {5, 2, -1, 2}, {5, 2, 3, 2}, {5, 2, 0, 6},
	} {
		if _, err := SyntheticRows(tc.m, tc.d, 1, tc.lo, tc.hi); err == nil {
			t.Errorf("SyntheticRows(%d, %d, 1, %d, %d) accepted", tc.m, tc.d, tc.lo, tc.hi)
		}
	}
	if _, err := Synthetic(0, 1, 1); err == nil {
		t.Error("Synthetic(0, 1) accepted")
	}
}

// SyntheticLabels gives the labels of the full synthetic dataset.
func TestSyntheticLabels(t *testing.T) {
	full, err := Synthetic(300, 7, 11)
	if err != nil {
		t.Fatal(err)
	}
	got, err := SyntheticLabels(300, 7, 11)
	if err != nil {
		t.Fatal(err)
	}
	for j := range got {
		if got[j] != full.Labels[j] {
			t.Fatalf("label %d = %v, want %v", j, got[j], full.Labels[j])
		}
	}
}
