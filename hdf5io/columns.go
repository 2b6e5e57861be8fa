package hdf5io

// #include <stdlib.h>
// #include "hdf5.h"
import "C"

import (
	"fmt"
	"strings"
	"unsafe"

	"gonum.org/v1/hdf5"
)

// ColumnInfo is what a dataset of a run file means: its path below the root,
// its units and a one-line description. Every dataset the recorder creates
// carries Units and Description as its `units` and `description` attributes,
// so a file explains itself to h5py or h5dump.
type ColumnInfo struct {
	// Path is the dataset's path without the leading slash
	// ("trajectory/grad_norm_sq", "x0", "ranks/host").
	Path string
	// Units is "1" for a dimensionless number, or a unit ("bit", "byte", "s").
	Units string
	// Description says what the value is, in the notation of SPEC.md.
	Description string
}

// Name is the last element of the path ("grad_norm_sq").
func (c ColumnInfo) Name() string { return c.Path[strings.LastIndexByte(c.Path, '/')+1:] }

// columnInfo is the one table of dataset meanings, in file order. README's
// "The HDF5 file" and `efmpi export` are written from it.
var columnInfo = []ColumnInfo{
	{"trajectory/iteration", "1", "iteration counter k of the recorded row (rows at 0, every log_every, and the last)"},
	{"trajectory/f", "1", "objective f(x^k) = (1/n) sum_i f_i(x^k)"},
	{"trajectory/grad_norm_sq", "1", "squared norm of the exact full gradient ||grad f(x^k)||^2, over all shards"},
	{"trajectory/est_err_sq", "1", "estimator error ||g^k - grad f(x^k)||^2 (NaN for EF14, which has no g)"},
	{"trajectory/step_size", "1", "step size gamma_k used to leave x^k"},
	{"trajectory/bits_per_worker", "bit", "cumulative bits one worker has sent: 32 per transmitted value (d at initialisation), indices not counted"},
	{"trajectory/wire_bytes_up", "byte", "cumulative bytes of algorithm traffic sent to rank 0 by all ranks, frame headers and indices included"},
	{"trajectory/wire_bytes_down", "byte", "cumulative bytes of algorithm traffic sent by rank 0 to all ranks, frame headers and indices included"},
	{"trajectory/time_s", "s", "wall-clock seconds since the first iteration began"},
	{"trajectory/grad_evals", "1", "cumulative gradient evaluations of one worker (rank 0): gradients and Hessian-vector products, each on one minibatch, the initial one included (absent in files written before it existed)"},
	{"eval/iteration", "1", "iteration k of the evaluation (every eval_every iterations, and the last)"},
	{"eval/train_loss", "1", "data loss (logistic or half squared error, no regulariser) on the training set at x^k"},
	{"eval/train_accuracy", "1", "fraction of training samples with b_j a_j^T x^k > 0"},
	{"eval/test_loss", "1", "data loss on the held-out test set at x^k (NaN without a test set)"},
	{"eval/test_accuracy", "1", "fraction of test samples with b_j a_j^T x^k > 0 (NaN without a test set)"},
	{"x0", "1", "initial iterate x^0"},
	{"x_final", "1", "final iterate (the last finite one if the run diverged)"},
	{"ranks/shard_size", "sample", "number of training samples held by each rank"},
	{"ranks/host", "text", "host name each rank ran on (UTF-8 text)"},
	{"ranks/label_counts", "sample", "per rank (row) and class (column, labels in increasing order): number of samples of that class"},
}

// ColumnInfos returns the meaning of every dataset a run file can hold, in file
// order (a copy).
func ColumnInfos() []ColumnInfo { return append([]ColumnInfo(nil), columnInfo...) }

// Describe returns the meaning of the dataset at path ("trajectory/f" or
// "/trajectory/f").
func Describe(path string) (ColumnInfo, bool) {
	path = strings.TrimPrefix(path, "/")
	for _, c := range columnInfo {
		if c.Path == path {
			return c, true
		}
	}
	return ColumnInfo{}, false
}

// describeDataset writes the `units` and `description` attributes of a
// dataset from the table (nothing for a path it does not know).
func describeDataset(ds attrHolder, path string) error {
	c, ok := Describe(path)
	if !ok {
		return nil
	}
	if err := writeAttr(ds, "units", c.Units); err != nil {
		return fmt.Errorf("/%s: %w", path, err)
	}
	if err := writeAttr(ds, "description", c.Description); err != nil {
		return fmt.Errorf("/%s: %w", path, err)
	}
	return nil
}

