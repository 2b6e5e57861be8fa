// Package hdf5io writes and reads efmpi's run files (SPEC §6): root attributes
// describing the run, a /trajectory group of equal-length, chunked, extendable
// 1-D datasets with one row per recorded iteration, /x0, /x_final, /ranks and
// /timing. The recorder flushes every few rows so a run that dies keeps every
// flushed row and the file stays readable by h5py and h5dump.
//
// The HDF5 C library (Debian's serial build) is not thread-safe: a package
// mutex serialises every call into it.
package hdf5io

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"gonum.org/v1/hdf5"
)

// lib serialises calls into the non-thread-safe HDF5 library.
var lib sync.Mutex

// ErrExists is returned by Create when the output file exists and overwrite
// was not requested.
var ErrExists = errors.New("output file exists (pass -overwrite to replace it)")

// Row is one recorded iteration of /trajectory.
type Row struct {
	Iteration     int64
	F             float64 // f(x^k)
	GradNormSq    float64 // ‖∇f(x^k)‖², exact over all shards
	EstErrSq      float64 // ‖g^k − ∇f(x^k)‖² (NaN where there is no estimator)
	StepSize      float64 // γ_k
	BitsPerWorker int64   // cumulative, 32 bits per value
	WireBytesUp   int64   // cumulative bytes sent by all ranks to rank 0
	WireBytesDown int64   // cumulative bytes sent by rank 0 to all ranks
	TimeS         float64 // wall seconds since start
}

// Columns names the /trajectory datasets in Row order.
var Columns = []string{"iteration", "f", "grad_norm_sq", "est_err_sq", "step_size",
	"bits_per_worker", "wire_bytes_up", "wire_bytes_down", "time_s"}

// intColumn reports whether a column is stored as int64 (else float64).
func intColumn(name string) bool {
	switch name {
	case "iteration", "bits_per_worker", "wire_bytes_up", "wire_bytes_down":
		return true
	}
	return false
}

// Attr is one root attribute: its value is a string, int, int64, float64 or
// bool (bools are stored as int64 0/1).
type Attr struct {
	Name  string
	Value any
}

// Recorder writes one run file. Only rank 0 holds one. Its methods are not safe
// for concurrent use.
type Recorder struct {
	path       string
	file       *hdf5.File
	root       *hdf5.Group
	cols       []*hdf5.Dataset
	flushEvery int
	written    int
	ints       [][]int64   // pending rows per int column (nil for float columns)
	floats     [][]float64 // pending rows per float column
	reserved   bool        // the ballast file exists (see ReserveBytes)
}

// ChunkRows is the chunk length of the trajectory datasets.
const ChunkRows = 1024

// Create makes a new run file at path with the given root attributes and
// status "running". An existing file is refused with ErrExists unless
// overwrite is set. Rows are flushed to disk every flushEvery appended rows
// (at least 1).
func Create(path string, overwrite bool, flushEvery int, attrs []Attr) (*Recorder, error) {
	if _, err := os.Stat(path); err == nil && !overwrite {
		return nil, fmt.Errorf("hdf5 %s: %w", path, ErrExists)
	}
	lib.Lock()
	defer lib.Unlock()
	f, err := hdf5.CreateFile(path, hdf5.F_ACC_TRUNC)
	if err != nil {
		return nil, fmt.Errorf("hdf5 %s: create: %w", path, err)
	}
	r := &Recorder{path: path, file: f, flushEvery: max(1, flushEvery)}
	if err := r.init(attrs); err != nil {
		f.Close()
		return nil, fmt.Errorf("hdf5 %s: %w", path, err)
	}
	r.reserve()
	return r, nil
}

// ReserveBytes is the size of the ballast file a recorder keeps next to its
// run file (<file>.reserve). When the disk fills up, the recorder deletes the
// ballast and completes its flush with the space freed, so the file stays
// consistent and readable with every row written before the disk filled,
// and the final status can still be recorded. The ballast is removed when
// the file is closed.
const ReserveBytes = 1 << 20

func (r *Recorder) reservePath() string { return r.path + ".reserve" }

// reserve creates the ballast file (best effort: without room for it the
// run fails soon anyway, and the recorder works without it).
func (r *Recorder) reserve() {
	f, err := os.OpenFile(r.reservePath(), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return
	}
	_, err = f.Write(make([]byte, ReserveBytes))
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if err != nil {
		os.Remove(r.reservePath())
		return
	}
	r.reserved = true
}

// release deletes the ballast file; it reports whether there was one.
func (r *Recorder) release() bool {
	if !r.reserved {
		return false
	}
	r.reserved = false
	return os.Remove(r.reservePath()) == nil
}

