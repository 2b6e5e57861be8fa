package hdf5io

import (
	"fmt"
	"os"

	"gonum.org/v1/hdf5"
)

// Resume reopens an existing run file to continue its trajectory after a
// checkpoint at iteration keepThrough: rows recorded after that iteration
// (flushed by the run that died or was stopped after its checkpoint) are cut
// off and Append continues after the last kept row; the status attribute is
// left as it was (set it with SetStatus). The file must have been written by
// Create.
func Resume(path string, flushEvery int, keepThrough int64) (*Recorder, error) {
	lock, err := AcquireLock(path)
	if err != nil {
		return nil, fmt.Errorf("hdf5 %w", err)
	}
	lib.Lock()
	defer lib.Unlock()
	if _, err := os.Stat(path); err != nil {
		lock.Release()
		return nil, fmt.Errorf("hdf5 %s: cannot resume: %w", path, err)
	}
	if !hdf5.IsHDF5(path) {
		lock.Release()
		return nil, fmt.Errorf("hdf5 %s: cannot resume: not an HDF5 file", path)
	}
	// We hold the lock, so no live efmpi writes the file: marks of a writer
	// that was killed in SWMR mode are stale.
	clearWriterFlags(path)
	f, err := hdf5.OpenFile(path, hdf5.F_ACC_RDWR)
	if err != nil {
		lock.Release()
		return nil, fmt.Errorf("hdf5 %s: open for resume: %w", path, detail(err))
	}
	r := &Recorder{path: path, file: f, flushEvery: max(1, flushEvery), lock: lock}
	r.inode, _ = os.Stat(path)
	if err := r.reopen(keepThrough); err != nil {
		lock.Release()
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
		// Read every kept row first: a chunk whose checksum fails is
		// damage, and a resume must not build on damaged rows.
		if err := verifyRows(ds, name, keep); err != nil {
			return fmt.Errorf("/trajectory/%s: %w", name, err)
		}
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

// verifyRows reads the first n rows of a trajectory column, so that HDF5
// checks the Fletcher-32 checksum of every chunk they lie in.
func verifyRows(ds *hdf5.Dataset, name string, n int) error {
	total, err := length(ds)
	if err != nil {
		return err
	}
	if total < n {
		return fmt.Errorf("%d rows, want at least %d", total, n)
	}
	if total == 0 {
		return nil
	}
	var rerr error
	if intColumn(name) {
		v := make([]int64, total)
		rerr = ds.Read(&v)
	} else {
		v := make([]float64, total)
		rerr = ds.Read(&v)
	}
	if rerr != nil {
		return fmt.Errorf("damaged rows (the chunk checksum does not match: %w)", detail(rerr))
	}
	return nil
}
