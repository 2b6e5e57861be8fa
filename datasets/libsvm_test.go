package datasets

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/internal/testenv"
)

// checkCSR verifies the invariants every parsed dataset must satisfy.
func checkCSR(tb testing.TB, ds *Dataset) {
	tb.Helper()
	if err := validCSR(ds); err != nil {
		tb.Fatal(err)
	}
}

func validCSR(ds *Dataset) error {
	s := ds.Sparse
	if s == nil || ds.Dense != nil {
		return fmt.Errorf("want a sparse dataset")
	}
	if len(ds.Labels) != s.Rows || len(s.RowPtr) != s.Rows+1 {
		return fmt.Errorf("%d labels, %d rows, %d row pointers", len(ds.Labels), s.Rows, len(s.RowPtr))
	}
	if s.RowPtr[0] != 0 || s.RowPtr[s.Rows] != len(s.Val) || len(s.ColIdx) != len(s.Val) {
		return fmt.Errorf("RowPtr ends %d..%d, %d indices, %d values", s.RowPtr[0], s.RowPtr[s.Rows], len(s.ColIdx), len(s.Val))
	}
	for r := 0; r < s.Rows; r++ {
		if s.RowPtr[r] > s.RowPtr[r+1] {
			return fmt.Errorf("RowPtr decreases at row %d", r)
		}
		for k := s.RowPtr[r]; k < s.RowPtr[r+1]; k++ {
			c := s.ColIdx[k]
			if c < 0 || int(c) >= s.Cols {
				return fmt.Errorf("row %d: column %d outside [0, %d)", r, c, s.Cols)
			}
			if k > s.RowPtr[r] && c <= s.ColIdx[k-1] {
				return fmt.Errorf("row %d: columns not strictly increasing", r)
			}
			if v := s.Val[k]; math.IsNaN(v) || math.IsInf(v, 0) || v == 0 {
				return fmt.Errorf("row %d: stored value %v", r, v)
			}
		}
		if y := ds.Labels[r]; y != 1 && y != -1 {
			return fmt.Errorf("row %d: label %v", r, y)
		}
	}
	return nil
}