// describeExisting opens the dataset at path in f and describes it.
func describeExisting(f *hdf5.File, path string) error {
	ds, err := f.OpenDataset(path)
	if err != nil {
		return fmt.Errorf("/%s: %w", path, err)
	}
	defer ds.Close()
	return describeDataset(ds, path)
}

// utf8String returns a new variable-length UTF-8 string type (close it):
// h5py reads attributes of this type as str, and datasets of it as str
// through .asstr().
func utf8String() (*hdf5.Datatype, error) {
	dt, err := hdf5.T_GO_STRING.Copy()
	if err != nil {
		return nil, err
	}
	if C.H5Tset_cset(C.hid_t(dt.ID()), C.H5T_CSET_UTF8) < 0 {
		dt.Close()
		return nil, fmt.Errorf("setting UTF-8 character set failed")
	}
	return dt, nil
}

// writeStringDataset creates (or replaces the contents of) a 1-D dataset
// of variable-length UTF-8 strings at path in f.
func writeStringDataset(f *hdf5.File, path string, vals []string) error {
	if f.LinkExists(path) {
		cpath := C.CString(path)
		rc := C.H5Ldelete(C.hid_t(f.ID()), cpath, C.H5P_DEFAULT)
		C.free(unsafe.Pointer(cpath))
		if rc < 0 {
			return fmt.Errorf("deleting the old dataset failed")
		}
	}
	dt, err := utf8String()
	if err != nil {
		return err
	}
	defer dt.Close()
	space, err := hdf5.CreateSimpleDataspace([]uint{uint(len(vals))}, nil)
	if err != nil {
		return err
	}
	defer space.Close()
	ds, err := f.CreateDataset(path, dt, space)
	if err != nil {
		return err
	}
	defer ds.Close()
	if len(vals) > 0 {
		ptrs := C.malloc(C.size_t(len(vals)) * C.size_t(unsafe.Sizeof(uintptr(0))))
		defer C.free(ptrs)
		arr := unsafe.Slice((**C.char)(ptrs), len(vals))
		for i, v := range vals {
			arr[i] = C.CString(v)
		}
		defer func() {
			for _, p := range arr {
				C.free(unsafe.Pointer(p))
			}
		}()
		if C.H5Dwrite(C.hid_t(ds.ID()), C.hid_t(dt.ID()), C.H5S_ALL, C.H5S_ALL, C.H5P_DEFAULT, ptrs) < 0 {
			return fmt.Errorf("writing strings failed")
		}
	}
	return describeDataset(ds, path)
}

// readStringDataset reads a 1-D dataset of strings, variable-length (files
// from this version on) or fixed-length (older files).
func readStringDataset(f *hdf5.File, path string) ([]string, error) {
	ds, err := f.OpenDataset(path)
	if err != nil {
		return nil, err
	}
	defer ds.Close()
	tid := C.H5Dget_type(C.hid_t(ds.ID()))
	variable := C.H5Tis_variable_str(tid) > 0
	C.H5Tclose(tid)
	if !variable {
		return readFixedStrings(f, path)
	}
	n, err := length(ds)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return []string{}, nil
	}
	dt, err := utf8String()
	if err != nil {
		return nil, err
	}
	defer dt.Close()
	ptrs := C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof(uintptr(0))))
	defer C.free(ptrs)
	if C.H5Dread(C.hid_t(ds.ID()), C.hid_t(dt.ID()), C.H5S_ALL, C.H5S_ALL, C.H5P_DEFAULT, ptrs) < 0 {
		return nil, fmt.Errorf("reading strings failed")
	}
	arr := unsafe.Slice((**C.char)(ptrs), n)
	out := make([]string, n)
	for i, p := range arr {
		out[i] = C.GoString(p)
		C.H5free_memory(unsafe.Pointer(p))
	}
	return out, nil
}

// writeStringArrayAttr creates (or replaces) a 1-D attribute of
// variable-length UTF-8 strings on h; h5py reads it as an array of str.
func writeStringArrayAttr(h attrHolder, name string, vals []string) error {
	if attrExists(h, name) {
		cname := C.CString(name)
		rc := C.H5Adelete(C.hid_t(h.ID()), cname)
		C.free(unsafe.Pointer(cname))
		if rc < 0 {
			return fmt.Errorf("attribute %s: delete failed", name)
		}
	}
	dt, err := utf8String()
	if err != nil {
		return err
	}
	defer dt.Close()
	space, err := hdf5.CreateSimpleDataspace([]uint{uint(len(vals))}, nil)
	if err != nil {
		return err
	}
	defer space.Close()
	a, err := h.CreateAttribute(name, dt, space)
	if err != nil {
		return fmt.Errorf("attribute %s: %w", name, err)
	}
	defer a.Close()
	if len(vals) == 0 {
		return nil
	}
	ptrs := C.malloc(C.size_t(len(vals)) * C.size_t(unsafe.Sizeof(uintptr(0))))
	defer C.free(ptrs)
	arr := unsafe.Slice((**C.char)(ptrs), len(vals))
	for i, v := range vals {
		arr[i] = C.CString(v)
	}
	defer func() {
		for _, p := range arr {
			C.free(unsafe.Pointer(p))
		}
	}()
	if C.H5Awrite(C.hid_t(a.ID()), C.hid_t(dt.ID()), ptrs) < 0 {
		return fmt.Errorf("attribute %s: write failed", name)
	}
	return nil
}

