package datasets

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseLIBSVM checks that ParseLIBSVM never panics, that its errors are
// *ParseError values naming the file, and that what it accepts satisfies the CSR
// invariants and equals an independent naive parse.
func FuzzParseLIBSVM(f *testing.F) {
	for _, s := range []string{
		"+1 1:0.5 3:-2\n-1 2:1e-3 4:0 5:7\n",
		"1 2:1\r\n2 1:1 3:1\r\n",
		"# c\n\n-1 1:1 # x\n1\n",
		"2 1:-0.25\n4 10:1e-300\n",
		"1 1:1\n-1 2:1\n3 1:1\n",
		"1 0:1\n-1 1:1\n",
		"1 3:1 2:1\n-1 1:1\n",
		"nan 1:1\n",
		"1 1:inf\n-1 1:1\n",
		"1 1:\n",
		"1 1\n",
		"1 :1\n",
		"1 2147483648:1\n-1 1:1\n",
		"",
		"1 1:1\n1 2:1\n",
		"-1 1:0x1p-3 2:1_0\n1 3:-0\n",
	} {
		f.Add([]byte(s), 0)
		f.Add([]byte(s), 3)
	}
	f.Fuzz(func(t *testing.T, in []byte, features int) {
		if features < 0 {
			features = -features
		}
		features %= 1 << 16
		ds, err := ParseLIBSVM(bytes.NewReader(in), "fuzz", ReadOptions{Features: features})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != "fuzz" {
				t.Fatalf("error %v is not a *ParseError for the file", err)
			}
			return
		}
		if err := validCSR(ds); err != nil {
			t.Fatal(err)
		}
		if want := naiveParseBytes(t, in, features); !reflect.DeepEqual(ds, want) {
			t.Fatalf("parse differs from the naive parse:\n got %+v %+v\nwant %+v %+v", ds, ds.Sparse, want, want.Sparse)
		}
		if features > 0 && ds.Cols() != features {
			t.Fatalf("Features %d gave %d columns", features, ds.Cols())
		}
		var neg, pos bool
		for _, y := range ds.Labels {
			neg = neg || y < 0
			pos = pos || y > 0
		}
		if !neg || !pos {
			t.Fatal("parsed dataset lacks one of the labels")
		}
	})
}

// naiveParseBytes is an independent, slow parser of input ParseLIBSVM accepted:
// strings.Split on lines, strings.Fields on tokens.
func naiveParseBytes(t *testing.T, in []byte, features int) *Dataset {
	t.Helper()
	c := &CSR{Cols: features, RowPtr: []int{0}}
	var raw []float64
	colsLine := 0 // the line whose index first reached the dimension
	for n, line := range strings.Split(string(in), "\n") {
		line, _, _ = strings.Cut(line, "#")
		fs := strings.Fields(line)
		if len(fs) == 0 {
			continue
		}
		y, err := strconv.ParseFloat(fs[0], 64)
		if err != nil {
			t.Fatalf("naive: label %q: %v", fs[0], err)
		}
		raw = append(raw, y)
		for _, tok := range fs[1:] {
			is, vs, _ := strings.Cut(tok, ":")
			i, err1 := strconv.Atoi(is)
			v, err2 := strconv.ParseFloat(vs, 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("naive: token %q", tok)
			}
			if i > c.Cols {
				c.Cols, colsLine = i, n+1
			}
			if v != 0 {
				c.ColIdx = append(c.ColIdx, int32(i-1))
				c.Val = append(c.Val, v)
			}
		}
		c.RowPtr = append(c.RowPtr, len(c.Val))
	}
	c.Rows = len(raw)
	lo := slices.Min(raw)
	labels := make([]float64, len(raw))
	for j, y := range raw {
		labels[j] = 1
		if y == lo {
			labels[j] = -1
		}
	}
	ds := &Dataset{Sparse: c, Labels: labels, Source: "fuzz"}
	if features == 0 && colsLine > 0 { // no feature index at all: nothing set d
		ds.ColsFrom = fmt.Sprintf("feature index %d on libsvm fuzz line %d", c.Cols, colsLine)
	}
	return ds
}
