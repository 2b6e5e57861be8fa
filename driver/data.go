package driver

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"unsafe"

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

// loadBlock returns the plan of the job's samples among n ranks, the rows of
// ranks r0, …, r1−1 in shard order (rank r0's rows first), and the print of
// the whole dataset. Only those rows are kept: a LIBSVM file is read whole
// when every rank is local (one pass) and otherwise counted first and then
// parsed keeping only the block's rows; an HDF5 file is read row range by
// row range; generated data makes only the block's rows. The labels of every
// sample (O(m)) are read or made when the plan needs them (split by label;
// HDF5 always, to check them).
//
// The print is the same in every process, whichever rows it holds: m, d, the
// number of stored entries and a SHA-256 of what every process reads — for
// LIBSVM the file's bytes (every process reads them all), for HDF5 the
// labels and the file's recorded source_sha256 (if any), for generated data
// the generator's parameters.
func loadBlock(spec Spec, n, r0, r1 int, counts *hdf5io.ReadCounts) (*loaded, error) {
	opts := datasets.ShardOptions{Shuffle: spec.Shuffle, Seed: spec.Seed, Split: spec.Split, Alpha: spec.SplitAlpha}
	byLabel := datasets.NeedsLabels(opts)
	all := r0 == 0 && r1 == n
	// fromWhole holds out the test set (if any), plans and cuts a dataset
	// held whole (all is true).
	fromWhole := func(full *datasets.Dataset, dp DataPrint) (*loaded, error) {
		ld := &loaded{print: dp}
		var err error
		if spec.TestFraction > 0 {
			if full, ld.test, err = datasets.HoldOut(full, spec.TestFraction, spec.Seed); err != nil {
				return nil, err
			}
		} else if spec.TestPath != "" {
			if ld.test, err = datasets.ReadLIBSVM(spec.TestPath, datasets.ReadOptions{Features: full.Cols()}); err != nil {
				return nil, fmt.Errorf("test set: %w", err)
			}
		}
		if ld.plan, err = datasets.NewPlan(full.Rows(), n, opts, full.Labels); err != nil {
			return nil, fmt.Errorf("dataset %s: %w", full.Source, err)
		}
		if ld.plan.Contiguous() {
			ld.block = full
		} else {
			ld.block = full.Gather(ld.plan.Order)
		}
		return ld, nil
	}
	planFor := func(name string, m int, labels []float64) (*datasets.Plan, []int, error) {
		plan, err := datasets.NewPlan(m, n, opts, labels)
		if err != nil {
			return nil, nil, fmt.Errorf("dataset %s: %w", name, err)
		}
		lo, hi := plan.BlockBounds(r0, r1)
		return plan, plan.Rows(lo, hi), nil
	}
	allRows := func(m int) []int {
		rows := make([]int, m)
		for i := range rows {
			rows[i] = i
		}
		return rows
	}
	// share is the fraction of m this process holds, for the memory checks.
	share := float64(r1-r0) / float64(n)
	switch spec.Source {
	case SourceLIBSVM:
		ropts := datasets.ReadOptions{Features: spec.Features}
		if st, err := os.Stat(spec.DataPath); all && (err != nil || st.Size() < bigLIBSVM) {
			f, err := os.Open(spec.DataPath)
			if err != nil {
				return nil, fmt.Errorf("libsvm: %w", err)
			}
			defer f.Close()
			h := sha256.New()
			full, err := datasets.ParseLIBSVM(io.TeeReader(f, h), spec.DataPath, ropts)
			if err != nil {
				return nil, err
			}
			dp := DataPrint{Rows: int64(full.Rows()), Cols: int64(full.Cols()), NNZ: int64(full.Sparse.NNZ())}
			h.Sum(dp.Sum[:0])
			return fromWhole(full, dp)
		}
		// A process holding some ranks, or every rank of a big file: count
		// first, then keep the rows wanted in storage allocated once.
		cnt, ok, err := datasets.CountLIBSVM(spec.DataPath)
		if err != nil {
			return nil, err
		}
		if !ok { // the full parse names the line
			if _, err := datasets.ReadLIBSVM(spec.DataPath, ropts); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("libsvm %s: malformed labels", spec.DataPath)
		}
		m := len(cnt.Labels)
		var plan *datasets.Plan
		var rows []int
		if all {
			rows = allRows(m)
		} else if plan, rows, err = planFor(spec.DataPath, m, cnt.Labels); err != nil {
			return nil, err
		}
		// Room for the kept rows plus the longest row: a row that is not
		// kept is parsed into the free space before it is dropped.
		entries := int(slices.Max(cnt.Entries))
		for _, j := range rows {
			entries += int(cnt.Entries[j])
		}
		block, nnz, err := datasets.ReadLIBSVMRows(spec.DataPath, ropts, m, rows, entries)
		if err != nil {
			return nil, err
		}
		dp := DataPrint{Rows: int64(m), Cols: int64(block.Cols()), NNZ: nnz, Sum: cnt.SHA256}
		if all {
			return fromWhole(block, dp)
		}
		return &loaded{plan: plan, block: block, print: dp}, nil
	case SourceHDF5:
		return loadHDF5(spec, share, all, planFor, fromWhole, counts)
	case SourceSyntheticSparse:
		g := datasets.SparseSynthetic{M: spec.Samples, D: spec.Features, NNZ: spec.RowNNZ,
			Exponent: spec.Exponent, Noise: spec.LabelNoise, Seed: spec.Seed}
		if err := g.Check(); err != nil {
			return nil, err
		}
		if err := checkMemory(12*share*float64(g.M)*float64(g.NNZ)+8*float64(g.D),
			fmt.Sprintf("synthetic-sparse data of %d × %d, %d per row (this process's share)", g.M, g.D, g.NNZ)); err != nil {
			return nil, err
		}
		dp := generatedPrint(int64(g.M), int64(g.D), int64(g.M)*int64(g.NNZ), fmt.Sprintf("%+v", g))
		if all {
			full, err := g.Rows(allRows(g.M))
			if err != nil {
				return nil, err
			}
			return fromWhole(full, dp)
		}
		var labels []float64
		if byLabel {
			var err error
			if labels, err = g.Labels(); err != nil {
				return nil, err
			}
		}
		plan, rows, err := planFor(datasets.SparseSyntheticSource, g.M, labels)
		if err != nil {
			return nil, err
		}
		block, err := g.Rows(rows)
		return &loaded{plan: plan, block: block, print: dp}, err
	case SourceSynthetic, "":
		if err := checkMemory(8*share*float64(spec.Samples)*float64(spec.Features),
			fmt.Sprintf("synthetic data of %d × %d (this process's share)", spec.Samples, spec.Features)); err != nil {
			return nil, err
		}
		dp := generatedPrint(int64(spec.Samples), int64(spec.Features), int64(spec.Samples)*int64(spec.Features),
			fmt.Sprintf("synthetic m=%d d=%d seed=%d", spec.Samples, spec.Features, spec.Seed))
		if all {
			full, err := datasets.Synthetic(spec.Samples, spec.Features, spec.Seed)
			if err != nil {
				return nil, err
			}
			return fromWhole(full, dp)
		}
		var labels []float64
		if byLabel {
			var err error
			if labels, err = datasets.SyntheticLabels(spec.Samples, spec.Features, spec.Seed); err != nil {
				return nil, err
			}
		}
		plan, rows, err := planFor(datasets.SyntheticSource, spec.Samples, labels)
		if err != nil {
			return nil, err
		}
		if plan.Contiguous() {
			block, err := datasets.SyntheticRows(spec.Samples, spec.Features, spec.Seed, rows[0], rows[0]+len(rows))
			return &loaded{plan: plan, block: block, print: dp}, err
		}
		parts := make([]*datasets.Dataset, len(rows))
		for k, j := range rows {
			p, err := datasets.SyntheticRows(spec.Samples, spec.Features, spec.Seed, j, j+1)
			if err != nil {
				return nil, err
			}
			parts[k] = p
		}
		return &loaded{plan: plan, block: datasets.Concat(parts), print: dp}, nil
	}
	return nil, fmt.Errorf("unknown data source %q", spec.Source)
}