func TestParseSmall(t *testing.T) {
	const in = "# header comment\n" +
		"+1 1:0.5 3:-2 \n" +
		"\n" +
		"-1\t2:1e-3 4:0 5:7\r\n" +
		"1\t# only a label\n" +
		"-1 5:3 # trailing comment\n" +
		"   \n" +
		"1 2:-0.25" // no final newline
	ds, err := ParseLIBSVM(strings.NewReader(in), "small", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := &Dataset{
		Sparse: &CSR{
			Rows:   5,
			Cols:   5,
			RowPtr: []int{0, 2, 4, 4, 5, 6},
			ColIdx: []int32{0, 2, 1, 4, 4, 1},
			Val:    []float64{0.5, -2, 1e-3, 7, 3, -0.25},
		},
		Labels:   []float64{1, -1, 1, -1, 1},
		Source:   "small",
		ColsFrom: "feature index 5 on libsvm small line 4", // the first 5: on line 4
	}
	if !reflect.DeepEqual(ds, want) {
		t.Errorf("got  %+v %+v\nwant %+v %+v", ds, ds.Sparse, want, want.Sparse)
	}
	checkCSR(t, ds)

	ds, err = ParseLIBSVM(strings.NewReader(in), "small", ReadOptions{Features: 9})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Cols() != 9 {
		t.Errorf("Features: 9 gave %d columns", ds.Cols())
	}

	dense := want.Sparse.ToDense()
	wantDense := []float64{
		0.5, 0, -2, 0, 0,
		0, 1e-3, 0, 0, 7,
		0, 0, 0, 0, 0,
		0, 0, 0, 0, 3,
		0, -0.25, 0, 0, 0,
	}
	if dense.Rows != 5 || dense.Cols != 5 || !reflect.DeepEqual(dense.Data, wantDense) {
		t.Errorf("ToDense = %+v", dense)
	}
	idx, val := want.Sparse.Row(1)
	if !reflect.DeepEqual(idx, []int32{1, 4}) || !reflect.DeepEqual(val, []float64{1e-3, 7}) {
		t.Errorf("Row(1) = %v %v", idx, val)
	}
	if !reflect.DeepEqual(dense.Row(3), []float64{0, 0, 0, 0, 3}) {
		t.Errorf("Dense.Row(3) = %v", dense.Row(3))
	}
}

func TestParseLabelMapping(t *testing.T) {
	for _, tc := range []struct {
		lo, hi string
	}{
		{"-1", "+1"}, {"-1", "1"}, {"1", "2"}, {"2", "4"}, {"0", "1"}, {"-5", "3"}, {"-2.5", "-0.5"}, {"1e0", "2.0"},
	} {
		// The larger label first, so the mapping cannot depend on order of appearance.
		in := fmt.Sprintf("%s 1:1\n%s 2:1\n%s 3:1\n", tc.hi, tc.lo, tc.lo)
		ds, err := ParseLIBSVM(strings.NewReader(in), "labels", ReadOptions{})
		if err != nil {
			t.Errorf("%s/%s: %v", tc.lo, tc.hi, err)
			continue
		}
		if want := []float64{1, -1, -1}; !reflect.DeepEqual(ds.Labels, want) {
			t.Errorf("%s/%s: labels %v, want %v", tc.lo, tc.hi, ds.Labels, want)
		}
	}
}

func TestParseLongLine(t *testing.T) {
	// A line far longer than the reader's buffer, with CRLF endings.
	var b strings.Builder
	const n = 50000
	b.WriteString("1")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, " %d:%d.5", i, i)
	}
	b.WriteString("\r\n-1 7:1\r\n")
	ds, err := ParseLIBSVM(strings.NewReader(b.String()), "long", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkCSR(t, ds)
	if ds.Rows() != 2 || ds.Cols() != n || ds.Sparse.NNZ() != n+1 {
		t.Fatalf("rows %d cols %d nnz %d", ds.Rows(), ds.Cols(), ds.Sparse.NNZ())
	}
	idx, val := ds.Sparse.Row(0)
	for k := range idx {
		if int(idx[k]) != k || val[k] != float64(k+1)+0.5 {
			t.Fatalf("entry %d: %d:%v", k, idx[k], val[k])
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       string
		features int
		line     int    // 0: a whole-file error
		msg      string // a substring of the message
	}{
		{"label not numeric", "x 1:1\n-1 2:1\n", 0, 1, "invalid label"},
		{"label with colon", "1 1:1\n1:1 2:1\n", 0, 2, "invalid label"},
		{"label NaN", "1 1:1\n\nNaN 2:1\n", 0, 3, "not finite"},
		{"label Inf", "-Inf 2:1\n", 0, 1, "not finite"},
		{"third label", "1 1:1\n-1 2:1\n\n# c\n2 3:1\n3 1:1\n", 0, 5, "third distinct label 2"},
		{"index zero", "1 1:1\n-1 0:1\n", 0, 2, "must be ≥ 1"},
		{"index negative", "1 -2:1\n", 0, 1, "must be ≥ 1"},
		{"index decreasing", "1 1:1\n-1 3:1 2:1\n", 0, 2, "not greater"},
		{"index repeated", "1 1:1\n-1 3:1 3:2\n", 0, 2, "not greater"},
		{"index above dimension", "1 1:1\n-1 4:1\n-1 5:0\n", 4, 3, "exceeds the dimension 4"},
		{"index too large", "1 99999999999:1\n", 0, 1, "too large"},
		{"index garbage", "1 1:1\n-1 a:1\n", 0, 2, "malformed feature index"},
		{"index missing", "1 :1\n", 0, 1, "missing feature index"},
		{"index sign only", "1 -:1\n", 0, 1, "malformed feature index"},
		{"value NaN", "1 1:1\n-1 2:nan\n", 0, 2, "not finite"},
		{"value Inf", "1 1:+Inf\n", 0, 1, "not finite"},
		{"value overflow", "1 1:1e400\n", 0, 1, "out of range"},
		{"value empty", "1 1:1\r\n-1 2:\r\n", 0, 2, "empty value"},
		{"value garbage", "1 1:1\n-1 2:1x\n", 0, 2, "malformed value"},
		{"value double colon", "1 1:1:1\n", 0, 1, "malformed value"},
		{"missing colon", "1 1:1\n-1 2:1 3\n", 0, 2, "malformed token"},
		{"empty file", "", 0, 0, "no samples"},
		{"only comments", "\n# nothing\n   \r\n", 0, 0, "no samples"},
		{"one label", "1 1:1\n1 2:1\n", 0, 0, "only one distinct label"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const file = "bad.svm"
			_, err := ParseLIBSVM(strings.NewReader(tc.in), file, ReadOptions{Features: tc.features})
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.File != file || pe.Line != tc.line || !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("got %+v, want line %d and %q", pe, tc.line, tc.msg)
			}
			prefix := fmt.Sprintf("libsvm %s line %d: ", file, tc.line)
			if tc.line == 0 {
				prefix = fmt.Sprintf("libsvm %s: ", file)
			}
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("message %q does not start with %q", err, prefix)
			}
		})
	}
	if _, err := ParseLIBSVM(strings.NewReader("1 1:1\n-1 2:1\n"), "x", ReadOptions{Features: -1}); err == nil {
		t.Error("negative Features accepted")
	}
	if _, err := ReadLIBSVM("/nonexistent/file.svm", ReadOptions{}); err == nil || !strings.Contains(err.Error(), "/nonexistent/file.svm") {
		t.Errorf("missing file: %v", err)
	}
}

