package hdf5io

import (
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testMatrix is a random m×d CSR matrix with ±1 labels, built naively.
type testMatrix struct {
	m, d   int
	rowPtr []int
	colIdx []int32
	val    []float64
	labels []float64
}

func randomMatrix(m, d int, seed uint64) *testMatrix {
	r := rand.New(rand.NewPCG(seed, 1))
	t := &testMatrix{m: m, d: d, rowPtr: []int{0}}
	for range m {
		for c := range d {
			if r.Float64() < 0.3 {
				t.colIdx = append(t.colIdx, int32(c))
				t.val = append(t.val, r.NormFloat64())
			}
		}
		t.rowPtr = append(t.rowPtr, len(t.val))
		t.labels = append(t.labels, float64(2*r.IntN(2)-1))
	}
	return t
}

// write stores t with the writer, in blocks of the given number of rows.
func (tm *testMatrix) write(t *testing.T, path string, blockRows int) {
	t.Helper()
	w, err := CreateCSR(path, false)
	if err != nil {
		t.Fatal(err)
	}
	for lo := 0; lo < tm.m; lo += blockRows {
		hi := min(lo+blockRows, tm.m)
		a, b := tm.rowPtr[lo], tm.rowPtr[hi]
		rp := make([]int, hi-lo+1)
		for i := range rp {
			rp[i] = tm.rowPtr[lo+i] - a
		}
		if err := w.Append(rp, tm.colIdx[a:b], tm.val[a:b], tm.labels[lo:hi]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(tm.d, []Attr{{"source", "test"}}); err != nil {
		t.Fatal(err)
	}
}

// Rows written in blocks read back bit for bit, in any order, and a read of
// a contiguous range touches exactly that range of every array.
func TestCSRRoundTripAndReadCounts(t *testing.T) {
	tm := randomMatrix(300, 40, 1)
	path := filepath.Join(t.TempDir(), "m.h5")
	tm.write(t, path, 77)
	f, err := OpenCSR(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.M != 300 || f.D != 40 || f.NNZ != int64(len(tm.val)) || f.Attrs["source"] != "test" || f.Attrs["efmpi_format"] != CSRFormat {
		t.Fatalf("opened %d×%d nnz %d attrs %v", f.M, f.D, f.NNZ, f.Attrs)
	}
	labels, err := f.Labels()
	if err != nil || !slices.Equal(labels, tm.labels) {
		t.Fatalf("labels differ (err %v)", err)
	}
	f.Read = ReadCounts{}
	lo, hi := 120, 180
	rows := make([]int, hi-lo)
	for i := range rows {
		rows[i] = lo + i
	}
	rr, err := f.ReadRows(rows)
	if err != nil {
		t.Fatal(err)
	}
	nnz := int64(tm.rowPtr[hi] - tm.rowPtr[lo])
	if want := (ReadCounts{Indptr: int64(hi - lo + 1), Indices: nnz, Data: nnz}); f.Read != want {
		t.Fatalf("read %+v, want %+v (rows %d to %d only)", f.Read, want, lo, hi)
	}
	check := func(rows []int, rr *Rows) {
		t.Helper()
		for k, j := range rows {
			a, b := rr.RowPtr[k], rr.RowPtr[k+1]
			wa, wb := tm.rowPtr[j], tm.rowPtr[j+1]
			if !slices.Equal(rr.ColIdx[a:b], tm.colIdx[wa:wb]) {
				t.Fatalf("row %d: columns %v, want %v", j, rr.ColIdx[a:b], tm.colIdx[wa:wb])
			}
			for i := range b - a {
				if math.Float64bits(rr.Val[a+i]) != math.Float64bits(tm.val[wa+i]) {
					t.Fatalf("row %d: values differ", j)
				}
			}
		}
	}
	check(rows, rr)
	perm := rand.New(rand.NewPCG(3, 4)).Perm(300)
	for _, rows := range [][]int{perm[:50], perm, {299, 0}} {
		rr, err := f.ReadRows(rows)
		if err != nil {
			t.Fatal(err)
		}
		check(rows, rr)
	}
}

// Row contents that break the format are errors naming the file, the
// dataset and the row.
func TestCSRBadRows(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*testMatrix)
		label bool // detected by Labels rather than ReadRows
		want  []string
	}{
		{"column out of range", func(tm *testMatrix) { tm.colIdx[len(tm.colIdx)-1] = 99 }, false, []string{"/X/indices", "outside [0, 40)"}},
		{"columns not increasing", func(tm *testMatrix) {
			a := tm.rowPtr[3]
			tm.colIdx[a], tm.colIdx[a+1] = tm.colIdx[a+1], tm.colIdx[a]
		}, false, []string{"/X/indices", "row 3", "strictly increasing"}},
		{"non-finite value", func(tm *testMatrix) { tm.val[5] = math.Inf(1) }, false, []string{"/X/data", "non-finite"}},
		{"label not ±1", func(tm *testMatrix) { tm.labels[7] = 2 }, true, []string{"/labels", "labels[7] = 2"}},
		{"one label", func(tm *testMatrix) {
			for i := range tm.labels {
				tm.labels[i] = 1
			}
		}, true, []string{"/labels", "both −1 and +1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tm := randomMatrix(20, 40, 2)
			tc.edit(tm)
			path := filepath.Join(t.TempDir(), "bad.h5")
			tm.write(t, path, 20)
			f, err := OpenCSR(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if tc.label {
				_, err = f.Labels()
			} else {
				rows := make([]int, 20)
				for i := range rows {
					rows[i] = i
				}
				_, err = f.ReadRows(rows)
			}
			var ie *InvalidCSRError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want an InvalidCSRError naming %s", err, path)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("err = %v, want %q", err, w)
				}
			}
		})
	}
}

// The writer refuses to replace a file unless told to.
func TestCreateCSRRefusesExisting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.h5")
	randomMatrix(3, 4, 1).write(t, path, 3)
	if _, err := CreateCSR(path, false); !errors.Is(err, ErrExists) {
		t.Fatalf("err = %v, want ErrExists", err)
	}
}

