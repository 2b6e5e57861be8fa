package hdf5io

// #include <stdlib.h>
// #include "hdf5.h"
//
// // readSlab reads count elements from offset of the 1-D dataset ds into buf,
// // converting to the memory type mtype. It returns a negative value on error.
// static herr_t readSlab(hid_t ds, hsize_t offset, hsize_t count, hid_t mtype, void *buf) {
//     hid_t fs = H5Dget_space(ds);
//     if (fs < 0) return -1;
//     herr_t rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, &offset, NULL, &count, NULL);
//     hid_t ms = H5Screate_simple(1, &count, NULL);
//     if (rc >= 0 && ms >= 0) rc = H5Dread(ds, mtype, ms, fs, H5P_DEFAULT, buf);
//     else rc = -1;
//     if (ms >= 0) H5Sclose(ms);
//     H5Sclose(fs);
//     return rc;
// }
//
// // attrInt64s reads an integer attribute of n elements of object obj.
// static herr_t attrInt64s(hid_t obj, const char *name, long long *out, int n) {
//     hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
//     if (a < 0) return -1;
//     hid_t sp = H5Aget_space(a);
//     herr_t rc = -1;
//     if (sp >= 0 && H5Sget_simple_extent_npoints(sp) == n) {
//         rc = H5Aread(a, H5T_NATIVE_LLONG, out);
//     }
//     if (sp >= 0) H5Sclose(sp);
//     H5Aclose(a);
//     return rc;
// }
//
// // writeAttrInt64s writes a 1-D integer attribute of n elements.
// static herr_t writeAttrInt64s(hid_t obj, const char *name, const long long *v, int n) {
//     hsize_t dims = n;
//     hid_t sp = H5Screate_simple(1, &dims, NULL);
//     if (sp < 0) return -1;
//     hid_t a = H5Acreate2(obj, name, H5T_NATIVE_LLONG, sp, H5P_DEFAULT, H5P_DEFAULT);
//     herr_t rc = -1;
//     if (a >= 0) { rc = H5Awrite(a, H5T_NATIVE_LLONG, v); H5Aclose(a); }
//     H5Sclose(sp);
//     return rc;
// }
//
// static H5T_class_t typeClass(hid_t ds) {
//     hid_t t = H5Dget_type(ds);
//     if (t < 0) return H5T_NO_CLASS;
//     H5T_class_t c = H5Tget_class(t);
//     H5Tclose(t);
//     return c;
// }
//
// // openDataset opens a dataset with the default access properties (the
// // default 1 MiB chunk cache holds a whole 64 Ki-element chunk; disabling
// // it was measured 2–4× slower).
// static hid_t openDataset(hid_t file, const char *name) {
//     return H5Dopen2(file, name, H5P_DEFAULT);
// }
//
// // extent1d returns the length of a 1-D dataset, or -1 (-2 if not 1-D).
// static long long extent1d(hid_t ds) {
//     hid_t sp = H5Dget_space(ds);
//     if (sp < 0) return -1;
//     hsize_t dims[H5S_MAX_RANK];
//     int nd = H5Sget_simple_extent_dims(sp, dims, NULL);
//     H5Sclose(sp);
//     if (nd != 1) return -2;
//     return (long long)dims[0];
// }
//
// static hid_t nativeInt64(void) { return H5T_NATIVE_LLONG; }
// static hid_t nativeInt32(void) { return H5T_NATIVE_INT; }
// static hid_t nativeDouble(void) { return H5T_NATIVE_DOUBLE; }
import "C"

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"unsafe"

	"gonum.org/v1/hdf5"
)

// The sparse input format. A file holds one labelled CSR matrix in the layout
// anndata uses for a csr_matrix element, so scipy/anndata users read it as is:
//
//	/X                group, attributes encoding-type = "csr_matrix",
//	                  encoding-version = "0.1.0", shape = [m, d] (int64)
//	/X/data           float64 [nnz]   the values
//	/X/indices        int32   [nnz]   0-based columns, strictly increasing per row
//	/X/indptr         int64   [m+1]   row r is data[indptr[r]:indptr[r+1]]
//	/labels           float64 [m]     ±1 (after the label rule)
//
// Root attributes record provenance: efmpi_format (CSRFormat), source (the
// converted file's name), source_sha256, label_negative and label_positive
// (the raw labels mapped to −1 and +1), label_rule. Readers accept any integer
// type for indices and indptr and any numeric type for data and labels (HDF5
// converts), so files written by h5py from scipy arrays work too.
const (
	CSRFormat        = "efmpi-csr-1"
	CSRGroup         = "X"
	CSREncodingType  = "csr_matrix"
	CSREncodingVer   = "0.1.0"
	csrChunkElements = 1 << 16
)

