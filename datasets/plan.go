package datasets

import (
	"fmt"
	"slices"
)

// Plan says which samples each of n ranks holds when m samples are dealt as
// ShardOptions describes: rank r holds the samples at positions
// [lo, hi) = ShardBounds(m, n, r) of Order, in that order. Order[k] is the
// original (file) index of the sample at position k; a nil Order is the
// identity (contiguous blocks in file order).
//
// A Plan needs only m, the options and, for SplitLabel, the ±1 labels (O(m)
// numbers): every process can derive every rank's rows from the seed without
// reading any sample, and read or generate just its own.
type Plan struct {
	M, N  int
	Order []int
	// bounds, when set (SplitDirichlet), holds the N+1 offsets of the ranks'
	// positions in Order instead of ShardBounds.
	bounds []int
}

// NewPlan deals m samples to n ranks. labels (±1, length m) are needed only
// for SplitLabel and may be nil otherwise. The rows of rank r are exactly those
// of Shard(ds, n, r, opts) for a dataset ds of m samples with these labels.
func NewPlan(m, n int, opts ShardOptions, labels []float64) (*Plan, error) {
	switch {
	case n < 1:
		return nil, fmt.Errorf("number of ranks %d < 1", n)
	case opts.Split != "" && opts.Split != SplitContiguous && opts.Split != SplitLabel && opts.Split != SplitDirichlet:
		return nil, fmt.Errorf("unknown split %q (want %q, %q or %q)", opts.Split, SplitContiguous, SplitLabel, SplitDirichlet)
	case m < n:
		return nil, fmt.Errorf("%d samples cannot be split among %d ranks", m, n)
	case NeedsLabels(opts) && len(labels) != m:
		return nil, fmt.Errorf("split %s needs the %d labels, got %d", opts.Split, m, len(labels))
	}
	p := &Plan{M: m, N: n}
	if opts.Shuffle {
		p.Order = ShufflePerm(m, opts.Seed)
	}
	if opts.Split == SplitDirichlet {
		// Rank r holds, in position order, the samples DirichletOwners
		// gives it (exactly Shard's rows).
		owner, err := DirichletOwners(labels, p.Order, n, opts.Alpha, opts.Seed)
		if err != nil {
			return nil, err
		}
		p.bounds = make([]int, n+1)
		for _, r := range owner {
			p.bounds[r+1]++
		}
		for r := range n {
			p.bounds[r+1] += p.bounds[r]
		}
		at := slices.Clone(p.bounds[:n])
		order := make([]int, m)
		for k, r := range owner {
			j := k
			if p.Order != nil {
				j = p.Order[k]
			}
			order[at[r]] = j
			at[r]++
		}
		p.Order = order
		return p, nil
	}
	if opts.Split == SplitLabel {
		order := p.Order
		if order == nil {
			order = make([]int, m)
			for i := range order {
				order[i] = i
			}
		}
		// Stable partition: every −1 sample, then every +1 sample.
		byLabel := make([]int, 0, m)
		for _, j := range order {
			if labels[j] < 0 {
				byLabel = append(byLabel, j)
			}
		}
		for _, j := range order {
			if labels[j] >= 0 {
				byLabel = append(byLabel, j)
			}
		}
		p.Order = byLabel
	}
	return p, nil
}

// NeedsLabels reports whether dealing the samples as opts says needs their
// labels (split by label, Dirichlet split).
func NeedsLabels(opts ShardOptions) bool {
	return opts.Split == SplitLabel || opts.Split == SplitDirichlet
}

// Bounds returns the positions [lo, hi) of rank r's samples (ShardBounds, or
// the Dirichlet split's counts).
func (p *Plan) Bounds(r int) (lo, hi int) {
	if p.bounds != nil {
		return p.bounds[r], p.bounds[r+1]
	}
	return ShardBounds(p.M, p.N, r)
}

// Sizes returns every rank's number of samples.
func (p *Plan) Sizes() []int64 {
	out := make([]int64, p.N)
	for r := range out {
		lo, hi := p.Bounds(r)
		out[r] = int64(hi - lo)
	}
	return out
}

// BlockBounds returns the positions [lo, hi) held by ranks r0, …, r1−1
// together (0 ≤ r0 < r1 ≤ N).
func (p *Plan) BlockBounds(r0, r1 int) (lo, hi int) {
	lo, _ = p.Bounds(r0)
	_, hi = p.Bounds(r1 - 1)
	return lo, hi
}

// Rows returns the original indices of the samples at positions [lo, hi), in
// position order (a fresh slice).
func (p *Plan) Rows(lo, hi int) []int {
	if p.Order != nil {
		return slices.Clone(p.Order[lo:hi])
	}
	out := make([]int, hi-lo)
	for i := range out {
		out[i] = lo + i
	}
	return out
}

// Contiguous reports whether positions are file order (Order is nil), so a
// block of ranks holds one contiguous range of the file.
func (p *Plan) Contiguous() bool { return p.Order == nil }

// Slice returns rows [lo, hi) of ds as a view: the column indices, values,
// dense data and labels alias ds's arrays (capacity capped); only the row
// pointers of a sparse matrix are new (hi−lo+1 integers).
func (ds *Dataset) Slice(lo, hi int) *Dataset { return sliceRows(ds, lo, hi) }

// Gather returns a copy of the given rows of ds, in that order.
func (ds *Dataset) Gather(rows []int) *Dataset { return gatherRows(ds, rows) }

// Concat stacks datasets of the same kind (all sparse or all dense) and
// dimension, in order, into a new one with the first one's Source.
func Concat(parts []*Dataset) *Dataset {
	out := &Dataset{}
	if len(parts) == 0 {
		return out
	}
	out.Source = parts[0].Source
	if parts[0].Sparse != nil {
		c := &CSR{Cols: parts[0].Sparse.Cols, RowPtr: []int{0}}
		for _, p := range parts {
			s := p.Sparse
			base := len(c.Val)
			for _, q := range s.RowPtr[1:] {
				c.RowPtr = append(c.RowPtr, base+q)
			}
			c.ColIdx = append(c.ColIdx, s.ColIdx...)
			c.Val = append(c.Val, s.Val...)
			c.Rows += s.Rows
			out.Labels = append(out.Labels, p.Labels...)
		}
		out.Sparse = c
		return out
	}
	d := &Dense{Cols: parts[0].Dense.Cols}
	for _, p := range parts {
		d.Data = append(d.Data, p.Dense.Data...)
		d.Rows += p.Dense.Rows
		out.Labels = append(out.Labels, p.Labels...)
	}
	out.Dense = d
	return out
}
