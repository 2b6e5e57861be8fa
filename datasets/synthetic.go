package datasets

import (
	"fmt"
	"math"

	"github.com/efmpi/efmpi/rng"
)

// SyntheticSource is the Source of datasets made by Synthetic and SyntheticRows.
const SyntheticSource = "synthetic"

// Synthetic returns the synthetic dataset of the paper's §6.1: a dense m×d
// matrix with entries i.i.d. N(0, 1) and labels ±1 with equal probability.
// Row j is drawn from its own stream rng.New(seed, rng.Synthetic, j): first its
// d features with NormFloat64, then its label, −1 if Uint64()&1 == 0 and +1
// otherwise. So any block of rows can be generated alone (SyntheticRows).
func Synthetic(m, d int, seed uint64) (*Dataset, error) {
	return SyntheticRows(m, d, seed, 0, m)
}

// SyntheticRows returns rows [lo, hi) of Synthetic(m, d, seed), bit for bit,
// without generating the others: a rank can make just its own shard, e.g. with
// lo, hi from ShardBounds.
func SyntheticRows(m, d int, seed uint64, lo, hi int) (*Dataset, error) {
	switch {
	case m < 1 || d < 1:
		return nil, fmt.Errorf("synthetic: need m ≥ 1 samples and d ≥ 1 features, got m=%d d=%d", m, d)
	case lo < 0 || hi > m || lo > hi:
		return nil, fmt.Errorf("synthetic: row range [%d, %d) not within [0, %d)", lo, hi, m)
	case hi-lo > math.MaxInt/d:
		return nil, fmt.Errorf("synthetic: %d×%d matrix too large", hi-lo, d)
	}
	rows := hi - lo
	ds := &Dataset{
		Dense:  &Dense{Rows: rows, Cols: d, Data: make([]float64, rows*d)},
		Labels: make([]float64, rows),
		Source: SyntheticSource,
	}
	for k := range rows {
		r, _ := rng.New(seed, rng.Synthetic, uint64(lo+k))
		row := ds.Dense.Data[k*d : (k+1)*d]
		for t := range row {
			row[t] = r.NormFloat64()
		}
		if r.Uint64()&1 == 0 {
			ds.Labels[k] = -1
		} else {
			ds.Labels[k] = 1
		}
	}
	return ds, nil
}

// SyntheticLabels returns the labels of Synthetic(m, d, seed) without keeping
// the features: each row is drawn in turn into one reused row buffer (O(m·d)
// time, O(m + d) memory), which is what a split by label needs.
func SyntheticLabels(m, d int, seed uint64) ([]float64, error) {
	if m < 1 || d < 1 {
		return nil, fmt.Errorf("synthetic: need m ≥ 1 samples and d ≥ 1 features, got m=%d d=%d", m, d)
	}
	out := make([]float64, m)
	for j := range out {
		r, _ := rng.New(seed, rng.Synthetic, uint64(j))
		for range d {
			r.NormFloat64()
		}
		if r.Uint64()&1 == 0 {
			out[j] = -1
		} else {
			out[j] = 1
		}
	}
	return out, nil
}
