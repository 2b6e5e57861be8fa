package hdf5io

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// checkRowsEqual compares rows read (in the order rows) with tm, values bit
// for bit.
func checkRowsEqual(t *testing.T, tm *testMatrix, rows []int, rr *Rows) {
	t.Helper()
	if len(rr.RowPtr) != len(rows)+1 || rr.RowPtr[0] != 0 {
		t.Fatalf("%d row pointers for %d rows", len(rr.RowPtr), len(rows))
	}
	for k, j := range rows {
		a, b := rr.RowPtr[k], rr.RowPtr[k+1]
		wa, wb := tm.rowPtr[j], tm.rowPtr[j+1]
		if !slices.Equal(rr.ColIdx[a:b], tm.colIdx[wa:wb]) {
			t.Fatalf("row %d: columns %v, want %v", j, rr.ColIdx[a:b], tm.colIdx[wa:wb])
		}
		for i := range b - a {
			if math.Float64bits(rr.Val[a+i]) != math.Float64bits(tm.val[wa+i]) {
				t.Fatalf("row %d: value %v, want %v", j, rr.Val[a+i], tm.val[wa+i])
			}
		}
	}
}

// integerMatrix is randomMatrix with values drawn from lo…hi (integers).
func integerMatrix(m, d int, lo, hi int, seed uint64) *testMatrix {
	tm := randomMatrix(m, d, seed)
	r := rand.New(rand.NewPCG(seed, 9))
	for i := range tm.val {
		tm.val[i] = float64(lo + r.IntN(hi-lo+1))
	}
	return tm
}