// naiveRow is one line of a LIBSVM file parsed the slow, obvious way.
type naiveRow struct {
	label string
	idx   []int32 // 0-based, nonzero values only
	val   []float64
	max   int // largest 1-based index on the line, zeros included
}

// naiveParse parses a well-formed LIBSVM file with strings.Fields.
func naiveParse(t *testing.T, path string) []naiveRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []naiveRow
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 {
			continue
		}
		r := naiveRow{label: fs[0]}
		for _, tok := range fs[1:] {
			i, v, ok := strings.Cut(tok, ":")
			if !ok {
				t.Fatalf("%s: token %q", path, tok)
			}
			k, err1 := strconv.Atoi(i)
			x, err2 := strconv.ParseFloat(v, 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("%s: token %q", path, tok)
			}
			r.max = max(r.max, k)
			if x != 0 {
				r.idx = append(r.idx, int32(k-1))
				r.val = append(r.val, x)
			}
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestRealDatasets(t *testing.T) {
	for _, tc := range []struct {
		file       string
		rows, cols int
		lo, hi     string // the labels as written
	}{
		{"a1a", 1605, 119, "-1", "+1"},
		{"a9a", 32561, 123, "-1", "+1"},
		{"breast-cancer_scale", 683, 10, "-1", "1"},
		{"mushrooms", 8124, 112, "1", "2"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := testenv.Dataset(t, tc.file)
			ds, err := ReadLIBSVM(path, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			checkCSR(t, ds)
			if ds.Rows() != tc.rows || ds.Cols() != tc.cols || ds.Source != path {
				t.Fatalf("%d×%d from %s, want %d×%d", ds.Rows(), ds.Cols(), ds.Source, tc.rows, tc.cols)
			}
			naive := naiveParse(t, path)
			if len(naive) != tc.rows {
				t.Fatalf("naive count %d rows", len(naive))
			}
			nnz, maxIdx, nlo, nhi := 0, 0, 0, 0
			for j, r := range naive {
				nnz += len(r.idx)
				maxIdx = max(maxIdx, r.max)
				want := 0.0
				switch r.label {
				case tc.lo:
					nlo++
					want = -1
				case tc.hi:
					nhi++
					want = 1
				default:
					t.Fatalf("line %d: label %q", j+1, r.label)
				}
				idx, val := ds.Sparse.Row(j)
				if ds.Labels[j] != want || !slicesEqual(idx, r.idx) || !slicesEqual(val, r.val) {
					t.Fatalf("row %d differs from the naive parse", j)
				}
			}
			var neg int
			for _, y := range ds.Labels {
				if y < 0 {
					neg++
				}
			}
			if nnz != ds.Sparse.NNZ() || maxIdx != ds.Cols() || neg != nlo || ds.Rows()-neg != nhi {
				t.Errorf("nnz %d (naive %d), d %d (naive %d), −1: %d (naive %d)", ds.Sparse.NNZ(), nnz, ds.Cols(), maxIdx, neg, nlo)
			}
			t.Logf("%s: %d×%d, nnz %d, %d negative, %d positive", tc.file, ds.Rows(), ds.Cols(), nnz, nlo, nhi)
		})
	}
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestA1AFeatures(t *testing.T) {
	path := testenv.Dataset(t, "a1a")
	ds, err := ReadLIBSVM(path, ReadOptions{Features: 123})
	if err != nil {
		t.Fatal(err)
	}
	checkCSR(t, ds)
	if ds.Rows() != 1605 || ds.Cols() != 123 {
		t.Errorf("a1a with Features 123: %d×%d", ds.Rows(), ds.Cols())
	}

	// The first line with an index above 100, found independently.
	wantLine := 0
	for j, r := range naiveParse(t, path) { // a1a has no blank lines: row j is line j+1
		if r.max > 100 {
			wantLine = j + 1
			break
		}
	}
	_, err = ReadLIBSVM(path, ReadOptions{Features: 100})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != wantLine || pe.File != path || !strings.Contains(pe.Msg, "exceeds the dimension 100") {
		t.Errorf("Features 100: got %v, want an error at line %d", err, wantLine)
	}
	t.Logf("%v", err)
}

func BenchmarkReadA9A(b *testing.B) {
	path := testenv.Dataset(b, "a9a")
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadLIBSVM(path, ReadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseAllocs(t *testing.T) {
	// Allocation must not grow with the number of tokens: the entry arrays
	// double, and tokens are parsed in place.
	var b strings.Builder
	for j := range 20000 {
		fmt.Fprintf(&b, "%d 1:0.5 %d:1 %d:-2.25e-3\n", 2*(j%2)-1, 2+j%50, 60+j%7)
	}
	in := b.String()
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := ParseLIBSVM(strings.NewReader(in), "allocs", ReadOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 100 {
		t.Errorf("%v allocations to parse 60 000 entries", allocs)
	}
}

// The dimension of a LIBSVM file is its largest feature index; the reader
// names the file and line that set it (ColsFrom), for the in-memory and the
// streaming reader alike, and keeps it through shards; a fixed dimension
// has none.
func TestLIBSVMColsFrom(t *testing.T) {
	text := "+1 1:1 5:2\n-1 2147483647:1\n+1 3:1 9:1\n"
	ds, err := ParseLIBSVM(strings.NewReader(text), "huge.svm", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := "feature index 2147483647 on libsvm huge.svm line 2"
	if ds.Cols() != 2147483647 || ds.ColsFrom != want {
		t.Fatalf("d = %d from %q, want 2147483647 from %q", ds.Cols(), ds.ColsFrom, want)
	}
	if s := ds.Slice(1, 3); s.ColsFrom != want {
		t.Fatalf("a slice says %q", s.ColsFrom)
	}
	info, err := StreamLIBSVM(strings.NewReader(text), "huge.svm", ReadOptions{}, 2, func(*Block) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if info.Cols != 2147483647 || info.ColsFrom != want {
		t.Fatalf("stream: d = %d from %q", info.Cols, info.ColsFrom)
	}
	small, err := ParseLIBSVM(strings.NewReader("+1 1:1 5:2\n-1 7:1\n+1 3:1\n"), "s.svm", ReadOptions{})
	if err != nil || small.ColsFrom != "feature index 7 on libsvm s.svm line 2" {
		t.Fatalf("%v: %q", err, small.ColsFrom)
	}
	fixed, err := ParseLIBSVM(strings.NewReader("+1 1:1\n-1 3:1\n"), "f.svm", ReadOptions{Features: 10})
	if err != nil || fixed.ColsFrom != "" {
		t.Fatalf("%v: fixed dimension from %q", err, fixed.ColsFrom)
	}
}
