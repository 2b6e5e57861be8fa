package hdf5io

import (
	"encoding/binary"
	"errors"
	"math"
	"path/filepath"
	"testing"

	"gonum.org/v1/hdf5"
)

// writeRawCSR writes arbitrary (possibly inconsistent) arrays in the CSR
// layout, bypassing CSRWriter's checks: contiguous float64, int32, int64
// and float64 arrays, as h5py writes scipy's.
func writeRawCSR(t testing.TB, path string, shape [2]int64, data []float64, indices []int32, indptr []int64, labels []float64) {
	t.Helper()
	writeRawCSRAs(t, path, rawLayout{}, shape, data, indices, indptr, labels)
}

// rawLayout is how writeRawCSRAs stores the arrays: each one's file type
// (nil: float64, int32, int64, float64) and, when chunk > 0, chunked in
// chunks of that many elements and extendable, as format efmpi-csr-1 did;
// format is the efmpi_format root attribute ("": none).
type rawLayout struct {
	data, indices, indptr, labels *fileType
	chunk                         uint
	format                        string
}

// fileType is a stored element type and how to encode a value as it (the
// library writes the bytes as they are). Values are converted through
// int64 for integer types, so out-of-range ones wrap (fuzzing only).
type fileType struct {
	dt   *hdf5.Datatype
	size int
	put  func(b []byte, v float64)
}

var (
	le, be = binary.LittleEndian, binary.BigEndian
	ftI8   = &fileType{hdf5.T_STD_I8LE, 1, func(b []byte, v float64) { b[0] = byte(int64(v)) }}
	ftU8   = &fileType{hdf5.T_STD_U8LE, 1, func(b []byte, v float64) { b[0] = byte(int64(v)) }}
	ftI16  = &fileType{hdf5.T_STD_I16LE, 2, func(b []byte, v float64) { le.PutUint16(b, uint16(int64(v))) }}
	ftU16  = &fileType{hdf5.T_STD_U16LE, 2, func(b []byte, v float64) { le.PutUint16(b, uint16(int64(v))) }}
	ftI32  = &fileType{hdf5.T_STD_I32LE, 4, func(b []byte, v float64) { le.PutUint32(b, uint32(int64(v))) }}
	ftU32  = &fileType{hdf5.T_STD_U32LE, 4, func(b []byte, v float64) { le.PutUint32(b, uint32(int64(v))) }}
	ftI64  = &fileType{hdf5.T_STD_I64LE, 8, func(b []byte, v float64) { le.PutUint64(b, uint64(int64(v))) }}
	ftU64  = &fileType{hdf5.T_STD_U64LE, 8, func(b []byte, v float64) { le.PutUint64(b, uint64(int64(v))) }}
	ftF32  = &fileType{hdf5.T_IEEE_F32LE, 4, func(b []byte, v float64) { le.PutUint32(b, math.Float32bits(float32(v))) }}
	ftI16B = &fileType{hdf5.T_STD_I16BE, 2, func(b []byte, v float64) { be.PutUint16(b, uint16(int64(v))) }}
	ftI64B = &fileType{hdf5.T_STD_I64BE, 8, func(b []byte, v float64) { be.PutUint64(b, uint64(int64(v))) }}
	ftF32B = &fileType{hdf5.T_IEEE_F32BE, 4, func(b []byte, v float64) { be.PutUint32(b, math.Float32bits(float32(v))) }}
	ftF64B = &fileType{hdf5.T_IEEE_F64BE, 8, func(b []byte, v float64) { be.PutUint64(b, math.Float64bits(v)) }}
)

