package datasets

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestShardBounds(t *testing.T) {
	for _, tc := range []struct {
		m, n int
		want [][2]int
	}{
		{10, 3, [][2]int{{0, 3}, {3, 6}, {6, 10}}},
		{10, 1, [][2]int{{0, 10}}},
		{4, 4, [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 4}}},
		{11, 4, [][2]int{{0, 2}, {2, 4}, {4, 6}, {6, 11}}},
		{12, 4, [][2]int{{0, 3}, {3, 6}, {6, 9}, {9, 12}}},
	} {
		for r, w := range tc.want {
			if lo, hi := ShardBounds(tc.m, tc.n, r); lo != w[0] || hi != w[1] {
				t.Errorf("ShardBounds(%d, %d, %d) = [%d, %d), want [%d, %d)", tc.m, tc.n, r, lo, hi, w[0], w[1])
			}
		}
	}
}

// tagged returns an m-sample sparse dataset whose row j has the single entry
// (j mod 5, j+1), so a row's origin can be read off its value; labels follow a
// fixed irregular pattern.
func tagged(m int) *Dataset {
	c := &CSR{Rows: m, Cols: 5, RowPtr: make([]int, m+1)}
	labels := make([]float64, m)
	for j := range m {
		c.ColIdx = append(c.ColIdx, int32(j%5))
		c.Val = append(c.Val, float64(j+1))
		c.RowPtr[j+1] = j + 1
		labels[j] = 1
		if j%3 == 0 || j%7 == 0 {
			labels[j] = -1
		}
	}
	return &Dataset{Sparse: c, Labels: labels, Source: "tagged"}
}

// origins returns the original sample index of each row of a shard of tagged.
func origins(t *testing.T, ds *Dataset) []int {
	t.Helper()
	out := make([]int, ds.Rows())
	for r := range out {
		var val []float64
		if ds.Sparse != nil {
			_, val = ds.Sparse.Row(r)
			if len(val) != 1 {
				t.Fatalf("row %d has %d entries", r, len(val))
			}
		} else {
			for _, v := range ds.Dense.Row(r) {
				if v != 0 {
					val = append(val, v)
				}
			}
		}
		out[r] = int(val[0]) - 1
	}
	return out
}

func TestShardPartition(t *testing.T) {
	const m = 103
	base := tagged(m)
	dense := &Dataset{Dense: base.Sparse.ToDense(), Labels: base.Labels, Source: base.Source}
	for _, ds := range []*Dataset{base, dense} {
		for _, opts := range []ShardOptions{
			{},
			{Split: SplitContiguous},
			{Shuffle: true, Seed: 1},
			{Split: SplitLabel},
			{Shuffle: true, Seed: 7, Split: SplitLabel},
		} {
			for _, n := range []int{1, 2, 5, 103} {
				name := fmt.Sprintf("sparse=%v/%+v/n=%d", ds.Sparse != nil, opts, n)
				var all []int
				for rank := range n {
					sh, err := Shard(ds, n, rank, opts)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					lo, hi := ShardBounds(m, n, rank)
					if sh.Rows() != hi-lo || sh.Cols() != 5 || sh.Source != "tagged" {
						t.Fatalf("%s rank %d: %d×%d %q", name, rank, sh.Rows(), sh.Cols(), sh.Source)
					}
					if sh.Sparse != nil {
						checkCSR(t, sh)
					}
					orig := origins(t, sh)
					for r, j := range orig {
						if sh.Labels[r] != ds.Labels[j] {
							t.Fatalf("%s: sample %d has label %v, want %v", name, j, sh.Labels[r], ds.Labels[j])
						}
					}
					all = append(all, orig...)
				}
				seen := make([]int, m)
				for _, j := range all {
					seen[j]++
				}
				for j, c := range seen {
					if c != 1 {
						t.Fatalf("%s: sample %d appears %d times", name, j, c)
					}
				}
				shuffled := false
				for k, j := range all {
					if k != j {
						shuffled = true
					}
				}
				if want := opts.Shuffle || opts.Split == SplitLabel; shuffled != want {
					t.Errorf("%s: reordered %v, want %v", name, shuffled, want)
				}
				if opts.Split == SplitLabel {
					// All −1 first, and stable within a class when not shuffled.
					for k := 1; k < m; k++ {
						a, b := ds.Labels[all[k-1]], ds.Labels[all[k]]
						if a > b || (!opts.Shuffle && a == b && all[k-1] > all[k]) {
							t.Fatalf("%s: order %v", name, all)
						}
					}
				}
			}
		}
	}
}

func TestShardShuffleDeterministic(t *testing.T) {
	ds := tagged(50)
	get := func(seed uint64) []int {
		var all []int
		for rank := range 3 {
			sh, err := Shard(ds, 3, rank, ShardOptions{Shuffle: true, Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, origins(t, sh)...)
		}
		return all
	}
	a, b, c := get(42), get(42), get(43)
	if !reflect.DeepEqual(a, b) {
		t.Error("the same seed gave different shuffles")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("different seeds gave the same shuffle")
	}
	if !reflect.DeepEqual(a, ShufflePerm(50, 42)) {
		t.Error("Shard's shuffle differs from ShufflePerm")
	}
}

func TestShardAliases(t *testing.T) {
	ds := tagged(10)
	sh, err := Shard(ds, 3, 1, ShardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if &sh.Sparse.Val[0] != &ds.Sparse.Val[3] || &sh.Sparse.ColIdx[0] != &ds.Sparse.ColIdx[3] || &sh.Labels[0] != &ds.Labels[3] {
		t.Error("contiguous shard copied the arrays")
	}
	if !reflect.DeepEqual(sh.Sparse.RowPtr, []int{0, 1, 2, 3}) {
		t.Errorf("RowPtr %v", sh.Sparse.RowPtr)
	}
	if cap(sh.Sparse.Val) != 3 || cap(sh.Labels) != 3 {
		t.Error("aliased slices not capacity-capped")
	}
}

func TestShardErrors(t *testing.T) {
	ds := tagged(5)
	for _, tc := range []struct {
		n, rank int
		opts    ShardOptions
		msg     string
	}{
		{0, 0, ShardOptions{}, "ranks 0"},
		{3, -1, ShardOptions{}, "rank -1 out of range"},
		{3, 3, ShardOptions{}, "rank 3 out of range"},
		{3, 0, ShardOptions{Split: "random"}, `unknown split "random"`},
		{6, 0, ShardOptions{}, "5 samples cannot be split among 6 ranks"},
	} {
		_, err := Shard(ds, tc.n, tc.rank, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "tagged") {
			t.Errorf("Shard(n=%d, rank=%d, %+v): error %v, want %q", tc.n, tc.rank, tc.opts, err, tc.msg)
		}
	}
	bad := &Dataset{Labels: []float64{1}, Source: "empty"}
	if _, err := Shard(bad, 1, 0, ShardOptions{}); err == nil {
		t.Error("dataset without a matrix accepted")
	}
}
