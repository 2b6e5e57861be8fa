package driver

import (
	"fmt"
	"slices"

	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/hdf5io"
)

// The values of Spec.Source.
const (
	SourceLIBSVM          = "libsvm"
	SourceHDF5            = "hdf5"
	SourceSynthetic       = "synthetic"
	SourceSyntheticSparse = "synthetic-sparse"
)

// loadBlock returns the plan of the job's samples among n ranks and the rows
// of ranks r0, …, r1−1 in shard order (rank r0's rows first). Only those rows
// are kept: a LIBSVM file is read whole when every rank is local (one pass)
// and otherwise counted first and then parsed keeping only the block's rows;
// an HDF5 file is read row range by row range; generated data makes only the
// block's rows. The labels of every sample (O(m)) are read or made when the
// plan needs them (split by label; HDF5 always, to check them).
func loadBlock(spec Spec, n, r0, r1 int, counts *hdf5io.ReadCounts) (*datasets.Plan, *datasets.Dataset, error) {
	opts := datasets.ShardOptions{Shuffle: spec.Shuffle, Seed: spec.Seed, Split: spec.Split}
	byLabel := spec.Split == datasets.SplitLabel
	all := r0 == 0 && r1 == n
	// fromWhole plans and cuts a dataset held whole.
	fromWhole := func(full *datasets.Dataset) (*datasets.Plan, *datasets.Dataset, error) {
		plan, err := datasets.NewPlan(full.Rows(), n, opts, full.Labels)
		if err != nil {
			return nil, nil, fmt.Errorf("dataset %s: %w", full.Source, err)
		}
		lo, hi := plan.BlockBounds(r0, r1)
		if plan.Contiguous() {
			return plan, full.Slice(lo, hi), nil
		}
		return plan, full.Gather(plan.Order[lo:hi]), nil
	}
	planFor := func(name string, m int, labels []float64) (*datasets.Plan, []int, error) {
		plan, err := datasets.NewPlan(m, n, opts, labels)
		if err != nil {
			return nil, nil, fmt.Errorf("dataset %s: %w", name, err)
		}
		lo, hi := plan.BlockBounds(r0, r1)
		return plan, plan.Rows(lo, hi), nil
	}
	switch spec.Source {
	case SourceLIBSVM:
		ropts := datasets.ReadOptions{Features: spec.Features}
		if all {
			full, err := datasets.ReadLIBSVM(spec.DataPath, ropts)
			if err != nil {
				return nil, nil, err
			}
			return fromWhole(full)
		}
		cnt, ok, err := datasets.CountLIBSVM(spec.DataPath)
		if err != nil {
			return nil, nil, err
		}
		if !ok { // the full parse names the line
			if _, err := datasets.ReadLIBSVM(spec.DataPath, ropts); err != nil {
				return nil, nil, err
			}
			return nil, nil, fmt.Errorf("libsvm %s: malformed labels", spec.DataPath)
		}
		m := len(cnt.Labels)
		plan, rows, err := planFor(spec.DataPath, m, cnt.Labels)
		if err != nil {
			return nil, nil, err
		}
		// Room for the kept rows plus the longest row: a row that is not
		// kept is parsed into the free space before it is dropped.
		entries := int(slices.Max(cnt.Entries))
		for _, j := range rows {
			entries += int(cnt.Entries[j])
		}
		block, err := datasets.ReadLIBSVMRows(spec.DataPath, ropts, m, rows, entries)
		return plan, block, err
	case SourceHDF5:
		return loadHDF5(spec, planFor, counts)
	case SourceSyntheticSparse:
		g := datasets.SparseSynthetic{M: spec.Samples, D: spec.Features, NNZ: spec.RowNNZ,
			Exponent: spec.Exponent, Noise: spec.LabelNoise, Seed: spec.Seed}
		if err := g.Check(); err != nil {
			return nil, nil, err
		}
		var labels []float64
		if byLabel {
			var err error
			if labels, err = g.Labels(); err != nil {
				return nil, nil, err
			}
		}
		plan, rows, err := planFor(datasets.SparseSyntheticSource, g.M, labels)
		if err != nil {
			return nil, nil, err
		}
		block, err := g.Rows(rows)
		return plan, block, err
	case SourceSynthetic, "":
		if all {
			full, err := datasets.Synthetic(spec.Samples, spec.Features, spec.Seed)
			if err != nil {
				return nil, nil, err
			}
			return fromWhole(full)
		}
		var labels []float64
		if byLabel {
			var err error
			if labels, err = datasets.SyntheticLabels(spec.Samples, spec.Features, spec.Seed); err != nil {
				return nil, nil, err
			}
		}
		plan, rows, err := planFor(datasets.SyntheticSource, spec.Samples, labels)
		if err != nil {
			return nil, nil, err
		}
		if plan.Contiguous() {
			block, err := datasets.SyntheticRows(spec.Samples, spec.Features, spec.Seed, rows[0], rows[0]+len(rows))
			return plan, block, err
		}
		parts := make([]*datasets.Dataset, len(rows))
		for k, j := range rows {
			p, err := datasets.SyntheticRows(spec.Samples, spec.Features, spec.Seed, j, j+1)
			if err != nil {
				return nil, nil, err
			}
			parts[k] = p
		}
		return plan, datasets.Concat(parts), nil
	}
	return nil, nil, fmt.Errorf("unknown data source %q", spec.Source)
}

// loadHDF5 reads the block's rows of an efmpi CSR file (see hdf5io.CSRFormat).
func loadHDF5(spec Spec, planFor func(string, int, []float64) (*datasets.Plan, []int, error), counts *hdf5io.ReadCounts) (*datasets.Plan, *datasets.Dataset, error) {
	f, err := hdf5io.OpenCSR(spec.DataPath)
	if err != nil {
		return nil, nil, err
	}
	defer func() { *counts = f.Read; f.Close() }()
	d := f.D
	if spec.Features > 0 {
		if spec.Features < f.D {
			return nil, nil, fmt.Errorf("hdf5 %s: shape has d = %d columns, more than [data] features = %d", f.Path, f.D, spec.Features)
		}
		d = spec.Features
	}
	labels, err := f.Labels()
	if err != nil {
		return nil, nil, err
	}
	plan, rows, err := planFor(f.Path, f.M, labels)
	if err != nil {
		return nil, nil, err
	}
	rr, err := f.ReadRows(rows)
	if err != nil {
		return nil, nil, err
	}
	y := make([]float64, len(rows))
	for k, j := range rows {
		y[k] = labels[j]
	}
	return plan, &datasets.Dataset{
		Sparse: &datasets.CSR{Rows: len(rows), Cols: d, RowPtr: rr.RowPtr, ColIdx: rr.ColIdx, Val: rr.Val},
		Labels: y, Source: f.Path,
	}, nil
}
