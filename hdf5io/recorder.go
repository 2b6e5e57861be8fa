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
	"path/filepath"
	"syscall"

	"gonum.org/v1/hdf5"
)

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
	// GradEvals is one worker's cumulative gradient evaluations (gradients
	// and Hessian-vector products, each on one minibatch; issue 24).
	GradEvals int64
}

// Columns names the /trajectory datasets in Row order.
var Columns = []string{"iteration", "f", "grad_norm_sq", "est_err_sq", "step_size",
	"bits_per_worker", "wire_bytes_up", "wire_bytes_down", "time_s", "grad_evals"}

// optionalColumn reports a column that files written before it existed lack:
// Open reads such a file without it (issue 24 added grad_evals).
func optionalColumn(name string) bool { return name == "grad_evals" }

// intColumn reports whether a column is stored as int64 (else float64).
func intColumn(name string) bool {
	switch name {
	case "iteration", "bits_per_worker", "wire_bytes_up", "wire_bytes_down", "grad_evals":
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
	lock       *Lock       // the write lock of path, held until Close
	inode      os.FileInfo // the file as created, to notice it was replaced
	failed     error       // a flush that failed: the file holds r.written rows
	// swmr: the file is in SWMR writing mode (see swmr.go); swmrDone: it
	// left it for the final writes; noSWMR: the library refused it.
	swmr, swmrDone, noSWMR bool
	segment                string // the group of the current segment ("segments/<n>"), "" before BeginSegment
}

// ChunkRows is the chunk length of the trajectory datasets.
const ChunkRows = 1024

// Create makes a new run file at path with the given root attributes and
// status "running". An existing file is refused with ErrExists unless
// overwrite is set. Rows are flushed to disk every flushEvery appended rows
// (at least 1).
//
// The recorder holds the file's write lock (see AcquireLock) from before the
// existence check until Close, so a second writer is refused with ErrLocked
// instead of truncating a file that is being written.
func Create(path string, overwrite bool, flushEvery int, attrs []Attr) (*Recorder, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, fmt.Errorf("hdf5 %s: %w", path, ErrIsDir)
	}
	lock, err := AcquireLock(path)
	if err != nil {
		return nil, fmt.Errorf("hdf5 %w", err)
	}
	if _, err := os.Stat(path); err == nil && !overwrite {
		lock.Release()
		return nil, fmt.Errorf("hdf5 %s: %w", path, ErrExists)
	}
	lib.Lock()
	defer lib.Unlock()
	f, err := createLatest(path)
	if err != nil {
		lock.Release()
		return nil, fmt.Errorf("hdf5 %s: create: %w", path, detail(err))
	}
	r := &Recorder{path: path, file: f, flushEvery: max(1, flushEvery), lock: lock}
	if useLatestFormat(f) != nil {
		r.noSWMR = true
	}
	if err := r.init(attrs); err != nil {
		err = detail(err)
		f.Close()
		lock.Release()
		return nil, fmt.Errorf("hdf5 %s: %w", path, err)
	}
	r.inode, _ = os.Stat(path)
	r.reserve()
	return r, nil
}

// ErrIsDir is returned when the output path names a directory.
var ErrIsDir = errors.New("is a directory, not a file (name a file such as DIR/run.h5)")

// ReserveBytes is the size of the ballast file a recorder keeps next to its
// run file (<file>.reserve). When the disk fills up, the recorder deletes the
// ballast and completes its flush with the space freed, so the file stays
// consistent and readable with every row written before the disk filled,
// and the final status can still be recorded. The ballast is removed when
// the file is closed.
const ReserveBytes = 1 << 20

func (r *Recorder) reservePath() string { return r.path + ".reserve" }

// minReserve is the smallest useful ballast: room for the metadata a final
// flush and the status attribute need.
const minReserve = 16 << 10

// reserveSize is the ballast for a file system with free bytes available:
// ReserveBytes, or a quarter of the free space on a small file system (a
// 1 MiB ballast cannot even be created on a 200 KiB one).
func reserveSize(free uint64) int {
	return int(min(uint64(ReserveBytes), free/4))
}