// CSRWriter streams a labelled CSR matrix into a new file: rows are appended
// in blocks to chunked, extendable datasets, so memory stays O(one block).
type CSRWriter struct {
	path                          string
	file                          *hdf5.File
	group                         *hdf5.Group
	data, indices, indptr, labels *hdf5.Dataset
	rows, nnz                     int64
	ptrBuf                        []int64
}

// CreateCSR creates the file at path (refusing an existing one with ErrExists
// unless overwrite is set) with empty, extendable arrays.
func CreateCSR(path string, overwrite bool) (*CSRWriter, error) {
	if _, err := os.Stat(path); err == nil && !overwrite {
		return nil, fmt.Errorf("hdf5 %s: %w", path, ErrExists)
	}
	lib.Lock()
	defer lib.Unlock()
	f, err := hdf5.CreateFile(path, hdf5.F_ACC_TRUNC)
	if err != nil {
		return nil, fmt.Errorf("hdf5 %s: create: %w", path, err)
	}
	w := &CSRWriter{path: path, file: f}
	if err := w.init(); err != nil {
		w.closeAll()
		os.Remove(path)
		return nil, fmt.Errorf("hdf5 %s: %w", path, err)
	}
	return w, nil
}

func (w *CSRWriter) init() error {
	g, err := w.file.CreateGroup(CSRGroup)
	if err != nil {
		return fmt.Errorf("group /%s: %w", CSRGroup, err)
	}
	w.group = g
	dcpl, err := hdf5.NewPropList(hdf5.P_DATASET_CREATE)
	if err != nil {
		return err
	}
	defer dcpl.Close()
	if err := dcpl.SetChunk([]uint{csrChunkElements}); err != nil {
		return err
	}
	space, err := hdf5.CreateSimpleDataspace([]uint{0}, []uint{unlimited})
	if err != nil {
		return err
	}
	defer space.Close()
	mk := func(loc interface {
		CreateDatasetWith(string, *hdf5.Datatype, *hdf5.Dataspace, *hdf5.PropList) (*hdf5.Dataset, error)
	}, name string, t *hdf5.Datatype) (*hdf5.Dataset, error) {
		ds, err := loc.CreateDatasetWith(name, t, space, dcpl)
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %w", name, err)
		}
		return ds, nil
	}
	if w.data, err = mk(g, "data", hdf5.T_NATIVE_DOUBLE); err != nil {
		return err
	}
	if w.indices, err = mk(g, "indices", hdf5.T_NATIVE_INT32); err != nil {
		return err
	}
	if w.indptr, err = mk(g, "indptr", hdf5.T_NATIVE_INT64); err != nil {
		return err
	}
	if w.labels, err = mk(w.file, "labels", hdf5.T_NATIVE_DOUBLE); err != nil {
		return err
	}
	return appendSlab(w.indptr, 0, []int64{0})
}

// appendSlab writes v at offset of a 1-D extendable dataset, growing it.
func appendSlab[T int64 | int32 | float64](ds *hdf5.Dataset, offset int64, v []T) error {
	if len(v) == 0 {
		return nil
	}
	if err := setExtent(ds, uint(offset)+uint(len(v))); err != nil {
		return err
	}
	fs := ds.Space()
	defer fs.Close()
	if err := fs.SelectHyperslab([]uint{uint(offset)}, nil, []uint{uint(len(v))}, nil); err != nil {
		return err
	}
	ms, err := hdf5.CreateSimpleDataspace([]uint{uint(len(v))}, nil)
	if err != nil {
		return err
	}
	defer ms.Close()
	return ds.WriteSubset(&v, ms, fs)
}