// Whatever the stored types (native ones, which the reader widens itself,
// and others, which the library converts) and layout (contiguous; chunked
// and extendable as format efmpi-csr-1 wrote, including its 64 Ki-element
// chunks), the rows and labels read are the values written, bit for bit,
// and a range reads exactly its entries.
func TestCSRStoredTypes(t *testing.T) {
	f32 := randomMatrix(300, 40, 11)
	for i, v := range f32.val {
		f32.val[i] = float64(float32(v))
	}
	cases := []struct {
		name   string
		tm     *testMatrix
		layout rawLayout
		types  ArrayTypes
	}{
		{"h5py defaults", randomMatrix(300, 40, 1), rawLayout{},
			ArrayTypes{"float64", "int32", "int64", "float64"}},
		{"efmpi-csr-1", randomMatrix(300, 40, 2), rawLayout{chunk: 1 << 16, format: "efmpi-csr-1"},
			ArrayTypes{"float64", "int32", "int64", "float64"}},
		{"efmpi-csr-1, chunks of 7", randomMatrix(300, 40, 3), rawLayout{chunk: 7, format: "efmpi-csr-1"},
			ArrayTypes{"float64", "int32", "int64", "float64"}},
		{"narrow signed", integerMatrix(300, 40, -128, 127, 4),
			rawLayout{data: ftI8, indices: ftI8, indptr: ftI16, labels: ftI8},
			ArrayTypes{"int8", "int8", "int16", "int8"}},
		{"int16 and int32", integerMatrix(300, 40, -32768, 32767, 5),
			rawLayout{data: ftI16, indices: ftI16, indptr: ftI32, labels: ftI32},
			ArrayTypes{"int16", "int16", "int32", "int32"}},
		{"int32 values", integerMatrix(300, 40, math.MinInt32, math.MaxInt32, 6),
			rawLayout{data: ftI32, labels: ftI16},
			ArrayTypes{"int32", "int32", "int64", "int16"}},
		{"unsigned", integerMatrix(300, 40, 0, 255, 7),
			rawLayout{data: ftU8, indices: ftU8, indptr: ftU16, labels: ftF32},
			ArrayTypes{"uint8", "uint8", "uint16", "float32"}},
		{"unsigned, wider", integerMatrix(300, 40, 0, math.MaxUint32, 8),
			rawLayout{data: ftU32, indices: ftU16, indptr: ftU32},
			ArrayTypes{"uint32", "uint16", "uint32", "float64"}},
		{"float32", f32, rawLayout{data: ftF32, labels: ftF32},
			ArrayTypes{"float32", "int32", "int64", "float32"}},
		// Converted by the library: 64-bit values, 32-bit unsigned and
		// 64-bit column indices, unsigned 64-bit row pointers, big-endian.
		{"library converts", integerMatrix(300, 40, -1000, 1000, 9),
			rawLayout{data: ftI64, indices: ftU32, indptr: ftU64, labels: ftI64},
			ArrayTypes{"int64", "uint32", "uint64", "int64"}},
		{"library converts, signed", integerMatrix(300, 40, 0, 1000, 10),
			rawLayout{data: ftU64, indices: ftI64},
			ArrayTypes{"uint64", "int64", "int64", "float64"}},
		{"big-endian", f32,
			rawLayout{data: ftF64B, indices: ftI16B, indptr: ftI64B, labels: ftF32B},
			ArrayTypes{"other", "other", "other", "other"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tm := tc.tm
			path := filepath.Join(t.TempDir(), "m.h5")
			ptr := make([]int64, len(tm.rowPtr))
			for i, p := range tm.rowPtr {
				ptr[i] = int64(p)
			}
			writeRawCSRAs(t, path, tc.layout, [2]int64{int64(tm.m), int64(tm.d)}, tm.val, tm.colIdx, ptr, tm.labels)
			f, err := OpenCSR(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Types != tc.types {
				t.Fatalf("types %+v, want %+v", f.Types, tc.types)
			}
			labels, err := f.Labels()
			if err != nil || !slices.Equal(labels, tm.labels) {
				t.Fatalf("labels differ (err %v)", err)
			}
			f.Read = ReadCounts{}
			rr, err := f.ReadRange(120, 180)
			if err != nil {
				t.Fatal(err)
			}
			rows := make([]int, 60)
			for i := range rows {
				rows[i] = 120 + i
			}
			checkRowsEqual(t, tm, rows, rr)
			nnz := int64(tm.rowPtr[180] - tm.rowPtr[120])
			if want := (ReadCounts{Indptr: 61, Indices: nnz, Data: nnz}); f.Read != want {
				t.Fatalf("read %+v, want %+v", f.Read, want)
			}
			perm := rand.New(rand.NewPCG(3, 4)).Perm(tm.m)
			for _, rows := range [][]int{perm[:50], perm, {299, 0}} {
				rr, err := f.ReadRows(rows)
				if err != nil {
					t.Fatal(err)
				}
				checkRowsEqual(t, tm, rows, rr)
			}
		})
	}
}

// The writer stores each array in the narrowest type that holds every
// element exactly (values survive bit for bit, bad columns included, so
// the reader still names them), and leaves no staging files behind.
func TestCSRWriterNarrowestTypes(t *testing.T) {
	ones := func(tm *testMatrix) {
		for i := range tm.val {
			tm.val[i] = 1
		}
	}
	cases := []struct {
		name  string
		d     int
		edit  func(*testMatrix)
		types ArrayTypes
		err   string // from ReadRange, "" for none
	}{
		// values stay floating point (float32 at the narrowest): scipy's
		// arithmetic in an integer dtype would overflow silently
		{"a9a-like: ones, d = 123", 123, ones, ArrayTypes{"float32", "int8", "int32", "float32"}, ""},
		{"d = 128: columns up to 127", 128, ones, ArrayTypes{"float32", "int8", "int32", "float32"}, ""},
		{"d = 129", 129, ones, ArrayTypes{"float32", "int16", "int32", "float32"}, ""},
		{"d = 32769", 32769, ones, ArrayTypes{"float32", "int32", "int32", "float32"}, ""},
		{"integers −128…127", 40, func(tm *testMatrix) {
			for i := range tm.val {
				tm.val[i] = float64(i%256 - 128)
			}
		}, ArrayTypes{"float32", "int8", "int32", "float32"}, ""},
		{"−0 survives float32", 40, func(tm *testMatrix) {
			ones(tm)
			tm.val[7] = math.Copysign(0, -1)
		}, ArrayTypes{"float32", "int8", "int32", "float32"}, ""},
		{"float32 values", 40, func(tm *testMatrix) {
			for i, v := range tm.val {
				tm.val[i] = float64(float32(v))
			}
			tm.val[0] = math.SmallestNonzeroFloat32
			tm.val[1] = -math.MaxFloat32
			tm.val[2] = math.Copysign(0, -1)
		}, ArrayTypes{"float32", "int8", "int32", "float32"}, ""},
		{"full precision", 40, nil, ArrayTypes{"float64", "int8", "int32", "float32"}, ""},
		{"one value beyond float32", 40, func(tm *testMatrix) {
			ones(tm)
			tm.val[len(tm.val)/2] = 0.1
		}, ArrayTypes{"float64", "int8", "int32", "float32"}, ""},
		{"a NaN is kept as float64", 40, func(tm *testMatrix) {
			ones(tm)
			tm.val[3] = math.NaN()
		}, ArrayTypes{"float64", "int8", "int32", "float32"}, "non-finite"},
		{"+Inf fits float32 and is still refused", 40, func(tm *testMatrix) {
			ones(tm)
			tm.val[3] = math.Inf(1)
		}, ArrayTypes{"float32", "int8", "int32", "float32"}, "non-finite"},
		{"a column beyond d", 40, func(tm *testMatrix) { tm.colIdx[len(tm.colIdx)-1] = 300 },
			ArrayTypes{"float64", "int16", "int32", "float32"}, "column 300 outside [0, 40)"},
		{"a negative column", 40, func(tm *testMatrix) { tm.colIdx[0] = -200 },
			ArrayTypes{"float64", "int16", "int32", "float32"}, "column -200 outside [0, 40)"},
		{"labels beyond float32", 40, func(tm *testMatrix) { tm.labels[5] = 1.0 / 3 },
			ArrayTypes{"float64", "int8", "int32", "float64"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tm := randomMatrix(50, min(tc.d, 200), 7)
			tm.d = tc.d
			if tc.edit != nil {
				tc.edit(tm)
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "m.h5")
			tm.write(t, path, 17)
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Fatalf("directory holds %v, want only m.h5", ents)
			}
			f, err := OpenCSR(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Types != tc.types {
				t.Fatalf("types %+v, want %+v", f.Types, tc.types)
			}
			if f.Attrs["efmpi_format"] != CSRFormat {
				t.Fatalf("efmpi_format %v", f.Attrs["efmpi_format"])
			}
			rr, err := f.ReadRange(0, tm.m)
			if tc.err != "" {
				var ie *InvalidCSRError
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want an InvalidCSRError with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rows := make([]int, tm.m)
			for i := range rows {
				rows[i] = i
			}
			checkRowsEqual(t, tm, rows, rr)
			lab, err := f.Labels()
			if tc.name == "labels beyond float32" {
				if err == nil || !strings.Contains(err.Error(), "labels[5] = 0.3333333333333333") {
					t.Fatalf("err = %v, want labels[5] named with its full value", err)
				}
			} else if err != nil || !slices.Equal(lab, tm.labels) {
				t.Fatalf("labels differ (err %v)", err)
			}
		})
	}
	// Raw labels mapped after streaming; an aborted file leaves nothing.
	dir := t.TempDir()
	tm := randomMatrix(30, 10, 3)
	raw := make([]float64, len(tm.labels))
	for i, y := range tm.labels {
		raw[i] = (y + 1) / 2 * 7 // 0 and 7
	}
	w, err := CreateCSR(filepath.Join(dir, "m.h5"), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(tm.rowPtr, tm.colIdx, tm.val, raw); err != nil {
		t.Fatal(err)
	}
	if err := w.MapLabels(func(y float64) float64 { return 2*y/7 - 1 }); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(tm.d, nil); err != nil {
		t.Fatal(err)
	}
	f, err := OpenCSR(filepath.Join(dir, "m.h5"))
	if err != nil {
		t.Fatal(err)
	}
	lab, err := f.Labels()
	f.Close()
	if err != nil || !slices.Equal(lab, tm.labels) || f.Types.Labels != "float32" {
		t.Fatalf("mapped labels %v (%s), err %v", lab, f.Types.Labels, err)
	}
	w, err = CreateCSR(filepath.Join(dir, "gone.h5"), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(tm.rowPtr, tm.colIdx, tm.val, raw); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if ents, _ := os.ReadDir(dir); len(ents) != 1 || ents[0].Name() != "m.h5" {
		t.Fatalf("after Abort the directory holds %v", ents)
	}
}

// Files with no entries at all (every row empty) are written and read.
func TestCSREmptyRows(t *testing.T) {
	tm := &testMatrix{m: 4, d: 3, rowPtr: []int{0, 0, 0, 0, 0}, labels: []float64{1, -1, 1, -1}}
	path := filepath.Join(t.TempDir(), "m.h5")
	tm.write(t, path, 3)
	f, err := OpenCSR(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rr, err := f.ReadRows([]int{3, 1, 0, 2})
	if err != nil || f.NNZ != 0 || !slices.Equal(rr.RowPtr, []int{0, 0, 0, 0, 0}) || len(rr.Val) != 0 {
		t.Fatalf("rows %+v, nnz %d, err %v", rr, f.NNZ, err)
	}
}

// Reads of more than one piece (csrPiece entries) check rows that straddle
// a piece boundary, report the file's row, and report a bad column before a
// non-finite value that comes earlier in the file (as when everything was
// read before checking).
func TestCSRPieces(t *testing.T) {
	const m, per = 5000, 30 // 150 000 entries: three pieces
	tm := &testMatrix{m: m, d: 1000, rowPtr: []int{0}}
	r := rand.New(rand.NewPCG(5, 6))
	for j := range m {
		cols := r.Perm(tm.d)[:per]
		slices.Sort(cols)
		for _, c := range cols {
			tm.colIdx = append(tm.colIdx, int32(c))
			tm.val = append(tm.val, float64(float32(r.NormFloat64())))
		}
		tm.rowPtr = append(tm.rowPtr, len(tm.val))
		tm.labels = append(tm.labels, float64(2*(j%2)-1))
	}
	straddle := csrPiece / per // row holding entries csrPiece−1 and csrPiece
	if tm.rowPtr[straddle] >= csrPiece || tm.rowPtr[straddle+1] <= csrPiece {
		t.Fatalf("row %d does not straddle the piece boundary", straddle)
	}
	write := func(t *testing.T, tm *testMatrix) string {
		path := filepath.Join(t.TempDir(), "m.h5")
		tm.write(t, path, 1234)
		return path
	}
	t.Run("valid", func(t *testing.T) {
		f, err := OpenCSR(write(t, tm))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, lohi := range [][2]int{{0, m}, {straddle, straddle + 1}, {straddle - 1000, m - 7}} {
			rr, err := f.ReadRange(lohi[0], lohi[1])
			if err != nil {
				t.Fatal(err)
			}
			rows := make([]int, lohi[1]-lohi[0])
			for i := range rows {
				rows[i] = lohi[0] + i
			}
			checkRowsEqual(t, tm, rows, rr)
		}
	})
	bad := func(edit func(*testMatrix), want string) func(*testing.T) {
		return func(t *testing.T) {
			c := *tm
			c.colIdx, c.val = slices.Clone(tm.colIdx), slices.Clone(tm.val)
			edit(&c)
			f, err := OpenCSR(write(t, &c))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			_, err = f.ReadRange(0, m)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want %q", err, want)
			}
			// The same from a list of rows in reverse order.
			rows := make([]int, m)
			for i := range rows {
				rows[i] = m - 1 - i
			}
			if _, err = f.ReadRows(rows); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("reverse order: err = %v, want %q", err, want)
			}
		}
	}
	t.Run("columns not increasing across the boundary", bad(func(c *testMatrix) {
		c.colIdx[csrPiece] = c.colIdx[csrPiece-1]
	}, "row 2184: column"))
	t.Run("column out of range in the last piece", bad(func(c *testMatrix) {
		c.colIdx[len(c.colIdx)-1] = 1000
	}, "row 4999 has column 1000 outside [0, 1000)"))
	t.Run("non-finite value in the second piece", bad(func(c *testMatrix) {
		c.val[csrPiece+5] = math.NaN()
	}, "row 2184 has a non-finite value NaN"))
	t.Run("bad column after a non-finite value", bad(func(c *testMatrix) {
		c.val[10] = math.Inf(-1)
		c.colIdx[2*csrPiece+1] = -1
	}, "column -1 outside"))
}

// The C kernels agree with plain Go on every pair of types they convert,
// on extreme values, and find every non-finite value wherever it lies.
func TestCSRKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	raw := make([]byte, 8*1000)
	for i := range raw {
		raw[i] = byte(r.Uint32())
	}
	// The extremes of every width at the start.
	copy(raw, []byte{0x80, 0x7f, 0xff, 0x00, 0x00, 0x80, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x80})
	p := unsafe.Pointer(&raw[0])
	n := 1000
	check := func(name string, got, want []float64) {
		t.Helper()
		for i := range want {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("%s: element %d is %v, want %v", name, i, got[i], want[i])
			}
		}
	}
	for _, k := range []kind{kindInt8, kindInt16, kindInt32, kindUint8, kindUint16, kindUint32} {
		want := make([]float64, n)
		for i := range want {
			switch k {
			case kindInt8:
				want[i] = float64(*(*int8)(unsafe.Add(p, i)))
			case kindInt16:
				want[i] = float64(*(*int16)(unsafe.Add(p, 2*i)))
			case kindInt32:
				want[i] = float64(*(*int32)(unsafe.Add(p, 4*i)))
			case kindUint8:
				want[i] = float64(*(*uint8)(unsafe.Add(p, i)))
			case kindUint16:
				want[i] = float64(*(*uint16)(unsafe.Add(p, 2*i)))
			case kindUint32:
				want[i] = float64(*(*uint32)(unsafe.Add(p, 4*i)))
			}
		}
		got := make([]float64, n)
		if !widen(got, k, p) {
			t.Fatalf("%s: integers reported non-finite", k)
		}
		check(k.String()+" → float64", got, want)
		if widens[int64](k) {
			g := make([]int64, n)
			widen(g, k, p)
			for i := range g {
				if float64(g[i]) != want[i] {
					t.Fatalf("%s → int64: element %d is %d, want %v", k, i, g[i], want[i])
				}
			}
		}
		if widens[int32](k) {
			g := make([]int32, n)
			widen(g, k, p)
			for i := range g {
				if float64(g[i]) != want[i] {
					t.Fatalf("%s → int32: element %d is %d, want %v", k, i, g[i], want[i])
				}
			}
		}
	}
	// float32: finite values convert exactly; any Inf or NaN, wherever it
	// is, is reported (and still converted).
	specials := []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), math.Float32frombits(0xffc00001)}
	finite := []float32{math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 0, float32(math.Copysign(0, -1)), 1, -2.5}
	for length := 1; length <= 40; length++ {
		src := make([]float32, length)
		for i := range src {
			src[i] = finite[r.IntN(len(finite))]
		}
		dst := make([]float64, length)
		if !widen(dst, kindFloat32, unsafe.Pointer(&src[0])) {
			t.Fatalf("length %d: finite float32s reported non-finite: %v", length, src)
		}
		wide := make([]float64, length)
		for i, v := range src {
			wide[i] = float64(v)
		}
		check("float32 → float64", dst, wide)
		if !allFinite(wide) {
			t.Fatalf("length %d: finite float64s reported non-finite", length)
		}
		for pos := range length {
			for _, s := range specials {
				bad := slices.Clone(src)
				bad[pos] = s
				if widen(dst, kindFloat32, unsafe.Pointer(&bad[0])) {
					t.Fatalf("length %d: %v at %d not reported", length, s, pos)
				}
				if !math.IsNaN(dst[pos]) && !math.IsInf(dst[pos], 0) {
					t.Fatalf("converted %v to %v", s, dst[pos])
				}
				w := slices.Clone(wide)
				w[pos] = float64(s)
				if allFinite(w) {
					t.Fatalf("allFinite: length %d: %v at %d not reported", length, s, pos)
				}
			}
		}
	}
	if allFinite([]float64{math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64}) != true {
		t.Fatal("extreme finite float64s reported non-finite")
	}
	// columnDrops and signs against plain counts, extremes included.
	for trial := range 200 {
		c := make([]int32, 1+r.IntN(50))
		for i := range c {
			switch r.IntN(4) {
			case 0:
				c[i] = math.MinInt32 + int32(r.IntN(3))
			case 1:
				c[i] = math.MaxInt32 - int32(r.IntN(3))
			default:
				c[i] = int32(r.IntN(7)) - 3
			}
		}
		want := 0
		for i := 1; i < len(c); i++ {
			if c[i] <= c[i-1] {
				want++
			}
		}
		if got := columnDrops(c); got != want {
			t.Fatalf("trial %d: columnDrops(%v) = %d, want %d", trial, c, got, want)
		}
		y := make([]float64, len(c))
		var neg, pos int
		for i := range y {
			y[i] = []float64{-1, 1, 0, 2, math.NaN(), -1.0000000000000002}[r.IntN(6)]
			if y[i] == -1 {
				neg++
			}
			if y[i] == 1 {
				pos++
			}
		}
		if n, p := signs(y); n != neg || p != pos {
			t.Fatalf("signs(%v) = %d, %d, want %d, %d", y, n, p, neg, pos)
		}
	}
}

