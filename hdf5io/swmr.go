package hdf5io

// #include <stdlib.h>
// #include "hdf5.h"
//
// // efmpi_create_latest creates (truncating) an empty file whose superblock
// // has the latest format, which SWMR writing requires, and closes it.
// static herr_t efmpi_create_latest(const char *name) {
//   hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
//   if (fapl < 0) return -1;
//   if (H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) < 0) { H5Pclose(fapl); return -1; }
//   hid_t f = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
//   H5Pclose(fapl);
//   if (f < 0) return -1;
//   return H5Fclose(f);
// }
//
// // efmpi_clear_flags clears the "open for (SWMR) writing" marks a writer
// // that died left in the superblock, as `h5clear -s` does (through the file
// // access property h5clear uses), so the file opens normally again.
// static herr_t efmpi_clear_flags(const char *name) {
//   hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
//   if (fapl < 0) return -1;
//   hbool_t clear = 1;
//   if (H5Pset(fapl, "clear_status_flags", &clear) < 0) { H5Pclose(fapl); return -1; }
//   hid_t f = H5Fopen(name, H5F_ACC_RDWR, fapl);
//   H5Pclose(fapl);
//   if (f < 0) return -1;
//   return H5Fclose(f);
// }
import "C"

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"gonum.org/v1/hdf5"
)

// Single writer, multiple readers. A run file is written in HDF5's SWMR mode
// while rows are appended, so that readers can follow a running job without
// HDF5_USE_FILE_LOCKING=FALSE: h5py.File(path, "r", swmr=True), and Open
// (which falls back to SWMR reading when a writer holds the file). SWMR
// allows no new objects or attributes, so the recorder starts it at the
// first flush of rows (after /x0 and /ranks exist) and leaves it — closing
// and reopening the file — before it writes the final attributes, /x_final
// and /timing.

// swmrRead is H5F_ACC_SWMR_READ.
const swmrRead = 0x0040

// clearWriterFlags clears the marks of a writer that died (kill -9, node
// crash) in SWMR mode, so that the file opens for writing again. Only the
// holder of the file's lock may call it (see Resume). Call with lib held.
func clearWriterFlags(path string) {
	cname := C.CString(path)
	defer C.free(unsafe.Pointer(cname))
	C.efmpi_clear_flags(cname)
}

// swmrEnabled is false when EFMPI_SWMR=0: then the file is written as in
// efmpi ≤ 0.1 (a reader of a running job needs HDF5_USE_FILE_LOCKING=FALSE,
// and a file whose writer was killed needs no h5clear).
var swmrEnabled = os.Getenv("EFMPI_SWMR") != "0"

// createLatest creates path (truncating it) as an empty HDF5 file in the
// latest format and opens it for writing.
func createLatest(path string) (*hdf5.File, error) {
	cname := C.CString(path)
	defer C.free(unsafe.Pointer(cname))
	if C.efmpi_create_latest(cname) < 0 {
		return nil, detail(errors.New("H5Fcreate failed"))
	}
	f, err := hdf5.OpenFile(path, hdf5.F_ACC_RDWR)
	if err != nil {
		return nil, detail(err)
	}
	return f, nil
}

// useLatestFormat makes the file use the latest format (required by SWMR,
// and giving checksummed metadata). Call it right after creating the file.
func useLatestFormat(f *hdf5.File) error {
	if C.H5Fset_libver_bounds(C.hid_t(f.ID()), C.H5F_LIBVER_LATEST, C.H5F_LIBVER_LATEST) < 0 {
		return fmt.Errorf("H5Fset_libver_bounds failed")
	}
	return nil
}

// startSWMR switches the recorder's file to SWMR writing (best effort: where
// the library or the file system does not support it, the file is written
// as before and readers need HDF5_USE_FILE_LOCKING=FALSE). Call with lib held.
func (r *Recorder) startSWMR() {
	if r.swmr || r.swmrDone || r.noSWMR || !swmrEnabled {
		return
	}
	if C.H5Fstart_swmr_write(C.hid_t(r.file.ID())) < 0 {
		r.noSWMR = true
		return
	}
	r.swmr = true
}

// endSWMR leaves SWMR writing before a change SWMR does not allow (new
// attributes or datasets): the file is closed and reopened for ordinary
// writing, with the recorder's handles. Call with lib held.
func (r *Recorder) endSWMR() error {
	if !r.swmr {
		return nil
	}
	r.swmr, r.swmrDone = false, true
	for _, ds := range r.cols {
		ds.Close()
	}
	r.cols = r.cols[:0]
	r.root.Close()
	if err := r.file.Close(); err != nil {
		return fmt.Errorf("hdf5 %s: close after SWMR writing: %w", r.path, detail(err))
	}
	f, err := hdf5.OpenFile(r.path, hdf5.F_ACC_RDWR)
	if err != nil {
		return fmt.Errorf("hdf5 %s: reopen after SWMR writing: %w", r.path, detail(err))
	}
	r.file = f
	if r.root, err = f.OpenGroup("/"); err != nil {
		return fmt.Errorf("hdf5 %s: reopen after SWMR writing: %w", r.path, detail(err))
	}
	for _, name := range Columns {
		ds, err := f.OpenDataset("trajectory/" + name)
		if err != nil {
			return fmt.Errorf("hdf5 %s: reopen /trajectory/%s: %w", r.path, name, detail(err))
		}
		r.cols = append(r.cols, ds)
	}
	return nil
}

// openForReading opens a run file read-only; when a writer holds it in SWMR
// mode, as a SWMR reader. swmr reports which.
func openForReading(path string) (f *hdf5.File, swmr bool, err error) {
	f, err = hdf5.OpenFile(path, hdf5.F_ACC_RDONLY)
	if err == nil {
		return f, false, nil
	}
	first := detail(err)
	if f, err = hdf5.OpenFile(path, hdf5.F_ACC_RDONLY|swmrRead); err == nil {
		return f, true, nil
	}
	return nil, false, first
}