// Append adds rows: row r has the entries colIdx[rowPtr[r]:rowPtr[r+1]] with
// values val[…] (rowPtr[0] = 0) and the label labels[r] (raw labels may be
// written and mapped later with MapLabels).
func (w *CSRWriter) Append(rowPtr []int, colIdx []int32, val []float64, labels []float64) error {
	n := len(rowPtr) - 1
	if n < 0 || len(labels) != n || len(colIdx) != len(val) || rowPtr[n] != len(val) {
		return fmt.Errorf("hdf5 %s: append: inconsistent block (%d row pointers, %d labels, %d indices, %d values)",
			w.path, len(rowPtr), len(labels), len(colIdx), len(val))
	}
	lib.Lock()
	defer lib.Unlock()
	w.ptrBuf = w.ptrBuf[:0]
	for _, p := range rowPtr[1:] {
		w.ptrBuf = append(w.ptrBuf, w.nnz+int64(p))
	}
	for _, e := range []error{
		appendSlab(w.data, w.nnz, val),
		appendSlab(w.indices, w.nnz, colIdx),
		appendSlab(w.indptr, w.rows+1, w.ptrBuf),
		appendSlab(w.labels, w.rows, labels),
	} {
		if e != nil {
			return fmt.Errorf("hdf5 %s: append: %w", w.path, e)
		}
	}
	w.rows += int64(n)
	w.nnz += int64(len(val))
	return nil
}

// MapLabels rewrites every label y already written as f(y), a block at a
// time (used to apply the ±1 rule once both raw labels are known).
func (w *CSRWriter) MapLabels(f func(float64) float64) error {
	lib.Lock()
	defer lib.Unlock()
	buf := make([]float64, 0, csrChunkElements)
	for off := int64(0); off < w.rows; off += csrChunkElements {
		n := min(csrChunkElements, w.rows-off)
		buf = buf[:n]
		if C.readSlab(C.hid_t(w.labels.ID()), C.hsize_t(off), C.hsize_t(n), C.nativeDouble(), unsafe.Pointer(&buf[0])) < 0 {
			return fmt.Errorf("hdf5 %s: read /labels", w.path)
		}
		for i, y := range buf {
			buf[i] = f(y)
		}
		if err := appendSlab(w.labels, off, buf); err != nil {
			return fmt.Errorf("hdf5 %s: write /labels: %w", w.path, err)
		}
	}
	return nil
}

// Close writes the shape [rows, d] and the root attributes, and closes the
// file. On error the file is left incomplete; the caller removes it.
func (w *CSRWriter) Close(d int, attrs []Attr) error {
	lib.Lock()
	defer lib.Unlock()
	err := w.finish(d, attrs)
	if cerr := w.closeAll(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("hdf5 %s: %w", w.path, err)
	}
	return nil
}

func (w *CSRWriter) finish(d int, attrs []Attr) error {
	for _, a := range []Attr{{"encoding-type", CSREncodingType}, {"encoding-version", CSREncodingVer}} {
		if err := writeAttr(w.group, a.Name, a.Value); err != nil {
			return err
		}
	}
	shape := [2]C.longlong{C.longlong(w.rows), C.longlong(d)}
	cname := C.CString("shape")
	defer C.free(unsafe.Pointer(cname))
	if C.writeAttrInt64s(C.hid_t(w.group.ID()), cname, &shape[0], 2) < 0 {
		return errors.New("attribute shape: write failed")
	}
	root, err := w.file.OpenGroup("/")
	if err != nil {
		return err
	}
	defer root.Close()
	if err := writeAttr(root, "efmpi_format", CSRFormat); err != nil {
		return err
	}
	for _, a := range attrs {
		if err := writeAttr(root, a.Name, a.Value); err != nil {
			return err
		}
	}
	return nil
}

// Abort closes and removes the incomplete file.
func (w *CSRWriter) Abort() {
	lib.Lock()
	w.closeAll()
	lib.Unlock()
	os.Remove(w.path)
}

func (w *CSRWriter) closeAll() error {
	var errs []error
	for _, ds := range []*hdf5.Dataset{w.data, w.indices, w.indptr, w.labels} {
		if ds != nil {
			errs = append(errs, ds.Close())
		}
	}
	w.data, w.indices, w.indptr, w.labels = nil, nil, nil, nil
	if w.group != nil {
		errs = append(errs, w.group.Close())
		w.group = nil
	}
	if w.file != nil {
		errs = append(errs, w.file.Close())
		w.file = nil
	}
	return errors.Join(errs...)
}

