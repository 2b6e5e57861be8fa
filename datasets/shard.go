package datasets

import (
	"fmt"

	"github.com/efmpi/efmpi/rng"
)

// Row returns the column indices and values of row r. The slices alias m's
// arrays and must not be modified.
func (m *CSR) Row(r int) (idx []int32, val []float64) {
	lo, hi := m.RowPtr[r], m.RowPtr[r+1]
	return m.ColIdx[lo:hi:hi], m.Val[lo:hi:hi]
}

// ToDense returns m as a newly allocated dense matrix.
func (m *CSR) ToDense() *Dense {
	d := &Dense{Rows: m.Rows, Cols: m.Cols, Data: make([]float64, m.Rows*m.Cols)}
	for r := 0; r < m.Rows; r++ {
		idx, val := m.Row(r)
		row := d.Data[r*m.Cols : (r+1)*m.Cols]
		for k, c := range idx {
			row[c] = val[k]
		}
	}
	return d
}

// Row returns row r of m. The slice aliases m.Data.
func (m *Dense) Row(r int) []float64 {
	lo, hi := r*m.Cols, (r+1)*m.Cols
	return m.Data[lo:hi:hi]
}

// The values of ShardOptions.Split.
const (
	SplitContiguous = "contiguous" // blocks of samples in (possibly shuffled) file order
	SplitLabel      = "label"      // all −1 samples first, then all +1 (heterogeneous shards)
)

// ShardOptions controls how samples are dealt to ranks.
type ShardOptions struct {
	// Shuffle permutes the samples before blocking, with a Fisher–Yates shuffle
	// drawn from rng.New(Seed, rng.Shuffle, 0).
	Shuffle bool
	// Seed seeds the shuffle; ignored unless Shuffle is set.
	Seed uint64
	// Split is SplitContiguous (also the default "") or SplitLabel. SplitLabel
	// stably reorders the (possibly shuffled) samples so that all −1 samples
	// come first and all +1 samples after, then cuts contiguous blocks, so most
	// ranks see a single class. SplitDirichlet (dirichlet.go) deals every
	// class to the ranks in Dirichlet(Alpha) proportions.
	Split string
	// Alpha is the concentration of SplitDirichlet.
	Alpha float64
}

// ShardBounds returns the half-open sample range [lo, hi) of rank r when m
// samples are split among n ranks: contiguous blocks of ⌊m/n⌋ samples, the last
// rank taking the remainder. It panics unless n ≥ 1 and 0 ≤ r < n.
func ShardBounds(m, n, r int) (lo, hi int) {
	if n < 1 || r < 0 || r >= n {
		panic(fmt.Sprintf("datasets: ShardBounds rank %d out of range for %d ranks", r, n))
	}
	b := m / n
	lo = r * b
	hi = lo + b
	if r == n-1 {
		hi = m
	}
	return lo, hi
}

