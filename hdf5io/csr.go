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
// // writeSlab writes count elements of memory type mtype from buf at offset
// // of the 1-D dataset ds.
// static herr_t writeSlab(hid_t ds, hsize_t offset, hsize_t count, hid_t mtype, const void *buf) {
//     hid_t fs = H5Dget_space(ds);
//     if (fs < 0) return -1;
//     herr_t rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, &offset, NULL, &count, NULL);
//     hid_t ms = H5Screate_simple(1, &count, NULL);
//     if (rc >= 0 && ms >= 0) rc = H5Dwrite(ds, mtype, ms, fs, H5P_DEFAULT, buf);
//     else rc = -1;
//     if (ms >= 0) H5Sclose(ms);
//     H5Sclose(fs);
//     return rc;
// }
//
// // createContiguous creates the 1-D dataset name of n elements of file type
// // ftype in loc, stored contiguously (no chunks, no filters, so a hyperslab
// // is one read of the file) and never filled (every element is written).
// static hid_t createContiguous(hid_t loc, const char *name, hid_t ftype, hsize_t n) {
//     hid_t sp = H5Screate_simple(1, &n, NULL);
//     if (sp < 0) return -1;
//     hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
//     hid_t ds = -1;
//     if (dcpl >= 0 && H5Pset_layout(dcpl, H5D_CONTIGUOUS) >= 0 &&
//         H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0 &&
//         H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) >= 0) {
//         ds = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
//     }
//     if (dcpl >= 0) H5Pclose(dcpl);
//     H5Sclose(sp);
//     return ds;
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
// // openDataset opens a dataset with the default access properties (for a
// // chunked file of format efmpi-csr-1 the default 1 MiB chunk cache holds a
// // whole 64 Ki-element chunk; disabling it was measured 2–4× slower).
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
import "C"

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"unsafe"

	"gonum.org/v1/hdf5"
)

// The sparse input format. A file holds one labelled CSR matrix in the layout
// anndata uses for a csr_matrix element, so scipy/anndata users read it as is:
//
//	/X                group, attributes encoding-type = "csr_matrix",
//	                  encoding-version = "0.1.0", shape = [m, d] (int64)
//	/X/data           [nnz]   the values
//	/X/indices        [nnz]   0-based columns, strictly increasing per row
//	/X/indptr         [m+1]   row r is data[indptr[r]:indptr[r+1]]
//	/labels           [m]     ±1 (after the label rule)
//
// The writer (format efmpi-csr-2) stores each array contiguously (no
// chunks, no filters: a rank's rows are one read per array) in the
// narrowest type that holds every element exactly, with floating-point
// values kept floating point: data float32 when every value is a float32
// (a9a's 1s; not int8, in which scipy's own arithmetic, X.T @ X, would
// silently overflow), else float64; labels float32 (±1) or float64;
// indices int8, int16 or int32, the narrowest holding d−1 (and every column
// written); indptr int32, or int64 from nnz ≥ 2³¹. Files of format
// efmpi-csr-1 (chunked, extendable float64/int32/int64/float64 arrays)
// read as before.
//
// Root attributes record provenance: efmpi_format (CSRFormat), source (the
// converted file's name), source_sha256, label_negative and label_positive
// (the raw labels mapped to −1 and +1), label_rule. Readers accept any integer
// type for indices and indptr and any numeric type for data and labels, so
// files written by h5py from scipy arrays work too: native integer and
// floating-point types are read as stored and widened by efmpi, others are
// converted by the library.
const (
	CSRFormat       = "efmpi-csr-2"
	CSRGroup        = "X"
	CSREncodingType = "csr_matrix"
	CSREncodingVer  = "0.1.0"
	// csrBlock is the number of elements the writer copies at a time.
	csrBlock = 1 << 16
	// csrPiece is the number of entries ReadRows reads and checks at a
	// time (768 KiB of indices and values, which stay in cache).
	csrPiece = 1 << 16
)

// Go's int must be 64 bits: row pointers are read straight into []int.
var _ [unsafe.Sizeof(int(0)) - 8]byte

// CSRWriter streams a labelled CSR matrix into a new file. Rows are appended
// in blocks to four staging files beside the output (memory O(one block));
// Close creates the contiguous arrays, of the sizes and narrowest types now
// known, copies the staged arrays into them a block at a time and removes
// the staging files.
type CSRWriter struct {
	path  string
	file  *hdf5.File
	group *hdf5.Group
	// The staged arrays, native byte order: data float64, indices int32,
	// indptr int64 (entries 1…m; entry 0 is 0), labels float64.
	data, indices, indptr, labels *stage
	rows, nnz                     int64
	// What Close needs to choose the types: whether data and labels hold
	// only float32 values, and the range of the column indices.
	dataExact, labelExact exactness
	minCol, maxCol        int64
	ptrBuf                []int64
}

