package hdf5io

import (
	"fmt"
	"strings"
	"time"

	"gonum.org/v1/hdf5"
)

// Run is a recorded run read back from its file.
type Run struct {
	Path string
	// Attrs holds the root attributes: strings, int64 and float64 values.
	Attrs map[string]any
	// Ints and Floats hold the /trajectory columns by name.
	Ints   map[string][]int64
	Floats map[string][]float64
	X0     []float64
	XFinal []float64
	// ShardSizes and Hosts come from /ranks; LabelCounts[r][c] is rank r's
	// number of samples of class Classes[c] (/ranks/label_counts, nil when
	// the file has none).
	ShardSizes  []int64
	Hosts       []string
	LabelCounts [][]int64
	Classes     []float64
	// Timing holds the /timing attributes (seconds per phase).
	Timing map[string]any
	// EvalIteration and Eval hold /eval (nil when the run evaluated
	// nothing): Eval by column name (train_loss, train_accuracy, test_loss,
	// test_accuracy).
	EvalIteration []int64
	Eval          map[string][]float64
	// Segments holds the attributes of each start of the run (/segments/<n>,
	// see BeginSegment), in order; nil for files written before segments.
	Segments []map[string]any
}

// LegacyAttrs maps the root attributes that files of earlier versions wrote
// under an ambiguous name to the name they have now: `alpha` was the
// compressor's contraction (now contraction_alpha), while the config's
// [data] alpha, the Dirichlet concentration, was written as split_alpha (now
// dirichlet_alpha).
var LegacyAttrs = map[string]string{"alpha": "contraction_alpha", "split_alpha": "dirichlet_alpha"}

// RenameLegacyAttrs moves every attribute of attrs with a name of
// LegacyAttrs to its current name (unless the current name is present, in
// which case the old one is dropped), so that every reader sees one
// vocabulary whichever version wrote the file.
func RenameLegacyAttrs(attrs map[string]any) {
	for old, cur := range LegacyAttrs {
		v, ok := attrs[old]
		if !ok {
			continue
		}
		if _, has := attrs[cur]; !has {
			attrs[cur] = v
		}
		delete(attrs, old)
	}
}

// Rows is the number of trajectory rows.
func (r *Run) Rows() int { return len(r.Ints["iteration"]) }

// String returns a root attribute as text ("" if absent).
func (r *Run) String(name string) string {
	if v, ok := r.Attrs[name]; ok {
		return fmt.Sprint(v)
	}
	return ""
}

// Open reads a run file completely. A file that a running job is writing is
// read as a SWMR reader, which can meet a chunk the writer is flushing at that
// moment (HDF5 then reports a checksum error): such a read is tried again,
// up to swmrTries times, swmrWait apart.
func Open(path string) (*Run, error) {
	for try := 1; ; try++ {
		run, swmr, err := openOnce(path)
		if err == nil || !swmr || try == swmrTries {
			return run, err
		}
		time.Sleep(swmrWait)
	}
}

// swmrTries and swmrWait bound the retries of Open on a file being written.
const (
	swmrTries = 10
	swmrWait  = 100 * time.Millisecond
)

// openOnce is one attempt of Open; swmr reports whether the file was being
// written (opened as a SWMR reader).
func openOnce(path string) (_ *Run, swmr bool, _ error) {
	lib.Lock()
	defer lib.Unlock()
	if !hdf5.IsHDF5(path) {
		return nil, false, fmt.Errorf("hdf5 %s: not an HDF5 file (or missing)", path)
	}
	f, swmr, err := openForReading(path)
	if err != nil {
		return nil, false, fmt.Errorf("hdf5 %s: open: %w", path, err)
	}
	defer f.Close()
	run, err := readRun(f, path, swmr)
	return run, swmr, err
}