// loaded is what loadBlock returns: the plan, this process's rows (in shard
// order), the print of the whole dataset and the test set (if any).
type loaded struct {
	plan  *datasets.Plan
	block *datasets.Dataset
	print DataPrint
	test  *datasets.Dataset
}

// bigLIBSVM is the file size from which a process holding every rank reads a
// LIBSVM file in two passes too (count, then parse into storage allocated
// once), instead of one pass whose arrays grow by doubling (up to 2× the
// data at the peak).
const bigLIBSVM = 64 << 20

// generatedPrint is the print of generated data: its size and a hash of the
// generator's parameters.
func generatedPrint(m, d, nnz int64, params string) DataPrint {
	return DataPrint{Rows: m, Cols: d, NNZ: nnz, Sum: sha256.Sum256([]byte(params))}
}

// loadHDF5 reads the block's rows of an efmpi CSR file (see hdf5io.CSRFormat),
// or every row in file order when all is set (then fromWhole plans).
func loadHDF5(spec Spec, share float64, all bool, planFor func(string, int, []float64) (*datasets.Plan, []int, error),
	fromWhole func(*datasets.Dataset, DataPrint) (*loaded, error), counts *hdf5io.ReadCounts) (*loaded, error) {
	f, err := hdf5io.OpenCSR(spec.DataPath)
	if err != nil {
		return nil, err
	}
	defer func() { *counts = f.Read; f.Close() }()
	d := f.D
	if spec.Features > 0 {
		if spec.Features < f.D {
			return nil, fmt.Errorf("hdf5 %s: shape has d = %d columns, more than [data] features = %d", f.Path, f.D, spec.Features)
		}
		d = spec.Features
	}
	if err := checkMemory(12*share*float64(f.NNZ)+16*float64(f.M),
		fmt.Sprintf("%s (%d × %d, %d nonzeros; this process's share)", f.Path, f.M, f.D, f.NNZ)); err != nil {
		return nil, err
	}
	labels, err := f.Labels()
	if err != nil {
		return nil, err
	}
	dp := DataPrint{Rows: int64(f.M), Cols: int64(d), NNZ: f.NNZ}
	h := sha256.New()
	fmt.Fprintf(h, "efmpi hdf5 data|m=%d|d=%d|nnz=%d|source_sha256=%v|", f.M, d, f.NNZ, f.Attrs["source_sha256"])
	h.Write(float64sLE(labels))
	h.Sum(dp.Sum[:0])
	if all { // every row, in file order: fromWhole plans
		rr, err := f.ReadRange(0, f.M)
		if err != nil {
			return nil, err
		}
		return fromWhole(&datasets.Dataset{
			Sparse: &datasets.CSR{Rows: f.M, Cols: d, RowPtr: rr.RowPtr, ColIdx: rr.ColIdx, Val: rr.Val},
			Labels: labels, Source: f.Path,
		}, dp)
	}
	plan, rows, err := planFor(f.Path, f.M, labels)
	if err != nil {
		return nil, err
	}
	rr, err := f.ReadRows(rows)
	if err != nil {
		return nil, err
	}
	y := make([]float64, len(rows))
	for k, j := range rows {
		y[k] = labels[j]
	}
	block := &datasets.Dataset{
		Sparse: &datasets.CSR{Rows: len(rows), Cols: d, RowPtr: rr.RowPtr, ColIdx: rr.ColIdx, Val: rr.Val},
		Labels: y, Source: f.Path,
	}
	return &loaded{plan: plan, block: block, print: dp}, nil
}

// float64sLE is v as little-endian bytes: v's own memory on a little-endian
// machine, a copy elsewhere.
func float64sLE(v []float64) []byte {
	if len(v) == 0 {
		return nil
	}
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 8*len(v))
	}
	buf := make([]byte, 8*len(v))
	for j, x := range v {
		binary.LittleEndian.PutUint64(buf[8*j:], math.Float64bits(x))
	}
	return buf
}
