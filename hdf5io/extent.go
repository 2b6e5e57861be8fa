package hdf5io

// #cgo LDFLAGS: -lhdf5
// #include "hdf5.h"
import "C"

import (
	"fmt"

	"gonum.org/v1/hdf5"
)

// setExtent grows a chunked 1-D dataset to n rows (H5Dset_extent, which
// gonum.org/v1/hdf5 does not wrap).
func setExtent(ds *hdf5.Dataset, n uint) error {
	dims := [1]C.hsize_t{C.hsize_t(n)}
	if rc := C.H5Dset_extent(C.hid_t(ds.ID()), &dims[0]); rc < 0 {
		return fmt.Errorf("H5Dset_extent(%s, %d) failed", ds.Name(), n)
	}
	return nil
}

// flushFile asks the library to write every buffer of the file to disk
// (H5Fflush with global scope), then the caller fsyncs nothing: HDF5 hands the
// data to the operating system, which is what survives a killed process.
func flushFile(f *hdf5.File) error {
	return f.Flush(hdf5.F_SCOPE_GLOBAL)
}

// unlimited is H5S_UNLIMITED ((hsize_t)-1), the maximum size of an extendable
// dimension.
const unlimited = ^uint(0)

// setFletcher32 adds HDF5's Fletcher-32 checksum filter to a dataset creation
// property list: every chunk is stored with its checksum and a damaged chunk
// fails to read (in efmpi, h5py and h5dump alike) instead of returning wrong
// numbers.
func setFletcher32(p *hdf5.PropList) error {
	if rc := C.H5Pset_fletcher32(C.hid_t(p.ID())); rc < 0 {
		return fmt.Errorf("H5Pset_fletcher32 failed")
	}
	return nil
}