// freeBytes is the space available to this user in dir's file system.
func freeBytes(dir string) (uint64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return st.Bavail * uint64(st.Bsize), true
}

// reserve creates the ballast file (best effort: without room for it the
// run fails soon anyway, and the recorder works without it).
func (r *Recorder) reserve() {
	size := ReserveBytes
	if free, ok := freeBytes(filepath.Dir(r.path)); ok {
		size = reserveSize(free)
	}
	if size < minReserve {
		return
	}
	f, err := os.OpenFile(r.reservePath(), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return
	}
	_, err = f.Write(make([]byte, size))
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
	if err := setFletcher32(dcpl); err != nil {
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
// After a failed flush it returns that failure and records nothing.
func (r *Recorder) Append(row Row) error {
	if r.failed != nil {
		return r.failed
	}
	vals := [...]float64{0, row.F, row.GradNormSq, row.EstErrSq, row.StepSize, 0, 0, 0, row.TimeS, 0}
	ints := [...]int64{row.Iteration, 0, 0, 0, 0, row.BitsPerWorker, row.WireBytesUp, row.WireBytesDown, 0, row.GradEvals}
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

// flushLocked writes the pending rows. When that fails (most likely the disk
// is full) it frees the ballast and retries once; if the retry fails too, it
// cuts every column back to the rows of the last flush that succeeded, drops
// the pending rows and flushes the metadata with the ballast's space: rows
// are on disk whole or not at all, and the file stays readable. After a
// failure the recorder appends nothing more.
func (r *Recorder) flushLocked() error {
	if r.failed != nil {
		flushFile(r.file) // the status written since, if there is room
		return r.failed
	}
	if err := r.roomFor(r.pending()); err != nil {
		// The disk is about to be full: stop before HDF5 meets the error
		// half-way through a flush. Nothing of the pending rows is
		// written; the ballast gives room for the final attributes.
		lost := r.pending()
		r.dropPending()
		r.release()
		r.failed = fmt.Errorf("hdf5 %s: %w (%d rows are on disk whole, the last %d rows were not written)", r.path, err, r.written, lost)
		flushFile(r.file)
		return r.failed
	}
	err := r.tryFlushLocked()
	if err == nil {
		return nil
	}
	// No retry of the same rows: after a failed write HDF5's chunk cache may
	// hold chunks it could not write, and writing them again has been seen
	// to leave zeros on disk. Cut every column back to the rows of the last
	// flush that succeeded instead, and flush the metadata with the space
	// the ballast frees.
	r.release()
	lost := r.pending()
	r.dropPending()
	for _, ds := range r.cols {
		setExtent(ds, uint(r.written))
	}
	ferr := flushFile(r.file)
	r.failed = fmt.Errorf("%w (disk full? %d rows are on disk whole, the last %d rows were not written)", err, r.written, lost)
	if ferr != nil {
		r.failed = fmt.Errorf("%w (and the file could not be brought to a consistent state: %v)", err, detail(ferr))
	}
	return r.failed
}

// dropPending forgets the rows not yet written.
func (r *Recorder) dropPending() {
	for i := range Columns {
		if r.ints[i] != nil {
			r.ints[i] = r.ints[i][:0]
		} else {
			r.floats[i] = r.floats[i][:0]
		}
	}
}

// checkRoom enables roomFor (tests turn it off to reach the failure path).
var checkRoom = true

// metadataMargin is the free space kept for HDF5's own metadata (chunk
// index, object headers) on top of the chunks a flush adds.
const metadataMargin = 32 << 10

// ErrDiskFull is returned when the file system has no room for the next
// flush: the recorder stops before writing, so every row on disk is whole.
var ErrDiskFull = errors.New("no space left on the device for the next rows")

// roomFor checks that the file system can take n more rows: the chunks they
// start (every column, with its checksum) and a margin for metadata. A flush
// that could run out of space half-way would leave some columns longer
// than others; this check lets the recorder stop first. Where the free space
// cannot be read, it does not refuse.
func (r *Recorder) roomFor(n int) error {
	if n == 0 || !checkRoom {
		return nil
	}
	before := (r.written + ChunkRows - 1) / ChunkRows
	after := (r.written + n + ChunkRows - 1) / ChunkRows
	need := uint64((after-before)*len(Columns)*(ChunkRows*8+4) + metadataMargin)
	free, ok := freeBytes(filepath.Dir(r.path))
	if !ok || free >= need {
		return nil
	}
	return fmt.Errorf("%w (%d bytes free in %s, %d needed)", ErrDiskFull, free, filepath.Dir(r.path), need)
}

func (r *Recorder) tryFlushLocked() error {
	n := r.pending()
	if n > 0 {
		r.startSWMR()
		for i, ds := range r.cols {
			var data any
			if r.ints[i] != nil {
				data = &r.ints[i]
			} else {
				data = &r.floats[i]
			}
			if err := appendRows(ds, r.written, n, data); err != nil {
				return fmt.Errorf("hdf5 %s: /trajectory/%s: %w", r.path, Columns[i], detail(err))
			}
		}
	}
	if err := flushFile(r.file); err != nil {
		return fmt.Errorf("hdf5 %s: flush: %w", r.path, detail(err))
	}
	// Only rows the flush put on disk count as written: a failed flush
	// leaves them pending, and flushLocked cuts the columns back.
	r.written += n
	r.dropPending()
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
	if err := r.endSWMR(); err != nil {
		return err
	}
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
	if err := r.endSWMR(); err != nil {
		return err
	}
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
	if err := r.endSWMR(); err != nil {
		return err
	}
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
	if err := r.endSWMR(); err != nil {
		return err
	}
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
	if err := r.endSWMR(); err != nil {
		return err
	}
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
	if err := r.endSWMR(); err != nil && first == nil {
		first = err
	}
	for _, ds := range r.cols {
		ds.Close()
	}
	r.root.Close()
	if err := r.file.Close(); err != nil && first == nil {
		first = fmt.Errorf("hdf5 %s: close: %w", r.path, detail(err))
	}
	r.release()
	if first == nil {
		first = r.verifyLocked(status)
	}
	r.lock.Release()
	return first
}

// verifyLocked reads the closed file back: it must still be the file this
// recorder created (not removed, replaced or truncated by someone else) and
// hold every row written and the final status. A run never reports success
// for a file it could not finish.
func (r *Recorder) verifyLocked(status string) error {
	now, err := os.Stat(r.path)
	if err != nil || (r.inode != nil && !os.SameFile(r.inode, now)) {
		return fmt.Errorf("hdf5 %s: the file was removed or replaced while this run wrote it (by another program?): its rows are lost", r.path)
	}
	f, err := hdf5.OpenFile(r.path, hdf5.F_ACC_RDONLY)
	if err != nil {
		return fmt.Errorf("hdf5 %s: the finished file cannot be read back (damaged while it was written?): %w", r.path, detail(err))
	}
	defer f.Close()
	root, err := f.OpenGroup("/")
	if err != nil {
		return fmt.Errorf("hdf5 %s: the finished file cannot be read back: %w", r.path, detail(err))
	}
	attrs, err := readAttrs(root)
	root.Close()
	if err != nil {
		return fmt.Errorf("hdf5 %s: the finished file cannot be read back: %w", r.path, detail(err))
	}
	if got := fmt.Sprint(attrs["status"]); status != "" && got != status {
		return fmt.Errorf("hdf5 %s: read back status %q, want %q: the file was changed while this run wrote it", r.path, got, status)
	}
	for _, name := range Columns {
		ds, err := f.OpenDataset("trajectory/" + name)
		if err != nil {
			return fmt.Errorf("hdf5 %s: read back /trajectory/%s: %w", r.path, name, detail(err))
		}
		n, err := length(ds)
		ds.Close()
		if err != nil || n != r.written {
			return fmt.Errorf("hdf5 %s: read back /trajectory/%s: %d rows, want %d: the file was changed while this run wrote it", r.path, name, n, r.written)
		}
	}
	return nil
}
