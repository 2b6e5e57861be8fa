package hdf5io

import (
	"errors"
	"math"
	"path/filepath"
	"testing"

	"gonum.org/v1/hdf5"
)

// writeRawCSR writes arbitrary (possibly inconsistent) arrays in the CSR
// layout, bypassing CSRWriter's checks.
func writeRawCSR(t testing.TB, path string, shape [2]int64, data []float64, indices []int32, indptr []int64, labels []float64) {
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
		CreateDataset(string, *hdf5.Datatype, *hdf5.Dataspace) (*hdf5.Dataset, error)
	}, name string, dt *hdf5.Datatype, n int, v any) {
		sp, err := hdf5.CreateSimpleDataspace([]uint{uint(n)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer sp.Close()
		ds, err := loc.CreateDataset(name, dt, sp)
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
	put(g, "data", hdf5.T_NATIVE_DOUBLE, len(data), &data)
	put(g, "indices", hdf5.T_NATIVE_INT32, len(indices), &indices)
	put(g, "indptr", hdf5.T_NATIVE_INT64, len(indptr), &indptr)
	put(f, "labels", hdf5.T_NATIVE_DOUBLE, len(labels), &labels)
}

// FuzzCSRFile: whatever the arrays, opening and reading a file either fails
// with an error or yields rows that satisfy every invariant the gradient
// kernels rely on (non-decreasing row pointers, columns in [0, d) strictly
// increasing per row, finite values, labels ±1). Never a panic.
func FuzzCSRFile(f *testing.F) {
	f.Add([]byte{3, 4, 0, 2, 3, 5, 1, 2, 3, 1, 0})
	f.Add([]byte{2, 2, 0, 1, 2, 0, 1, 255, 1})
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
		path := filepath.Join(dir, "f.h5")
		writeRawCSR(t, path, [2]int64{m, d}, data, indices, indptr, labels)
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