func (r *Recorder) init(attrs []Attr) error {
	root, err := r.file.OpenGroup("/")
	if err != nil {
		return err
	}
	r.root = root
	for _, a := range attrs {
		if err := writeAttr(root, a.Name, a.Value); err != nil {
			return err
		}
	}
	if err := writeAttr(root, "status", "running"); err != nil {
		return err
	}
	traj, err := r.file.CreateGroup("trajectory")
	if err != nil {
		return fmt.Errorf("group /trajectory: %w", err)
	}
	defer traj.Close()
	dcpl, err := hdf5.NewPropList(hdf5.P_DATASET_CREATE)
	if err != nil {
		return err
	}
	defer dcpl.Close()
	if err := dcpl.SetChunk([]uint{ChunkRows}); err != nil {
		return err
	}
	space, err := hdf5.CreateSimpleDataspace([]uint{0}, []uint{unlimited})
	if err != nil {
		return err
	}
	defer space.Close()
	r.ints = make([][]int64, len(Columns))
	r.floats = make([][]float64, len(Columns))
	for i, name := range Columns {
		dtype := hdf5.T_NATIVE_DOUBLE
		if intColumn(name) {
			dtype = hdf5.T_NATIVE_INT64
			r.ints[i] = make([]int64, 0, r.flushEvery)
		} else {
			r.floats[i] = make([]float64, 0, r.flushEvery)
		}
		ds, err := traj.CreateDatasetWith(name, dtype, space, dcpl)
		if err != nil {
			return fmt.Errorf("dataset /trajectory/%s: %w", name, err)
		}
		r.cols = append(r.cols, ds)
		if err := describeDataset(ds, "trajectory/"+name); err != nil {
			return err
		}
	}
	return flushFile(r.file)
}

// Append adds one row, flushing to disk when flushEvery rows are pending.
func (r *Recorder) Append(row Row) error {
	vals := [...]float64{0, row.F, row.GradNormSq, row.EstErrSq, row.StepSize, 0, 0, 0, row.TimeS}
	ints := [...]int64{row.Iteration, 0, 0, 0, 0, row.BitsPerWorker, row.WireBytesUp, row.WireBytesDown, 0}
	for i := range Columns {
		if r.ints[i] != nil {
			r.ints[i] = append(r.ints[i], ints[i])
		} else {
			r.floats[i] = append(r.floats[i], vals[i])
		}
	}
	if r.pending() >= r.flushEvery {
		return r.Flush()
	}
	return nil
}

// Rows is the number of rows appended so far (flushed or not).
func (r *Recorder) Rows() int { return r.written + r.pending() }

func (r *Recorder) pending() int {
	if r.ints[0] != nil {
		return len(r.ints[0])
	}
	return len(r.floats[0])
}

// Flush writes the pending rows and asks HDF5 to push everything to the
// operating system.
func (r *Recorder) Flush() error {
	lib.Lock()
	defer lib.Unlock()
	return r.flushLocked()
}

func (r *Recorder) flushLocked() error {
	err := r.tryFlushLocked()
	if err != nil && r.release() {
		// Most likely the disk is full: retry once with the ballast's space,
		// so the file is left consistent, then report the first failure.
		if rerr := r.tryFlushLocked(); rerr == nil {
			return fmt.Errorf("%w (disk full? the rows written so far were saved using the reserve space)", err)
		}
	}
	return err
}

func (r *Recorder) tryFlushLocked() error {
	n := r.pending()
	if n > 0 {
		for i, ds := range r.cols {
			var data any
			if r.ints[i] != nil {
				data = &r.ints[i]
			} else {
				data = &r.floats[i]
			}
			if err := appendRows(ds, r.written, n, data); err != nil {
				return fmt.Errorf("hdf5 %s: /trajectory/%s: %w", r.path, Columns[i], err)
			}
		}
		r.written += n
		for i := range Columns {
			if r.ints[i] != nil {
				r.ints[i] = r.ints[i][:0]
			} else {
				r.floats[i] = r.floats[i][:0]
			}
		}
	}
	if err := flushFile(r.file); err != nil {
		return fmt.Errorf("hdf5 %s: flush: %w", r.path, err)
	}
	return nil
}

func appendRows(ds *hdf5.Dataset, offset, n int, data any) error {
	if err := setExtent(ds, uint(offset+n)); err != nil {
		return err
	}
	fs := ds.Space()
	defer fs.Close()
	if err := fs.SelectHyperslab([]uint{uint(offset)}, nil, []uint{uint(n)}, nil); err != nil {
		return err
	}
	ms, err := hdf5.CreateSimpleDataspace([]uint{uint(n)}, nil)
	if err != nil {
		return err
	}
	defer ms.Close()
	return ds.WriteSubset(data, ms, fs)
}