// stage is one array staged in a temporary file.
type stage struct {
	f *os.File
	w *bufio.Writer
}

// CreateCSR creates the file at path (refusing an existing one with ErrExists
// unless overwrite is set) and the staging files beside it.
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
	for _, s := range []**stage{&w.data, &w.indices, &w.indptr, &w.labels} {
		f, err := os.CreateTemp(filepath.Dir(w.path), "."+filepath.Base(w.path)+".staging-*")
		if err != nil {
			return fmt.Errorf("staging file: %w", err)
		}
		*s = &stage{f: f, w: bufio.NewWriterSize(f, 1<<18)}
	}
	return nil
}

// put appends v to s.
func put[T elem](s *stage, v []T) error {
	if len(v) == 0 {
		return nil
	}
	_, err := s.w.Write(unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*int(unsafe.Sizeof(v[0]))))
	return err
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
	w.ptrBuf = w.ptrBuf[:0]
	for _, p := range rowPtr[1:] {
		w.ptrBuf = append(w.ptrBuf, w.nnz+int64(p))
	}
	for _, c := range colIdx {
		w.minCol = min(w.minCol, int64(c))
		w.maxCol = max(w.maxCol, int64(c))
	}
	w.dataExact.add(val)
	w.labelExact.add(labels)
	for _, e := range []error{put(w.data, val), put(w.indices, colIdx), put(w.indptr, w.ptrBuf), put(w.labels, labels)} {
		if e != nil {
			return fmt.Errorf("hdf5 %s: append: staging: %w", w.path, e)
		}
	}
	w.rows += int64(n)
	w.nnz += int64(len(val))
	return nil
}

// MapLabels rewrites every label y already written as f(y), a block at a
// time (used to apply the ±1 rule once both raw labels are known).
func (w *CSRWriter) MapLabels(f func(float64) float64) error {
	s := w.labels
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("hdf5 %s: staging labels: %w", w.path, err)
	}
	buf := make([]float64, csrBlock)
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), 8*len(buf))
	w.labelExact = exactness{}
	for off := int64(0); off < w.rows; off += csrBlock {
		n := int(min(csrBlock, w.rows-off))
		if _, err := s.f.ReadAt(raw[:8*n], 8*off); err != nil {
			return fmt.Errorf("hdf5 %s: staging labels: %w", w.path, err)
		}
		for i, y := range buf[:n] {
			buf[i] = f(y)
		}
		w.labelExact.add(buf[:n])
		if _, err := s.f.WriteAt(raw[:8*n], 8*off); err != nil {
			return fmt.Errorf("hdf5 %s: staging labels: %w", w.path, err)
		}
	}
	return nil
}

// Close writes the arrays, the shape [rows, d] and the root attributes, and
// closes the file. On error the file is left incomplete; the caller removes
// it. The staging files are removed in every case.
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