// floats is v as float64s.
func floats[T int32 | int64 | float64](v []T) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// writeRawCSRAs writes the arrays as layout says.
func writeRawCSRAs(t testing.TB, path string, layout rawLayout, shape [2]int64, data []float64, indices []int32, indptr []int64, labels []float64) {
	t.Helper()
	lib.Lock()
	defer lib.Unlock()
	f, err := hdf5.CreateFile(path, hdf5.F_ACC_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := f.CreateGroup(CSRGroup)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	writeAttr(g, "encoding-type", CSREncodingType)
	writeAttr(g, "encoding-version", CSREncodingVer)
	if layout.format != "" {
		root, err := f.OpenGroup("/")
		if err != nil {
			t.Fatal(err)
		}
		writeAttr(root, "efmpi_format", layout.format)
		root.Close()
	}
	asp, err := hdf5.CreateSimpleDataspace([]uint{2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := g.CreateAttribute("shape", hdf5.T_NATIVE_INT64, asp)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Write(&shape, hdf5.T_NATIVE_INT64); err != nil {
		t.Fatal(err)
	}
	a.Close()
	asp.Close()
	put := func(loc interface {
		CreateDatasetWith(string, *hdf5.Datatype, *hdf5.Dataspace, *hdf5.PropList) (*hdf5.Dataset, error)
	}, name string, ft *fileType, def *hdf5.Datatype, n int, v any, vals func() []float64) {
		dt := def
		if ft != nil {
			dt = ft.dt
			raw := make([]byte, n*ft.size)
			for i, x := range vals() {
				ft.put(raw[i*ft.size:], x)
			}
			v = &raw
		}
		var maxDims []uint
		dcpl, err := hdf5.NewPropList(hdf5.P_DATASET_CREATE)
		if err != nil {
			t.Fatal(err)
		}
		defer dcpl.Close()
		if layout.chunk > 0 {
			maxDims = []uint{unlimited}
			if err := dcpl.SetChunk([]uint{layout.chunk}); err != nil {
				t.Fatal(err)
			}
		}
		sp, err := hdf5.CreateSimpleDataspace([]uint{uint(n)}, maxDims)
		if err != nil {
			t.Fatal(err)
		}
		defer sp.Close()
		ds, err := loc.CreateDatasetWith(name, dt, sp, dcpl)
		if err != nil {
			t.Fatal(err)
		}
		defer ds.Close()
		if n > 0 {
			if err := ds.Write(v); err != nil {
				t.Fatal(err)
			}
		}
	}
	put(g, "data", layout.data, hdf5.T_NATIVE_DOUBLE, len(data), &data, func() []float64 { return data })
	put(g, "indices", layout.indices, hdf5.T_NATIVE_INT32, len(indices), &indices, func() []float64 { return floats(indices) })
	put(g, "indptr", layout.indptr, hdf5.T_NATIVE_INT64, len(indptr), &indptr, func() []float64 { return floats(indptr) })
	put(f, "labels", layout.labels, hdf5.T_NATIVE_DOUBLE, len(labels), &labels, func() []float64 { return labels })
}

// FuzzCSRFile: whatever the arrays, opening and reading a file either fails
// with an error or yields rows that satisfy every invariant the gradient
// kernels rely on (non-decreasing row pointers, columns in [0, d) strictly
// increasing per row, finite values, labels ±1). Never a panic.
func FuzzCSRFile(f *testing.F) {
	f.Add([]byte{3, 4, 0, 2, 3, 5, 1, 2, 3, 1, 0})
	f.Add([]byte{2, 2, 0, 1, 2, 0, 1, 255, 1})
	f.Add([]byte{2, 3, 3, 0, 1, 2, 2, 0, 1, 2, 5, 2, 1, 0, 1})
	f.Add([]byte{2, 3, 3, 0, 1, 2, 2, 0, 1, 2, 5, 2, 1, 0, 3})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 3 {
			return
		}
		next := func() int {
			if len(b) == 0 {
				return 0
			}
			v := int(int8(b[0]))
			b = b[1:]
			return v
		}
		m, d := int64(next()%6), int64(next()%6)
		nptr := next() % 9
		indptr := make([]int64, max(nptr, 0))
		for i := range indptr {
			indptr[i] = int64(next() % 12)
		}
		nnz := next() % 12
		indices := make([]int32, max(nnz, 0))
		data := make([]float64, len(indices))
		for i := range indices {
			indices[i] = int32(next() % 8)
			data[i] = float64(next())
			if data[i] == 127 {
				data[i] = math.NaN()
			}
		}
		nlab := next() % 7
		labels := make([]float64, max(nlab, 0))
		for i := range labels {
			labels[i] = float64(next() % 3)
		}
		// The stored types and layout: h5py's defaults, efmpi-csr-2's
		// narrow types, efmpi-csr-1's chunks (of 3 here), and types the
		// library converts (unsigned, big-endian).
		layouts := []rawLayout{{},
			{data: ftF32, indices: ftI8, indptr: ftI32, labels: ftI8},
			{chunk: 3},
			{data: ftF64B, indices: ftU16, indptr: ftU64, labels: ftF32B}}
		layout := layouts[uint(next())%uint(len(layouts))]
		path := filepath.Join(dir, "f.h5")
		writeRawCSRAs(t, path, layout, [2]int64{m, d}, data, indices, indptr, labels)
		cf, err := OpenCSR(path)
		if err != nil {
			return
		}
		defer cf.Close()
		if _, err := cf.Labels(); err != nil {
			var ie *InvalidCSRError
			if !errors.As(err, &ie) {
				t.Fatalf("labels: %v is not an InvalidCSRError", err)
			}
		}
		rows := make([]int, cf.M)
		for i := range rows {
			rows[i] = cf.M - 1 - i
		}
		rr, err := cf.ReadRows(rows)
		if err != nil {
			return
		}
		if len(rr.RowPtr) != cf.M+1 || rr.RowPtr[0] != 0 || rr.RowPtr[cf.M] != len(rr.Val) || len(rr.ColIdx) != len(rr.Val) {
			t.Fatalf("accepted rows with inconsistent structure %+v", rr)
		}
		for k := range cf.M {
			lo, hi := rr.RowPtr[k], rr.RowPtr[k+1]
			if hi < lo {
				t.Fatalf("accepted a decreasing row pointer")
			}
			for i := lo; i < hi; i++ {
				c := rr.ColIdx[i]
				if c < 0 || int(c) >= cf.D || (i > lo && c <= rr.ColIdx[i-1]) || math.IsNaN(rr.Val[i]) {
					t.Fatalf("accepted row %d with columns %v values %v", rows[k], rr.ColIdx[lo:hi], rr.Val[lo:hi])
				}
			}
		}
	})
}