// BenchmarkCSRReadRows reads a contiguous block of 10⁵ rows of 20 entries.
func BenchmarkCSRReadRows(b *testing.B) {
	const m, per = 100000, 20
	w, err := CreateCSR(filepath.Join(b.TempDir(), "m.h5"), false)
	if err != nil {
		b.Fatal(err)
	}
	rp := make([]int, m+1)
	ci := make([]int32, m*per)
	v := make([]float64, m*per)
	y := make([]float64, m)
	for r := range m {
		rp[r+1] = (r + 1) * per
		for k := range per {
			ci[r*per+k] = int32(k * 7)
			v[r*per+k] = 1
		}
		y[r] = float64(2*(r%2) - 1)
	}
	if err := w.Append(rp, ci, v, y); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(200, nil); err != nil {
		b.Fatal(err)
	}
	f, err := OpenCSR(w.path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rows := make([]int, m)
	for i := range rows {
		rows[i] = i
	}
	b.SetBytes(int64(m*per*12 + 8*m))
	for b.Loop() {
		if _, err := f.ReadRows(rows); err != nil {
			b.Fatal(err)
		}
	}
}

// Rows scattered over the file (more than maxRuns runs) are read with one
// read of the whole indptr and give the same rows.
func TestCSRReadScatteredRows(t *testing.T) {
	tm := randomMatrix(3000, 10, 5)
	path := filepath.Join(t.TempDir(), "m.h5")
	tm.write(t, path, 1000)
	f, err := OpenCSR(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []int
	for j := 2999; j >= 0; j -= 2 { // 1500 runs of one row, in reverse
		rows = append(rows, j)
	}
	f.Read = ReadCounts{}
	rr, err := f.ReadRows(rows)
	if err != nil {
		t.Fatal(err)
	}
	nnz := 0
	for k, j := range rows {
		a, b := rr.RowPtr[k], rr.RowPtr[k+1]
		wa, wb := tm.rowPtr[j], tm.rowPtr[j+1]
		if !slices.Equal(rr.ColIdx[a:b], tm.colIdx[wa:wb]) || !slices.Equal(rr.Val[a:b], tm.val[wa:wb]) {
			t.Fatalf("row %d differs", j)
		}
		nnz += wb - wa
	}
	if want := (ReadCounts{Indptr: 3001, Indices: int64(nnz), Data: int64(nnz)}); f.Read != want {
		t.Fatalf("read %+v, want %+v", f.Read, want)
	}
}