// readRun reads the whole run of the open file f.
func readRun(f *hdf5.File, path string, swmr bool) (*Run, error) {
	var err error
	run := &Run{Path: path, Ints: map[string][]int64{}, Floats: map[string][]float64{}}
	root, err := f.OpenGroup("/")
	if err != nil {
		return nil, fmt.Errorf("hdf5 %s: %w", path, err)
	}
	defer root.Close()
	if run.Attrs, err = readAttrs(root); err != nil {
		return nil, fmt.Errorf("hdf5 %s: root attributes: %w", path, err)
	}
	RenameLegacyAttrs(run.Attrs)
	for _, name := range Columns {
		full := "trajectory/" + name
		if f.LinkExists("trajectory") && !f.LinkExists(full) && optionalColumn(name) {
			continue // a file written before the column existed
		}
		if !f.LinkExists("trajectory") || !f.LinkExists(full) {
			return nil, fmt.Errorf("hdf5 %s: missing dataset /%s", path, full)
		}
		if intColumn(name) {
			v, err := readInts(f, full)
			if err != nil {
				return nil, fmt.Errorf("hdf5 %s: /%s: %w", path, full, err)
			}
			run.Ints[name] = v
		} else {
			v, err := readFloats(f, full)
			if err != nil {
				return nil, fmt.Errorf("hdf5 %s: /%s: %w", path, full, err)
			}
			run.Floats[name] = v
		}
	}
	if swmr {
		// A running job extends its columns one after the other: show the
		// rows every column already has.
		n := len(run.Ints["iteration"])
		for _, v := range run.Ints {
			n = min(n, len(v))
		}
		for _, v := range run.Floats {
			n = min(n, len(v))
		}
		for k, v := range run.Ints {
			run.Ints[k] = v[:n]
		}
		for k, v := range run.Floats {
			run.Floats[k] = v[:n]
		}
	}
	for name, dst := range map[string]*[]float64{"x0": &run.X0, "x_final": &run.XFinal} {
		if f.LinkExists(name) {
			if *dst, err = readFloats(f, name); err != nil {
				return nil, fmt.Errorf("hdf5 %s: /%s: %w", path, name, err)
			}
		}
	}
	if f.LinkExists("ranks") && f.LinkExists("ranks/shard_size") {
		if run.ShardSizes, err = readInts(f, "ranks/shard_size"); err != nil {
			return nil, fmt.Errorf("hdf5 %s: /ranks/shard_size: %w", path, err)
		}
		if f.LinkExists("ranks/label_counts") {
			if run.LabelCounts, run.Classes, err = readLabelCounts(f); err != nil {
				return nil, fmt.Errorf("hdf5 %s: /ranks/label_counts: %w", path, err)
			}
		}
		if f.LinkExists("ranks/host") {
			if run.Hosts, err = readStringDataset(f, "ranks/host"); err != nil {
				return nil, fmt.Errorf("hdf5 %s: /ranks/host: %w", path, err)
			}
		}
	}
	if f.LinkExists("eval") && f.LinkExists("eval/iteration") {
		if err := readEval(f, run); err != nil {
			return nil, fmt.Errorf("hdf5 %s: /eval: %w", path, err)
		}
	}
	if run.Segments, err = readSegments(f); err != nil {
		return nil, fmt.Errorf("hdf5 %s: %w", path, err)
	}
	if f.LinkExists("timing") {
		g, err := f.OpenGroup("timing")
		if err != nil {
			return nil, fmt.Errorf("hdf5 %s: /timing: %w", path, err)
		}
		run.Timing, err = readAttrs(g)
		g.Close()
		if err != nil {
			return nil, fmt.Errorf("hdf5 %s: /timing: %w", path, err)
		}
	}
	return run, nil
}

func length(ds *hdf5.Dataset) (int, error) {
	sp := ds.Space()
	defer sp.Close()
	dims, _, err := sp.SimpleExtentDims()
	if err != nil {
		return 0, err
	}
	if len(dims) != 1 {
		return 0, fmt.Errorf("rank %d, want 1-D", len(dims))
	}
	return int(dims[0]), nil
}

func readFloats(f *hdf5.File, name string) ([]float64, error) { return readVector[float64](f, name) }

func readInts(f *hdf5.File, name string) ([]int64, error) { return readVector[int64](f, name) }

// readVector reads a whole 1-D dataset of float64 or int64 values.
func readVector[T float64 | int64](f *hdf5.File, name string) ([]T, error) {
	ds, err := f.OpenDataset(name)
	if err != nil {
		return nil, detail(err)
	}
	defer ds.Close()
	n, err := length(ds)
	if err != nil {
		return nil, err
	}
	v := make([]T, n)
	if n > 0 {
		err = detail(ds.Read(&v))
	}
	return v, err
}

func readFixedStrings(f *hdf5.File, name string) ([]string, error) {
	ds, err := f.OpenDataset(name)
	if err != nil {
		return nil, err
	}
	defer ds.Close()
	n, err := length(ds)
	if err != nil {
		return nil, err
	}
	dt, err := ds.Datatype()
	if err != nil {
		return nil, err
	}
	width := int(dt.Size())
	dt.Close()
	buf := make([]byte, n*width)
	if n > 0 {
		if err := ds.Read(&buf); err != nil {
			return nil, detail(err)
		}
	}
	out := make([]string, n)
	for i := range out {
		out[i] = strings.TrimRight(string(buf[i*width:(i+1)*width]), "\x00")
	}
	return out, nil
}