// ReadCounts counts the array elements a CSRFile has read, per array: the
// evidence that a rank reads only its rows.
type ReadCounts struct {
	Indptr, Indices, Data, Labels int64
}

// CSRFile is an open sparse input file (see CSRFormat for the layout). Its
// methods are not safe for concurrent use.
type CSRFile struct {
	Path string
	// M and D are the shape; NNZ the number of stored entries.
	M, D int
	NNZ  int64
	// Attrs holds the root attributes (provenance).
	Attrs map[string]any
	// Read counts the elements read so far.
	Read ReadCounts

	file                          *hdf5.File
	data, indices, indptr, labels C.hid_t
}

// InvalidCSRError reports a file that does not hold a valid labelled CSR
// matrix, naming the file and the dataset (or attribute).
type InvalidCSRError struct {
	Path, Dataset, Msg string
}

// Error formats the error as "hdf5 FILE DATASET: MSG".
func (e *InvalidCSRError) Error() string {
	return fmt.Sprintf("hdf5 %s %s: %s", e.Path, e.Dataset, e.Msg)
}

func (f *CSRFile) invalid(dataset, format string, args ...any) error {
	return &InvalidCSRError{Path: f.Path, Dataset: dataset, Msg: fmt.Sprintf(format, args...)}
}

// OpenCSR opens a sparse input file and checks its structure: the group and
// its attributes, the four arrays, their types and lengths against shape,
// indptr[0] = 0 and indptr[m] = nnz. Row contents are checked as they are
// read (ReadRows, Labels).
func OpenCSR(path string) (*CSRFile, error) {
	lib.Lock()
	defer lib.Unlock()
	if !hdf5.IsHDF5(path) {
		return nil, fmt.Errorf("hdf5 %s: not an HDF5 file (or missing)", path)
	}
	h, err := hdf5.OpenFile(path, hdf5.F_ACC_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("hdf5 %s: open: %w", path, err)
	}
	f := &CSRFile{Path: path, file: h, data: -1, indices: -1, indptr: -1, labels: -1}
	if err := f.open(); err != nil {
		f.closeAll()
		return nil, err
	}
	return f, nil
}