// SetAttrs writes (or replaces) root attributes.
func (r *Recorder) SetAttrs(attrs ...Attr) error {
	lib.Lock()
	defer lib.Unlock()
	for _, a := range attrs {
		if err := writeAttr(r.root, a.Name, a.Value); err != nil {
			return fmt.Errorf("hdf5 %s: %w", r.path, err)
		}
	}
	return nil
}

// SetStatus records the run's status ("running", "completed",
// "stopped-tolerance", "diverged", "failed", "interrupted") and flushes.
func (r *Recorder) SetStatus(status string) error {
	lib.Lock()
	defer lib.Unlock()
	if err := writeAttr(r.root, "status", status); err != nil {
		return fmt.Errorf("hdf5 %s: %w", r.path, err)
	}
	return r.flushLocked()
}

// WriteVector writes (or replaces) a float64 dataset such as "x0" or "x_final"
// under the root group, or under a group given in the name ("timing/…").
func (r *Recorder) WriteVector(name string, v []float64) error {
	lib.Lock()
	defer lib.Unlock()
	if err := r.writeDataset(name, hdf5.T_NATIVE_DOUBLE, len(v), &v); err != nil {
		return fmt.Errorf("hdf5 %s: /%s: %w", r.path, name, err)
	}
	return nil
}

// WriteRanks records /ranks/shard_size (int64) and /ranks/host (variable-length
// UTF-8 strings; also as the attribute /ranks@host), one entry per rank.
func (r *Recorder) WriteRanks(shardSizes []int64, hosts []string) error {
	lib.Lock()
	defer lib.Unlock()
	if err := r.ensureGroup("ranks"); err != nil {
		return err
	}
	if err := r.writeDataset("ranks/shard_size", hdf5.T_NATIVE_INT64, len(shardSizes), &shardSizes); err != nil {
		return fmt.Errorf("hdf5 %s: /ranks/shard_size: %w", r.path, err)
	}
	if err := writeStringDataset(r.file, "ranks/host", hosts); err != nil {
		return fmt.Errorf("hdf5 %s: /ranks/host: %w", r.path, err)
	}
	// the same names as an attribute, which h5py returns as str
	// (datasets of strings it returns as bytes unless .asstr() is used)
	g, err := r.file.OpenGroup("ranks")
	if err != nil {
		return fmt.Errorf("hdf5 %s: /ranks: %w", r.path, err)
	}
	defer g.Close()
	if err := writeStringArrayAttr(g, "host", hosts); err != nil {
		return fmt.Errorf("hdf5 %s: /ranks: %w", r.path, err)
	}
	return nil
}

// WriteTiming records the per-phase wall time of rank 0 as attributes of the
// group /timing (seconds).
func (r *Recorder) WriteTiming(phases []Attr) error {
	lib.Lock()
	defer lib.Unlock()
	if err := r.ensureGroup("timing"); err != nil {
		return err
	}
	g, err := r.file.OpenGroup("timing")
	if err != nil {
		return err
	}
	defer g.Close()
	for _, a := range phases {
		if err := writeAttr(g, a.Name, a.Value); err != nil {
			return fmt.Errorf("hdf5 %s: /timing: %w", r.path, err)
		}
	}
	return nil
}

func (r *Recorder) ensureGroup(name string) error {
	if r.file.LinkExists(name) {
		return nil
	}
	g, err := r.file.CreateGroup(name)
	if err != nil {
		return fmt.Errorf("hdf5 %s: group /%s: %w", r.path, name, err)
	}
	return g.Close()
}

func (r *Recorder) writeDataset(name string, dtype *hdf5.Datatype, n int, data any) error {
	if r.file.LinkExists(name) {
		ds, err := r.file.OpenDataset(name)
		if err != nil {
			return err
		}
		defer ds.Close()
		return ds.Write(data)
	}
	space, err := hdf5.CreateSimpleDataspace([]uint{uint(n)}, nil)
	if err != nil {
		return err
	}
	defer space.Close()
	ds, err := r.file.CreateDataset(name, dtype, space)
	if err != nil {
		return err
	}
	defer ds.Close()
	if err := describeDataset(ds, name); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	return ds.Write(data)
}

// Close flushes, records status and closes the file. Status "" keeps the
// current one.
func (r *Recorder) Close(status string) error {
	var first error
	if status != "" {
		first = r.SetStatus(status)
	} else {
		first = r.Flush()
	}
	lib.Lock()
	defer lib.Unlock()
	for _, ds := range r.cols {
		ds.Close()
	}
	r.root.Close()
	if err := r.file.Close(); err != nil && first == nil {
		first = fmt.Errorf("hdf5 %s: close: %w", r.path, err)
	}
	r.release()
	return first
}