// ShufflePerm returns the permutation of m samples that ShardOptions.Shuffle
// applies: perm[k] is the original index of the sample placed at position k.
// It is a Fisher–Yates shuffle of the identity driven by
// rng.New(seed, rng.Shuffle, 0).
func ShufflePerm(m int, seed uint64) []int {
	perm := make([]int, m)
	for i := range perm {
		perm[i] = i
	}
	r, _ := rng.New(seed, rng.Shuffle, 0)
	for i := m - 1; i > 0; i-- {
		j := int(r.Uint64N(uint64(i + 1)))
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm
}

// check verifies that ds is a well-formed dataset.
func (ds *Dataset) check() error {
	if ds == nil {
		return fmt.Errorf("datasets: nil dataset")
	}
	m := len(ds.Labels)
	switch {
	case (ds.Sparse == nil) == (ds.Dense == nil):
		return fmt.Errorf("dataset %s: exactly one of Sparse and Dense must be set", ds.Source)
	case ds.Sparse != nil && (ds.Sparse.Rows != m || len(ds.Sparse.RowPtr) != m+1):
		return fmt.Errorf("dataset %s: %d labels for a sparse matrix of %d rows (%d row pointers)",
			ds.Source, m, ds.Sparse.Rows, len(ds.Sparse.RowPtr))
	case ds.Dense != nil && (ds.Dense.Rows != m || len(ds.Dense.Data) != m*ds.Dense.Cols):
		return fmt.Errorf("dataset %s: %d labels for a dense %d×%d matrix with %d entries",
			ds.Source, m, ds.Dense.Rows, ds.Dense.Cols, len(ds.Dense.Data))
	}
	return nil
}

// Shard returns rank's share of ds when it is split among n ranks as opts
// describes (see ShardBounds and ShardOptions). The shard keeps ds's Source and
// dimension. In the contiguous unshuffled case the shard's column indices,
// values, dense data and labels alias ds's arrays (with capacity capped, so
// appending to them does not clobber ds); otherwise they are fresh copies.
func Shard(ds *Dataset, n, rank int, opts ShardOptions) (*Dataset, error) {
	if err := ds.check(); err != nil {
		return nil, fmt.Errorf("shard: %w", err)
	}
	m := ds.Rows()
	switch {
	case n < 1:
		return nil, fmt.Errorf("shard %s: number of ranks %d < 1", ds.Source, n)
	case rank < 0 || rank >= n:
		return nil, fmt.Errorf("shard %s: rank %d out of range [0, %d)", ds.Source, rank, n)
	case opts.Split != "" && opts.Split != SplitContiguous && opts.Split != SplitLabel && opts.Split != SplitDirichlet:
		return nil, fmt.Errorf("shard %s: unknown split %q (want %q, %q or %q)",
			ds.Source, opts.Split, SplitContiguous, SplitLabel, SplitDirichlet)
	case m < n:
		return nil, fmt.Errorf("shard %s: %d samples cannot be split among %d ranks", ds.Source, m, n)
	}
	p, err := NewPlan(m, n, opts, ds.Labels)
	if err != nil {
		return nil, fmt.Errorf("shard %s: %w", ds.Source, err)
	}
	lo, hi := p.Bounds(rank)
	if p.Contiguous() {
		return sliceRows(ds, lo, hi), nil
	}
	return gatherRows(ds, p.Order[lo:hi]), nil
}

// sliceRows returns rows [lo, hi) of ds, aliasing its arrays.
func sliceRows(ds *Dataset, lo, hi int) *Dataset {
	out := &Dataset{Labels: ds.Labels[lo:hi:hi], Source: ds.Source, ColsFrom: ds.ColsFrom}
	if s := ds.Sparse; s != nil {
		a, b := s.RowPtr[lo], s.RowPtr[hi]
		rp := make([]int, hi-lo+1)
		for i := range rp {
			rp[i] = s.RowPtr[lo+i] - a
		}
		out.Sparse = &CSR{Rows: hi - lo, Cols: s.Cols, RowPtr: rp, ColIdx: s.ColIdx[a:b:b], Val: s.Val[a:b:b]}
	} else {
		d := ds.Dense
		a, b := lo*d.Cols, hi*d.Cols
		out.Dense = &Dense{Rows: hi - lo, Cols: d.Cols, Data: d.Data[a:b:b]}
	}
	return out
}

// gatherRows returns a copy of the rows rows of ds, in that order.
func gatherRows(ds *Dataset, rows []int) *Dataset {
	out := &Dataset{Labels: make([]float64, len(rows)), Source: ds.Source, ColsFrom: ds.ColsFrom}
	for k, j := range rows {
		out.Labels[k] = ds.Labels[j]
	}
	if s := ds.Sparse; s != nil {
		nnz := 0
		for _, j := range rows {
			nnz += s.RowPtr[j+1] - s.RowPtr[j]
		}
		c := &CSR{
			Rows:   len(rows),
			Cols:   s.Cols,
			RowPtr: make([]int, 1, len(rows)+1),
			ColIdx: make([]int32, 0, nnz),
			Val:    make([]float64, 0, nnz),
		}
		for _, j := range rows {
			idx, val := s.Row(j)
			c.ColIdx = append(c.ColIdx, idx...)
			c.Val = append(c.Val, val...)
			c.RowPtr = append(c.RowPtr, len(c.Val))
		}
		out.Sparse = c
	} else {
		d := ds.Dense
		dd := &Dense{Rows: len(rows), Cols: d.Cols, Data: make([]float64, 0, len(rows)*d.Cols)}
		for _, j := range rows {
			dd.Data = append(dd.Data, d.Row(j)...)
		}
		out.Dense = dd
	}
	return out
}