// Kinds are the element types Close stores, and the copies: each array is
// created at its final size and filled from its staging file a block at a
// time, converted to the stored type (exactly: the types were chosen so).
func (w *CSRWriter) finish(d int, attrs []Attr) error {
	for _, s := range []*stage{w.data, w.indices, w.indptr, w.labels} {
		if err := s.w.Flush(); err != nil {
			return fmt.Errorf("staging: %w", err)
		}
	}
	colKind := intKind(w.minCol, max(w.maxCol, int64(d)-1))
	ptrKind := max(intKind(0, w.nnz), kindInt32) // O(m): not worth narrower
	if err := copyStaged[float64](w.group, "data", w.dataExact.kind(), w.data, 0, w.nnz); err != nil {
		return err
	}
	if err := copyStaged[int32](w.group, "indices", colKind, w.indices, 0, w.nnz); err != nil {
		return err
	}
	if err := copyStaged[int64](w.group, "indptr", ptrKind, w.indptr, 1, w.rows); err != nil {
		return err
	}
	if err := copyStaged[float64](w.file, "labels", w.labelExact.kind(), w.labels, 0, w.rows); err != nil {
		return err
	}
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

// copyStaged creates the dataset name in loc of lead+n elements of kind k
// and fills elements lead… with the n elements of T staged in s; the lead
// elements (indptr[0]) are 0.
func copyStaged[T elem](loc interface{ ID() int64 }, name string, k kind, s *stage, lead, n int64) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	ds := C.createContiguous(C.hid_t(loc.ID()), cname, k.fileType(), C.hsize_t(lead+n))
	if ds < 0 {
		return fmt.Errorf("dataset %s: create failed", name)
	}
	defer C.H5Dclose(ds)
	src := make([]T, max(1, min(csrBlock, max(n, lead))))
	out := make([]byte, len(src)*k.size())
	if lead > 0 {
		clear(src[:lead])
		narrow(out, k, src[:lead])
		if C.writeSlab(ds, 0, C.hsize_t(lead), k.native(), unsafe.Pointer(&out[0])) < 0 {
			return fmt.Errorf("dataset %s: write failed", name)
		}
	}
	size := int64(unsafe.Sizeof(src[0]))
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&src[0])), len(src)*int(size))
	for off := int64(0); off < n; off += int64(len(src)) {
		m := min(int64(len(src)), n-off)
		if _, err := io.ReadFull(io.NewSectionReader(s.f, off*size, m*size), raw[:m*size]); err != nil {
			return fmt.Errorf("dataset %s: staging file: %w", name, err)
		}
		narrow(out, k, src[:m])
		if C.writeSlab(ds, C.hsize_t(lead+off), C.hsize_t(m), k.native(), unsafe.Pointer(&out[0])) < 0 {
			return fmt.Errorf("dataset %s: write failed", name)
		}
	}
	return nil
}

// narrow stores src as kind k (which holds every value) in out.
func narrow[T elem](out []byte, k kind, src []T) {
	p := unsafe.Pointer(&out[0])
	n := len(src)
	switch k {
	case kindInt8:
		convert(unsafe.Slice((*int8)(p), n), src)
	case kindInt16:
		convert(unsafe.Slice((*int16)(p), n), src)
	case kindInt32:
		convert(unsafe.Slice((*int32)(p), n), src)
	case kindInt64:
		convert(unsafe.Slice((*int64)(p), n), src)
	case kindFloat32:
		convert(unsafe.Slice((*float32)(p), n), src)
	case kindFloat64:
		convert(unsafe.Slice((*float64)(p), n), src)
	default:
		panic("hdf5io: narrow to " + k.String())
	}
}

// Abort closes and removes the incomplete file and the staging files.
func (w *CSRWriter) Abort() {
	lib.Lock()
	w.closeAll()
	lib.Unlock()
	os.Remove(w.path)
}

