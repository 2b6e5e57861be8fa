package datasets

import (
	"math"
	"testing"
)

// The Dirichlet cuts: every shard non-empty, sizes summing to m, and over
// many seeds the mean share of a rank is 1/n with the Dirichlet variance
// (1/n)(1 − 1/n)/(nα + 1) (for m ≫ n the floors barely matter).
func TestDirichletCuts(t *testing.T) {
	const m, n, alpha, seeds = 100000, 4, 0.5, 4000
	var s, s2 float64
	for seed := range uint64(seeds) {
		c, err := DirichletCuts(m, n, alpha, seed)
		if err != nil {
			t.Fatal(err)
		}
		if c[0] != 0 || c[n] != m {
			t.Fatalf("cuts %v", c)
		}
		for r := 0; r < n; r++ {
			if c[r+1] <= c[r] {
				t.Fatalf("seed %d: empty shard %d in %v", seed, r, c)
			}
		}
		f := float64(c[1]-c[0]) / m
		s += f
		s2 += f * f
	}
	mean := s / seeds
	v := s2/seeds - mean*mean
	wantV := (1.0 / n) * (1 - 1.0/n) / (n*alpha + 1)
	if math.Abs(mean-1.0/n) > 5*math.Sqrt(wantV/seeds) || math.Abs(v-wantV) > 0.1*wantV {
		t.Fatalf("share of rank 0: mean %v var %v, want %v and %v", mean, v, 1.0/n, wantV)
	}
	if _, err := DirichletCuts(3, 4, 1, 0); err == nil {
		t.Fatal("3 samples for 4 ranks: no error")
	}
	if _, err := DirichletCuts(30, 4, 0, 0); err == nil {
		t.Fatal("α = 0: no error")
	}
}

// A Dirichlet shard is exactly block [c_r, c_{r+1}) of the label-ordered
// samples (all −1 first, file order within a class), so the shards partition
// the data.
func TestDirichletShardsPartition(t *testing.T) {
	const m, n = 60, 3
	ds := tagged(m)
	var order []int
	for _, neg := range []bool{true, false} {
		for j := range m {
			if (ds.Labels[j] < 0) == neg {
				order = append(order, j)
			}
		}
	}
	cuts, err := DirichletCuts(m, n, 0.3, 5)
	if err != nil {
		t.Fatal(err)
	}
	for r := 0; r < n; r++ {
		s, err := Shard(ds, n, r, ShardOptions{Split: SplitDirichlet, Alpha: 0.3, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		got, want := origins(t, s), order[cuts[r]:cuts[r+1]]
		if len(got) != len(want) {
			t.Fatalf("rank %d: %d samples, want %d", r, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("rank %d: samples %v, want %v", r, got, want)
			}
		}
	}
}