// checkRows's fast path accepts exactly the rows a naive check accepts and,
// when it refuses, names the first bad row as checkRow does: random rows of
// columns near the int32 extremes and the bounds [0, d).
func TestCSRCheckRows(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	f := &CSRFile{Path: "x.h5", D: 10}
	pick := []int32{math.MinInt32, -1, 0, 1, 2, 5, 8, 9, 10, 11, math.MaxInt32}
	for trial := range 20000 {
		nrows := 1 + r.IntN(5)
		out := &Rows{RowPtr: []int{0}}
		for range nrows {
			for range r.IntN(5) {
				out.ColIdx = append(out.ColIdx, pick[r.IntN(len(pick))])
			}
			out.RowPtr = append(out.RowPtr, len(out.ColIdx))
		}
		// Half the time valid rows (increasing columns in [0, d)), some
		// with one entry replaced, so that both outcomes are common.
		if r.IntN(2) == 0 {
			for k := range nrows {
				row := out.ColIdx[out.RowPtr[k]:out.RowPtr[k+1]]
				cols := r.Perm(10)[:len(row)]
				slices.Sort(cols)
				for i := range row {
					row[i] = int32(cols[i])
				}
			}
			if len(out.ColIdx) > 0 && r.IntN(2) == 0 {
				out.ColIdx[r.IntN(len(out.ColIdx))] = pick[r.IntN(len(pick))]
			}
		}
		var want error
		for k := range nrows {
			if want = f.checkRow(100+k, out.ColIdx[out.RowPtr[k]:out.RowPtr[k+1]]); want != nil {
				break
			}
		}
		got := f.checkRows(out, fileRows{lo: 100}, 0, nrows)
		if (got == nil) != (want == nil) || (got != nil && got.Error() != want.Error()) {
			t.Fatalf("trial %d: rows %v %v: checkRows = %v, naive = %v", trial, out.RowPtr, out.ColIdx, got, want)
		}
	}
	// The case a difference of int32s would get wrong: 0, MaxInt32, −5, 3.
	out := &Rows{RowPtr: []int{0, 4}, ColIdx: []int32{0, math.MaxInt32, -5, 3}}
	if err := f.checkRows(out, fileRows{}, 0, 1); err == nil {
		t.Fatal("accepted a row with a column outside [0, d)")
	}
}

// Every root attribute is read, also when their names need more than the
// first 4 KiB buffer of readAttrs.
func TestCSRManyAttributes(t *testing.T) {
	tm := randomMatrix(5, 4, 1)
	path := filepath.Join(t.TempDir(), "m.h5")
	w, err := CreateCSR(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(tm.rowPtr, tm.colIdx, tm.val, tm.labels); err != nil {
		t.Fatal(err)
	}
	var attrs []Attr
	for i := range 300 {
		attrs = append(attrs, Attr{Name: fmt.Sprintf("provenance_attribute_%03d", i), Value: int64(i)})
	}
	if err := w.Close(tm.d, attrs); err != nil {
		t.Fatal(err)
	}
	f, err := OpenCSR(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if len(f.Attrs) != 301 || f.Attrs["provenance_attribute_299"] != int64(299) || f.Attrs["efmpi_format"] != CSRFormat {
		t.Fatalf("%d attributes, provenance_attribute_299 = %v", len(f.Attrs), f.Attrs["provenance_attribute_299"])
	}
}