// WriteLabelCounts records /ranks/label_counts: an int64 matrix with one row
// per rank and one column per class, classes (the label values, increasing)
// stored as its `labels` attribute.
func (r *Recorder) WriteLabelCounts(counts [][]int64, classes []float64) error {
	lib.Lock()
	defer lib.Unlock()
	if err := r.endSWMR(); err != nil {
		return err
	}
	if err := r.ensureGroup("ranks"); err != nil {
		return err
	}
	const path = "ranks/label_counts"
	flat := make([]int64, 0, len(counts)*len(classes))
	for i, row := range counts {
		if len(row) != len(classes) {
			return fmt.Errorf("hdf5 %s: /%s: rank %d has %d counts for %d classes", r.path, path, i, len(row), len(classes))
		}
		flat = append(flat, row...)
	}
	if r.file.LinkExists(path) {
		cpath := C.CString(path)
		C.H5Ldelete(C.hid_t(r.file.ID()), cpath, C.H5P_DEFAULT)
		C.free(unsafe.Pointer(cpath))
	}
	space, err := hdf5.CreateSimpleDataspace([]uint{uint(len(counts)), uint(len(classes))}, nil)
	if err != nil {
		return err
	}
	defer space.Close()
	ds, err := r.file.CreateDataset(path, hdf5.T_NATIVE_INT64, space)
	if err != nil {
		return fmt.Errorf("hdf5 %s: /%s: %w", r.path, path, err)
	}
	defer ds.Close()
	if len(flat) > 0 {
		if err := ds.Write(&flat); err != nil {
			return fmt.Errorf("hdf5 %s: /%s: %w", r.path, path, err)
		}
	}
	if err := describeDataset(ds, path); err != nil {
		return fmt.Errorf("hdf5 %s: %w", r.path, err)
	}
	if err := writeFloatArrayAttr(ds, "labels", classes); err != nil {
		return fmt.Errorf("hdf5 %s: /%s: %w", r.path, path, err)
	}
	return nil
}

// writeFloatArrayAttr creates a 1-D float64 attribute.
func writeFloatArrayAttr(h attrHolder, name string, vals []float64) error {
	space, err := hdf5.CreateSimpleDataspace([]uint{uint(len(vals))}, nil)
	if err != nil {
		return err
	}
	defer space.Close()
	a, err := h.CreateAttribute(name, hdf5.T_NATIVE_DOUBLE, space)
	if err != nil {
		return err
	}
	defer a.Close()
	if len(vals) == 0 {
		return nil
	}
	return a.Write(&vals[0], hdf5.T_NATIVE_DOUBLE)
}

// readLabelCounts reads /ranks/label_counts (rows × classes) and its labels.
func readLabelCounts(f *hdf5.File) ([][]int64, []float64, error) {
	const path = "ranks/label_counts"
	ds, err := f.OpenDataset(path)
	if err != nil {
		return nil, nil, err
	}
	defer ds.Close()
	sp := ds.Space()
	dims, _, err := sp.SimpleExtentDims()
	sp.Close()
	if err != nil || len(dims) != 2 {
		return nil, nil, fmt.Errorf("/%s: want a 2-D dataset", path)
	}
	rows, cols := int(dims[0]), int(dims[1])
	flat := make([]int64, rows*cols)
	if len(flat) > 0 {
		if err := ds.Read(&flat); err != nil {
			return nil, nil, err
		}
	}
	out := make([][]int64, rows)
	for i := range out {
		out[i] = flat[i*cols : (i+1)*cols]
	}
	labels := make([]float64, cols)
	if cols > 0 {
		a, err := ds.OpenAttribute("labels")
		if err != nil {
			return nil, nil, err
		}
		defer a.Close()
		if err := a.Read(&labels[0], hdf5.T_NATIVE_DOUBLE); err != nil {
			return nil, nil, err
		}
	}
	return out, labels, nil
}
