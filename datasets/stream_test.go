package datasets

import (
	"crypto/sha256"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/internal/testenv"
)

// sameRows reports whether a and b hold the same rows bit for bit.
func sameRows(t *testing.T, got, want *Dataset) {
	t.Helper()
	g, w := got.Sparse, want.Sparse
	if g.Rows != w.Rows || g.Cols != w.Cols || !slices.Equal(g.RowPtr, w.RowPtr) || !slices.Equal(g.ColIdx, w.ColIdx) {
		t.Fatalf("structure differs: %d×%d (%d nnz) vs %d×%d (%d nnz)", g.Rows, g.Cols, len(g.Val), w.Rows, w.Cols, len(w.Val))
	}
	for k := range g.Val {
		if math.Float64bits(g.Val[k]) != math.Float64bits(w.Val[k]) {
			t.Fatalf("value %d: %v vs %v", k, g.Val[k], w.Val[k])
		}
	}
	if !slices.Equal(got.Labels, want.Labels) {
		t.Fatal("labels differ")
	}
}

// Reading only some rows of a LIBSVM file, in any order, gives bit for bit
// the rows of the whole file; the count pass finds m and the ±1 labels.
func TestReadLIBSVMRowsMatchesWholeFile(t *testing.T) {
	for _, name := range []string{"a1a", "breast-cancer_scale"} {
		path := testenv.Dataset(t, name)
		full, err := ReadLIBSVM(path, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cnt, ok, err := CountLIBSVM(path)
		m := len(cnt.Labels)
		if err != nil || !ok || m != full.Rows() || !slices.Equal(cnt.Labels, full.Labels) {
			t.Fatalf("%s: CountLIBSVM = %d rows ok=%v err=%v; want %d and the same labels", name, m, ok, err, full.Rows())
		}
		if raw, _ := os.ReadFile(path); cnt.SHA256 != sha256.Sum256(raw) || cnt.Bytes != int64(len(raw)) {
			t.Fatalf("%s: CountLIBSVM's SHA-256 or size is not the file's", name)
		}
		for j := range m { // these files store no explicit zeros
			if int(cnt.Entries[j]) != full.Sparse.RowPtr[j+1]-full.Sparse.RowPtr[j] {
				t.Fatalf("%s row %d: %d tokens counted, %d entries", name, j, cnt.Entries[j], full.Sparse.RowPtr[j+1]-full.Sparse.RowPtr[j])
			}
		}
		r := rand.New(rand.NewPCG(1, 2))
		perm := r.Perm(m)
		for _, rows := range [][]int{{0, 1, 2}, perm[:m/3], {m - 1}, perm} {
			entries := 0
			if len(rows)%2 == 0 { // with and without the capacity hint
				for _, j := range rows {
					entries += int(cnt.Entries[j])
				}
			}
			got, nnz, err := ReadLIBSVMRows(path, ReadOptions{}, m, rows, entries)
			if err != nil {
				t.Fatal(err)
			}
			if nnz != int64(full.Sparse.NNZ()) {
				t.Fatalf("nnz %d, the file stores %d", nnz, full.Sparse.NNZ())
			}
			sameRows(t, got, full.Gather(rows))
			if got.Cols() != full.Cols() {
				t.Fatalf("d = %d, whole file %d", got.Cols(), full.Cols())
			}
		}
	}
}

// A malformed file fails the row-selective read with the same error as the
// whole read, naming the line, even when the bad line is not a kept row.
func TestReadLIBSVMRowsErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.svm")
	os.WriteFile(p, []byte("1 1:1\n-1 2:1\n1 3:x\n"), 0o644)
	_, _, err := ReadLIBSVMRows(p, ReadOptions{}, 3, []int{0}, 0)
	if err == nil || !strings.Contains(err.Error(), "bad.svm line 3") {
		t.Fatalf("err = %v, want line 3 named", err)
	}
	os.WriteFile(p, []byte("1 1:1\n-1 2:1\n3 3:1\n"), 0o644)
	if _, ok, _ := CountLIBSVM(p); ok {
		t.Fatal("CountLIBSVM accepted three labels")
	}
}

// Streaming in small blocks hands out exactly the rows of the whole parse.
func TestStreamLIBSVMBlocks(t *testing.T) {
	path := testenv.Dataset(t, "a1a")
	full, err := ReadLIBSVM(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var parts []*Dataset
	blocks := 0
	info, err := StreamLIBSVM(f, path, ReadOptions{}, 1000, func(b *Block) error {
		blocks++
		if len(b.Val) > 1000+full.Cols() {
			t.Errorf("block of %d entries, chunk 1000", len(b.Val))
		}
		y := slices.Clone(b.RawLabels)
		for i := range y { // a1a's raw labels are already ±1
			if y[i] != 1 && y[i] != -1 {
				t.Fatalf("raw label %v", y[i])
			}
		}
		parts = append(parts, &Dataset{Sparse: &CSR{Rows: len(y), Cols: full.Cols(), RowPtr: slices.Clone(b.RowPtr),
			ColIdx: slices.Clone(b.ColIdx), Val: slices.Clone(b.Val)}, Labels: y})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if info.Rows != full.Rows() || info.Cols != full.Cols() || info.NNZ != int64(full.Sparse.NNZ()) || info.Negative != -1 || info.Positive != 1 {
		t.Fatalf("info %+v, want %d×%d with %d nnz", info, full.Rows(), full.Cols(), full.Sparse.NNZ())
	}
	if want := (full.Sparse.NNZ() + 999) / 1000; blocks < want {
		t.Fatalf("%d blocks, want at least %d", blocks, want)
	}
	sameRows(t, Concat(parts), full)
}

// The plan's rows of every rank are the rows Shard returns (the reference
// implementation of the sharding rules), for every option.
func TestPlanMatchesShard(t *testing.T) {
	ds, err := ReadLIBSVM(testenv.Dataset(t, "a1a"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []ShardOptions{{}, {Shuffle: true, Seed: 3}, {Split: SplitLabel}, {Shuffle: true, Seed: 9, Split: SplitLabel}} {
		n := 7
		p, err := NewPlan(ds.Rows(), n, opts, ds.Labels)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := p.BlockBounds(2, 5)
		block := ds.Gather(p.Rows(lo, hi))
		for r := range n {
			want, err := Shard(ds, n, r, opts)
			if err != nil {
				t.Fatal(err)
			}
			a, b := p.Bounds(r)
			sameRows(t, ds.Gather(p.Rows(a, b)), want)
			if r >= 2 && r < 5 {
				sameRows(t, block.Slice(a-lo, b-lo), want)
			}
		}
	}
	if _, err := NewPlan(3, 4, ShardOptions{}, nil); err == nil || !strings.Contains(err.Error(), "3 samples") {
		t.Fatalf("fewer samples than ranks: err = %v", err)
	}
}

// WriteLIBSVM's text parses back to the same rows bit for bit.
func TestWriteLIBSVMRoundTrip(t *testing.T) {
	g := SparseSynthetic{M: 500, D: 300, NNZ: 9, Exponent: 1, Noise: 0.1, Seed: 4}
	rows := make([]int, g.M)
	for i := range rows {
		rows[i] = i
	}
	ds, err := g.Rows(rows)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := WriteLIBSVM(&b, ds); err != nil {
		t.Fatal(err)
	}
	back, err := ParseLIBSVM(strings.NewReader(b.String()), "rt", ReadOptions{Features: g.D})
	if err != nil {
		t.Fatal(err)
	}
	back.Source = ds.Source
	sameRows(t, back, ds)
}