func (f *CSRFile) open() error {
	root, err := f.file.OpenGroup("/")
	if err != nil {
		return fmt.Errorf("hdf5 %s: %w", f.Path, err)
	}
	f.Attrs, err = readAttrs(root)
	root.Close()
	if err != nil {
		return fmt.Errorf("hdf5 %s: root attributes: %w", f.Path, err)
	}
	grp := "/" + CSRGroup
	if !f.file.LinkExists(CSRGroup) {
		return f.invalid(grp, "missing group (want a CSR matrix group with data, indices, indptr)")
	}
	g, err := f.file.OpenGroup(CSRGroup)
	if err != nil {
		return f.invalid(grp, "%v", err)
	}
	defer g.Close()
	if et, err := stringAttr(g, "encoding-type"); err != nil || et != CSREncodingType {
		return f.invalid(grp, "attribute encoding-type = %q, want %q (%v)", et, CSREncodingType, err)
	}
	var shape [2]C.longlong
	cname := C.CString("shape")
	defer C.free(unsafe.Pointer(cname))
	if !attrExists(g, "shape") || C.attrInt64s(C.hid_t(g.ID()), cname, &shape[0], 2) < 0 {
		return f.invalid(grp, "missing or malformed attribute shape (want two integers [m, d])")
	}
	if shape[0] < 1 || shape[1] < 1 || shape[1] > math.MaxInt32 {
		return f.invalid(grp, "shape [%d, %d]: need m ≥ 1 and 1 ≤ d ≤ 2³¹−1", shape[0], shape[1])
	}
	f.M, f.D = int(shape[0]), int(shape[1])
	open := func(name string, intOnly bool) (C.hid_t, int64, error) {
		if !f.file.LinkExists(name) {
			return -1, 0, f.invalid("/"+name, "missing dataset")
		}
		cname := C.CString(name)
		ds := C.openDataset(C.hid_t(f.file.ID()), cname)
		C.free(unsafe.Pointer(cname))
		if ds < 0 {
			return -1, 0, f.invalid("/"+name, "not a dataset")
		}
		switch c := C.typeClass(ds); {
		case c == C.H5T_INTEGER:
		case c == C.H5T_FLOAT && !intOnly:
		default:
			C.H5Dclose(ds)
			want := "numbers"
			if intOnly {
				want = "integers"
			}
			return -1, 0, f.invalid("/"+name, "wrong element type (want %s)", want)
		}
		n := C.extent1d(ds)
		if n < 0 {
			C.H5Dclose(ds)
			return -1, 0, f.invalid("/"+name, "not a 1-D array")
		}
		return ds, int64(n), nil
	}
	var nData, nIdx, nPtr, nLab int64
	if f.data, nData, err = open(CSRGroup+"/data", false); err != nil {
		return err
	}
	if f.indices, nIdx, err = open(CSRGroup+"/indices", true); err != nil {
		return err
	}
	if f.indptr, nPtr, err = open(CSRGroup+"/indptr", true); err != nil {
		return err
	}
	if f.labels, nLab, err = open("labels", false); err != nil {
		return err
	}
	switch {
	case nPtr != int64(f.M)+1:
		return f.invalid("/X/indptr", "%d elements, but shape [%d, %d] needs m+1 = %d", nPtr, f.M, f.D, f.M+1)
	case nLab != int64(f.M):
		return f.invalid("/labels", "%d elements, but shape [%d, %d] needs m = %d", nLab, f.M, f.D, f.M)
	case nIdx != nData:
		return f.invalid("/X/indices", "%d elements, /X/data has %d", nIdx, nData)
	}
	f.NNZ = nData
	ends := make([]int64, 2)
	if err := f.readInt64(f.indptr, "/X/indptr", 0, ends[:1]); err != nil {
		return err
	}
	if err := f.readInt64(f.indptr, "/X/indptr", int64(f.M), ends[1:]); err != nil {
		return err
	}
	f.Read.Indptr += 2
	if ends[0] != 0 {
		return f.invalid("/X/indptr", "indptr[0] = %d, want 0: inconsistent indptr", ends[0])
	}
	if ends[1] != f.NNZ {
		return f.invalid("/X/indptr", "indptr[m] = indptr[%d] = %d, but /X/data has %d elements: inconsistent indptr", f.M, ends[1], f.NNZ)
	}
	return nil
}

// Close closes the file.
func (f *CSRFile) Close() error {
	lib.Lock()
	defer lib.Unlock()
	return f.closeAll()
}

func (f *CSRFile) closeAll() error {
	var errs []error
	for _, ds := range []C.hid_t{f.data, f.indices, f.indptr, f.labels} {
		if ds > 0 && C.H5Dclose(ds) < 0 {
			errs = append(errs, errors.New("H5Dclose failed"))
		}
	}
	f.data, f.indices, f.indptr, f.labels = -1, -1, -1, -1
	if f.file != nil {
		errs = append(errs, f.file.Close())
		f.file = nil
	}
	return errors.Join(errs...)
}

func (f *CSRFile) readInt64(ds C.hid_t, name string, off int64, dst []int64) error {
	if len(dst) == 0 {
		return nil
	}
	if C.readSlab(ds, C.hsize_t(off), C.hsize_t(len(dst)), C.nativeInt64(), unsafe.Pointer(&dst[0])) < 0 {
		return fmt.Errorf("hdf5 %s %s: read of %d elements at %d failed", f.Path, name, len(dst), off)
	}
	return nil
}

func (f *CSRFile) readInt32(ds C.hid_t, name string, off int64, dst []int32) error {
	if len(dst) == 0 {
		return nil
	}
	if C.readSlab(ds, C.hsize_t(off), C.hsize_t(len(dst)), C.nativeInt32(), unsafe.Pointer(&dst[0])) < 0 {
		return fmt.Errorf("hdf5 %s %s: read of %d elements at %d failed (values must fit in int32)", f.Path, name, len(dst), off)
	}
	return nil
}