func (w *CSRWriter) closeAll() error {
	var errs []error
	for _, s := range []**stage{&w.data, &w.indices, &w.indptr, &w.labels} {
		if *s != nil {
			errs = append(errs, (*s).f.Close(), os.Remove((*s).f.Name()))
			*s = nil
		}
	}
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

// ArrayTypes names the stored element type of each array of a CSRFile as
// numpy does ("float32", "int8", …), or "other" for a type (big-endian, say)
// that the library converts.
type ArrayTypes struct {
	Data    string `json:"data"`
	Indices string `json:"indices"`
	Indptr  string `json:"indptr"`
	Labels  string `json:"labels"`
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
	// Types are the arrays' stored element types.
	Types ArrayTypes
	// Read counts the elements read so far.
	Read ReadCounts

	file                          *hdf5.File
	data, indices, indptr, labels csrArray
	// scratch receives stored elements that are widened after the read
	// (from scratchPool, returned by Close).
	scratch *[scratchBytes]byte
}

// csrArray is one open array of a CSRFile.
type csrArray struct {
	id   C.hid_t
	name string // "/X/data", …
	kind kind
}

// scratchBytes is the size of the buffer narrow stored types are read into
// before they are widened: large enough that a read is one system call of
// the size the library reads directly into the buffer (over its 64 KiB sieve
// buffer), small enough to stay in cache for the widening.
const scratchBytes = 1 << 18

var scratchPool = sync.Pool{New: func() any { return new([scratchBytes]byte) }}

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
	h, err := hdf5.OpenFile(path, hdf5.F_ACC_RDONLY)
	if err != nil {
		if !hdf5.IsHDF5(path) {
			return nil, fmt.Errorf("hdf5 %s: not an HDF5 file (or missing)", path)
		}
		return nil, fmt.Errorf("hdf5 %s: open: %w", path, err)
	}
	f := &CSRFile{Path: path, file: h}
	for _, a := range []*csrArray{&f.data, &f.indices, &f.indptr, &f.labels} {
		a.id = -1
	}
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
	open := func(a *csrArray, name string, intOnly bool) (int64, error) {
		a.name = "/" + name
		if !f.file.LinkExists(name) {
			return 0, f.invalid(a.name, "missing dataset")
		}
		cname := C.CString(name)
		ds := C.openDataset(C.hid_t(f.file.ID()), cname)
		C.free(unsafe.Pointer(cname))
		if ds < 0 {
			return 0, f.invalid(a.name, "not a dataset")
		}
		a.id = ds
		switch c := C.typeClass(ds); {
		case c == C.H5T_INTEGER:
		case c == C.H5T_FLOAT && !intOnly:
		default:
			want := "numbers"
			if intOnly {
				want = "integers"
			}
			return 0, f.invalid(a.name, "wrong element type (want %s)", want)
		}
		var ok bool
		if a.kind, ok = datasetKind(ds); !ok {
			return 0, f.invalid(a.name, "unreadable element type")
		}
		n := C.extent1d(ds)
		if n < 0 {
			return 0, f.invalid(a.name, "not a 1-D array")
		}
		return int64(n), nil
	}
	var nData, nIdx, nPtr, nLab int64
	if nData, err = open(&f.data, CSRGroup+"/data", false); err != nil {
		return err
	}
	if nIdx, err = open(&f.indices, CSRGroup+"/indices", true); err != nil {
		return err
	}
	if nPtr, err = open(&f.indptr, CSRGroup+"/indptr", true); err != nil {
		return err
	}
	if nLab, err = open(&f.labels, "labels", false); err != nil {
		return err
	}
	f.Types = ArrayTypes{f.data.kind.String(), f.indices.kind.String(), f.indptr.kind.String(), f.labels.kind.String()}
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
	if _, err := read(f, &f.indptr, 0, ends[:1]); err != nil {
		return err
	}
	if _, err := read(f, &f.indptr, int64(f.M), ends[1:]); err != nil {
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
	for _, a := range []*csrArray{&f.data, &f.indices, &f.indptr, &f.labels} {
		if a.id >= 0 && C.H5Dclose(a.id) < 0 {
			errs = append(errs, errors.New("H5Dclose failed"))
		}
		a.id = -1
	}
	if f.file != nil {
		errs = append(errs, f.file.Close())
		f.file = nil
	}
	if f.scratch != nil {
		scratchPool.Put(f.scratch)
		f.scratch = nil
	}
	return errors.Join(errs...)
}

// read reads len(dst) elements of a from offset off into dst: straight into
// dst when the array stores T, through the scratch buffer and widened here
// when it stores a narrower native type, else converted by the library. It
// reports whether the values are known to be finite (widened integers and
// checked float32; nothing is known of the others).
func read[T elem](f *CSRFile, a *csrArray, off int64, dst []T) (finite bool, err error) {
	if len(dst) == 0 {
		return true, nil
	}
	want := kindOf[T]()
	if a.kind == want || !widens[T](a.kind) {
		if C.readSlab(a.id, C.hsize_t(off), C.hsize_t(len(dst)), want.native(), unsafe.Pointer(&dst[0])) < 0 {
			return false, f.readError(a, want, off, len(dst))
		}
		return false, nil
	}
	if f.scratch == nil {
		f.scratch = scratchPool.Get().(*[scratchBytes]byte)
	}
	per := scratchBytes / a.kind.size()
	p := unsafe.Pointer(f.scratch)
	finite = true
	for done := 0; done < len(dst); done += per {
		n := min(per, len(dst)-done)
		if C.readSlab(a.id, C.hsize_t(off+int64(done)), C.hsize_t(n), a.kind.native(), p) < 0 {
			return false, f.readError(a, want, off+int64(done), n)
		}
		finite = widen(dst[done:done+n], a.kind, p) && finite
	}
	return finite, nil
}

func (f *CSRFile) readError(a *csrArray, want kind, off int64, n int) error {
	note := ""
	if want == kindInt32 {
		note = " (values must fit in int32)"
	}
	return fmt.Errorf("hdf5 %s %s: read of %d elements at %d failed%s", f.Path, a.name, n, off, note)
}

// Labels reads every label and checks that each is −1 or +1 and that both
// occur (O(m): what shuffling and splitting by label need).
func (f *CSRFile) Labels() ([]float64, error) {
	lib.Lock()
	defer lib.Unlock()
	y := make([]float64, f.M)
	if _, err := read(f, &f.labels, 0, y); err != nil {
		return nil, err
	}
	f.Read.Labels += int64(f.M)
	// Count the −1s and the +1s; look for the culprit only when they do not
	// add up to m.
	neg, pos := signs(y)
	if neg+pos != len(y) {
		for j, v := range y {
			if v != -1 && v != 1 {
				return nil, f.invalid("/labels", "labels[%d] = %v: labels must be −1 or +1 (convert with efmpi data convert)", j, v)
			}
		}
	}
	if neg == 0 || pos == 0 {
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
// within [0, D) and strictly increasing within a row, values finite. It reads
// the indptr entries of those rows (run by run of consecutive rows, or the
// whole of indptr when there are more than a thousand runs) and then only
// their entries of indices and data, one hyperslab per run and array (in
// pieces of csrPiece entries), into the arrays it returns.
func (f *CSRFile) ReadRows(rows []int) (*Rows, error) {
	lib.Lock()
	defer lib.Unlock()
	runs, increasing, err := f.runsOf(rows)
	if err != nil {
		return nil, err
	}
	if increasing {
		return f.readRuns(runs, len(rows), fileRows{sorted: rows})
	}
	sorted := slices.Clone(rows)
	slices.Sort(sorted)
	if runs, increasing, err = f.runsOf(sorted); err != nil {
		return nil, err
	}
	if !increasing {
		for i := 1; i < len(sorted); i++ {
			if sorted[i] == sorted[i-1] {
				return nil, fmt.Errorf("hdf5 %s: row %d asked for twice", f.Path, sorted[i])
			}
		}
	}
	out, err := f.readRuns(runs, len(rows), fileRows{sorted: sorted})
	if err != nil {
		return nil, err
	}
	// Put the rows in the order asked for.
	total := len(out.Val)
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

// ReadRange reads rows lo…hi−1, as ReadRows does (one run).
func (f *CSRFile) ReadRange(lo, hi int) (*Rows, error) {
	lib.Lock()
	defer lib.Unlock()
	if lo < 0 || hi > f.M || lo > hi {
		return nil, fmt.Errorf("hdf5 %s: rows [%d, %d) outside [0, %d)", f.Path, lo, hi, f.M)
	}
	var runs []rowRun
	if lo < hi {
		runs = []rowRun{{lo, hi}}
	}
	return f.readRuns(runs, hi-lo, fileRows{lo: lo})
}

// rowRun is rows [lo, hi) of the file.
type rowRun struct{ lo, hi int }

// runsOf splits rows into runs of consecutive rows while they increase. At
// the first row that does not exceed the one before it reports false (and
// no runs); a row outside [0, M) is an error.
func (f *CSRFile) runsOf(rows []int) ([]rowRun, bool, error) {
	if len(rows) == 0 {
		return nil, true, nil
	}
	var runs []rowRun
	lo, hi := rows[0], rows[0] // the current run
	for _, j := range rows {
		switch {
		case uint(j) >= uint(f.M):
			return nil, false, fmt.Errorf("hdf5 %s: row %d outside [0, %d)", f.Path, j, f.M)
		case j == hi:
			hi++
		case j < hi:
			return nil, false, nil
		default:
			runs = append(runs, rowRun{lo, hi})
			lo, hi = j, j+1
		}
	}
	return append(runs, rowRun{lo, hi}), true, nil
}

// fileRows numbers the rows being read, for error messages: the k-th is
// row sorted[k] of the file, or lo+k when sorted is nil.
type fileRows struct {
	sorted []int
	lo     int
}

func (r fileRows) at(k int) int {
	if r.sorted != nil {
		return r.sorted[k]
	}
	return r.lo + k
}

// readRuns reads the n rows of runs (increasing, disjoint) into one Rows,
// checking them.
func (f *CSRFile) readRuns(runs []rowRun, n int, rows fileRows) (*Rows, error) {
	var whole []int64
	if len(runs) > maxRuns {
		whole = make([]int64, f.M+1)
		if _, err := read(f, &f.indptr, 0, whole); err != nil {
			return nil, err
		}
		f.Read.Indptr += int64(f.M + 1)
	}
	// Each run's indptr entries land in their place of RowPtr (the first one
	// over the previous run's end, put back after), are checked and rebased
	// in one pass.
	out := &Rows{RowPtr: make([]int, n+1)}
	type span struct{ from, n int64 }
	spans := make([]span, len(runs))
	at := 0
	for i, rn := range runs {
		seg := out.RowPtr[at : at+rn.hi-rn.lo+1]
		base := int64(seg[0])
		ptr := unsafe.Slice((*int64)(unsafe.Pointer(&seg[0])), len(seg))
		if whole != nil {
			copy(ptr, whole[rn.lo:rn.hi+1])
		} else {
			if _, err := read(f, &f.indptr, int64(rn.lo), ptr); err != nil {
				return nil, err
			}
			f.Read.Indptr += int64(len(ptr))
		}
		from := ptr[0]
		prev := from
		for k := 1; k < len(ptr); k++ {
			p := ptr[k]
			if p < prev || p > f.NNZ || prev < 0 {
				return nil, f.invalid("/X/indptr", "indptr[%d] = %d, indptr[%d] = %d (nnz %d): inconsistent indptr (row pointers must be non-decreasing within [0, nnz])",
					rn.lo+k-1, prev, rn.lo+k, p, f.NNZ)
			}
			ptr[k] = p - from + base
			prev = p
		}
		ptr[0] = base
		spans[i] = span{from, prev - from}
		at += rn.hi - rn.lo
	}
	total := out.RowPtr[n]
	out.ColIdx = make([]int32, total)
	out.Val = make([]float64, total)
	// Read each span a piece at a time and check the piece while it is in
	// cache: the rows it completes, then its values. The first non-finite
	// value is reported after the columns of every row are checked (as when
	// all was read first).
	at, checked, nonFinite := 0, 0, -1
	for _, s := range spans {
		for done := int64(0); done < s.n; {
			n := int(min(csrPiece, s.n-done))
			ci, v := out.ColIdx[at:at+n], out.Val[at:at+n]
			if _, err := read(f, &f.indices, s.from+done, ci); err != nil {
				return nil, err
			}
			finite, err := read(f, &f.data, s.from+done, v)
			if err != nil {
				return nil, err
			}
			if nonFinite < 0 && !finite && !allFinite(v) {
				nonFinite = at + slices.IndexFunc(v, func(x float64) bool { return x-x != 0 })
			}
			at += n
			done += int64(n)
			f.Read.Indices += int64(n)
			f.Read.Data += int64(n)
			// The rows complete so far: those whose end is at most at.
			upto, _ := slices.BinarySearch(out.RowPtr[checked+1:], at+1)
			upto += checked
			if err := f.checkRows(out, rows, checked, upto); err != nil {
				return nil, err
			}
			checked = upto
		}
	}
	if nonFinite >= 0 {
		k, _ := slices.BinarySearch(out.RowPtr, nonFinite+1)
		return nil, f.invalid("/X/data", "row %d has a non-finite value %v", rows.at(k-1), out.Val[nonFinite])
	}
	return out, nil
}

// checkRows checks the columns of rows r0…r1−1 of out (rows rows.at(r0)…
// of the file): within [0, D) and strictly increasing within each row. The
// fast path is one pass over the entries without branches, counting the
// places where a column does not exceed the one before it (columnDrops),
// and one over the rows, which takes off the places at the start of a row
// and checks the first and last column of each row against [0, D) (enough
// when every row increases). When that finds a fault, checkRow names it.
func (f *CSRFile) checkRows(out *Rows, rows fileRows, r0, r1 int) error {
	base := out.RowPtr[r0]
	if base == out.RowPtr[r1] {
		return nil
	}
	c := out.ColIdx[base:out.RowPtr[r1]]
	drops := columnDrops(c)
	inRange := true
	a := 0 // the row's entries are c[a:b]
	for _, p := range out.RowPtr[r0+1 : r1+1] {
		b := p - base
		if a < b {
			inRange = inRange && c[a] >= 0 && int(c[b-1]) < f.D
			if a > 0 {
				drops -= drop(c[a-1], c[a])
			}
		}
		a = b
	}
	if inRange && drops == 0 {
		return nil
	}
	for r := r0; r < r1; r++ {
		if err := f.checkRow(rows.at(r), out.ColIdx[out.RowPtr[r]:out.RowPtr[r+1]]); err != nil {
			return err
		}
	}
	return nil
}

// drop is 1 if y ≤ x, else 0 (without a branch; exact for any int32s).
func drop(x, y int32) int { return int(uint64(int64(y)-int64(x)-1) >> 63) }

// checkRow describes what is wrong, if anything, with the columns idx of
// row j.
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
