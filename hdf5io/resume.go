package hdf5io

import (
	"fmt"

	"gonum.org/v1/hdf5"
)

// Resume reopens an existing run file to continue its trajectory after a
// checkpoint at iteration keepThrough: rows recorded after that iteration
// (flushed by the run that died or was stopped after its checkpoint) are cut
// off and Append continues after the last kept row; the status attribute is
// left as it was (set it with SetStatus). The file must have been written by
// Create.
func Resume(path string, flushEvery int, keepThrough int64) (*Recorder, error) {
	lib.Lock()
	defer lib.Unlock()
	if !hdf5.IsHDF5(path) {
		return nil, fmt.Errorf("hdf5 %s: cannot resume: not an HDF5 file (or missing)", path)
	}
	f, err := hdf5.OpenFile(path, hdf5.F_ACC_RDWR)
	if err != nil {
		return nil, fmt.Errorf("hdf5 %s: open for resume: %w", path, err)
	}
	r := &Recorder{path: path, file: f, flushEvery: max(1, flushEvery)}
	if err := r.reopen(keepThrough); err != nil {
		for _, ds := range r.cols {
			ds.Close()
		}
		if r.root != nil {
			r.root.Close()
		}
		f.Close()
		return nil, fmt.Errorf("hdf5 %s: resume: %w", path, err)
	}
	r.reserve()
	return r, nil
}

func (r *Recorder) reopen(keepThrough int64) error {
	root, err := r.file.OpenGroup("/")
	if err != nil {
		return err
	}
	r.root = root
	iters, err := readInts(r.file, "trajectory/iteration")
	if err != nil {
		return fmt.Errorf("/trajectory/iteration: %w", err)
	}
	keep := 0
	for keep < len(iters) && iters[keep] <= keepThrough {
		keep++
	}
	r.ints = make([][]int64, len(Columns))
	r.floats = make([][]float64, len(Columns))
	for i, name := range Columns {
		ds, err := r.file.OpenDataset("trajectory/" + name)
		if err != nil {
			return fmt.Errorf("/trajectory/%s: %w", name, err)
		}
		r.cols = append(r.cols, ds)
		if err := setExtent(ds, uint(keep)); err != nil {
			return fmt.Errorf("/trajectory/%s: %w", name, err)
		}
		if intColumn(name) {
			r.ints[i] = make([]int64, 0, r.flushEvery)
		} else {
			r.floats[i] = make([]float64, 0, r.flushEvery)
		}
	}
	r.written = keep
	if err := cutEval(r.file, keepThrough); err != nil {
		return err
	}
	return flushFile(r.file)
}