func (f *CSRFile) readFloat64(ds C.hid_t, name string, off int64, dst []float64) error {
	if len(dst) == 0 {
		return nil
	}
	if C.readSlab(ds, C.hsize_t(off), C.hsize_t(len(dst)), C.nativeDouble(), unsafe.Pointer(&dst[0])) < 0 {
		return fmt.Errorf("hdf5 %s %s: read of %d elements at %d failed", f.Path, name, len(dst), off)
	}
	return nil
}

// Labels reads every label and checks that each is −1 or +1 and that both
// occur (O(m): what shuffling and splitting by label need).
func (f *CSRFile) Labels() ([]float64, error) {
	lib.Lock()
	defer lib.Unlock()
	y := make([]float64, f.M)
	if err := f.readFloat64(f.labels, "/labels", 0, y); err != nil {
		return nil, err
	}
	f.Read.Labels += int64(f.M)
	var seen [2]bool
	for j, v := range y {
		switch v {
		case -1:
			seen[0] = true
		case 1:
			seen[1] = true
		default:
			return nil, f.invalid("/labels", "labels[%d] = %v: labels must be −1 or +1 (convert with efmpi data convert)", j, v)
		}
	}
	if !seen[0] || !seen[1] {
		return nil, f.invalid("/labels", "every label is %v: need both −1 and +1", y[0])
	}
	return y, nil
}

// Rows is a set of rows read by ReadRows, in CSR form.
type Rows struct {
	RowPtr []int
	ColIdx []int32
	Val    []float64
}

// maxRuns is the number of separate runs of rows above which ReadRows reads
// the whole of indptr at once (O(m), like the labels) rather than a slab per
// run.
const maxRuns = 1024

// ReadRows reads the given rows (0 ≤ row < M, each at most once), in that
// order, checking them: indptr non-decreasing within [0, nnz], column indices
// within [0, D) and strictly increasing within a row. It reads the indptr
// entries of those rows (run by run of consecutive rows, or the whole of
// indptr when there are more than a thousand runs) and then only their
// entries of indices and data.
func (f *CSRFile) ReadRows(rows []int) (*Rows, error) {
	lib.Lock()
	defer lib.Unlock()
	for _, j := range rows {
		if j < 0 || j >= f.M {
			return nil, fmt.Errorf("hdf5 %s: row %d outside [0, %d)", f.Path, j, f.M)
		}
	}
	sorted := slices.Clone(rows)
	slices.Sort(sorted)
	type run struct{ lo, hi int } // rows [lo, hi)
	var runs []run
	for _, j := range sorted {
		if n := len(runs); n > 0 && runs[n-1].hi == j {
			runs[n-1].hi++
		} else if n > 0 && runs[n-1].hi > j {
			return nil, fmt.Errorf("hdf5 %s: row %d asked for twice", f.Path, j)
		} else {
			runs = append(runs, run{j, j + 1})
		}
	}
	// indptr of every run: starts[i] and the row lengths.
	var whole []int64
	if len(runs) > maxRuns {
		whole = make([]int64, f.M+1)
		if err := f.readInt64(f.indptr, "/X/indptr", 0, whole); err != nil {
			return nil, err
		}
		f.Read.Indptr += int64(f.M + 1)
	}
	out := &Rows{RowPtr: make([]int, 1, len(rows)+1)}
	var ptr []int64
	total := 0
	type span struct{ from, n int64 }
	spans := make([]span, len(runs))
	for i, rn := range runs {
		if whole != nil {
			ptr = whole[rn.lo : rn.hi+1]
		} else {
			ptr = slices.Grow(ptr[:0], rn.hi-rn.lo+1)[:rn.hi-rn.lo+1]
			if err := f.readInt64(f.indptr, "/X/indptr", int64(rn.lo), ptr); err != nil {
				return nil, err
			}
			f.Read.Indptr += int64(len(ptr))
		}
		for k := 1; k < len(ptr); k++ {
			if ptr[k] < ptr[k-1] || ptr[k] > f.NNZ || ptr[k-1] < 0 {
				return nil, f.invalid("/X/indptr", "indptr[%d] = %d, indptr[%d] = %d (nnz %d): inconsistent indptr (row pointers must be non-decreasing within [0, nnz])",
					rn.lo+k-1, ptr[k-1], rn.lo+k, ptr[k], f.NNZ)
			}
			total += int(ptr[k] - ptr[k-1])
			out.RowPtr = append(out.RowPtr, total)
		}
		spans[i] = span{ptr[0], ptr[len(ptr)-1] - ptr[0]}
	}
	out.ColIdx = make([]int32, total)
	out.Val = make([]float64, total)
	at := 0
	for _, s := range spans {
		n := int(s.n)
		if err := f.readInt32(f.indices, "/X/indices", s.from, out.ColIdx[at:at+n]); err != nil {
			return nil, err
		}
		if err := f.readFloat64(f.data, "/X/data", s.from, out.Val[at:at+n]); err != nil {
			return nil, err
		}
		at += n
	}
	f.Read.Indices += int64(total)
	f.Read.Data += int64(total)
	// Check the rows (in sorted order, so errors name the file's row): one
	// comparison per entry on the fast path, the message from checkRow.
	for k, j := range sorted {
		idx := out.ColIdx[out.RowPtr[k]:out.RowPtr[k+1]]
		if len(idx) == 0 {
			continue
		}
		bad := idx[0] < 0 || int(idx[len(idx)-1]) >= f.D
		for t := 1; t < len(idx) && !bad; t++ {
			bad = idx[t] <= idx[t-1]
		}
		if bad {
			return nil, f.checkRow(j, idx)
		}
	}
	if !allFinite(out.Val) {
		for i, v := range out.Val {
			if d := v - v; d != d { // NaN or ±Inf
				k, _ := slices.BinarySearch(out.RowPtr, i+1)
				return nil, f.invalid("/X/data", "row %d has a non-finite value %v", sorted[k-1], v)
			}
		}
	}
	if slices.Equal(sorted, rows) {
		return out, nil
	}
	// Put the rows in the order asked for.
	re := &Rows{RowPtr: make([]int, 1, len(rows)+1), ColIdx: make([]int32, 0, total), Val: make([]float64, 0, total)}
	for _, j := range rows {
		k, _ := slices.BinarySearch(sorted, j)
		lo, hi := out.RowPtr[k], out.RowPtr[k+1]
		re.ColIdx = append(re.ColIdx, out.ColIdx[lo:hi]...)
		re.Val = append(re.Val, out.Val[lo:hi]...)
		re.RowPtr = append(re.RowPtr, len(re.Val))
	}
	return re, nil
}

// checkRow describes what is wrong with the columns idx of row j.
func (f *CSRFile) checkRow(j int, idx []int32) error {
	for t, c := range idx {
		if c < 0 || int(c) >= f.D {
			return f.invalid("/X/indices", "row %d has column %d outside [0, %d)", j, c, f.D)
		}
		if t > 0 && c <= idx[t-1] {
			return f.invalid("/X/indices", "row %d: column %d after %d: indices must be strictly increasing within a row", j, c, idx[t-1])
		}
	}
	return nil
}

// allFinite reports whether no value is NaN or ±Inf: v·0 is 0 for finite v
// and NaN otherwise, summed in four independent chains.
func allFinite(v []float64) bool {
	var a0, a1, a2, a3 float64
	i := 0
	for ; i+4 <= len(v); i += 4 {
		a0 += v[i] * 0
		a1 += v[i+1] * 0
		a2 += v[i+2] * 0
		a3 += v[i+3] * 0
	}
	for ; i < len(v); i++ {
		a0 += v[i] * 0
	}
	s := a0 + a1 + a2 + a3
	return s == s
}

// stringAttr reads a string attribute of h.
func stringAttr(h attrHolder, name string) (string, error) {
	if !attrExists(h, name) {
		return "", errors.New("missing")
	}
	a, err := h.OpenAttribute(name)
	if err != nil {
		return "", err
	}
	defer a.Close()
	tid := C.H5Aget_type(C.hid_t(a.ID()))
	class := C.H5Tget_class(tid)
	C.H5Tclose(tid)
	if class != C.H5T_STRING {
		return "", errors.New("not a string")
	}
	var s string
	err = a.Read(&s, hdf5.T_GO_STRING)
	return s, err
}
