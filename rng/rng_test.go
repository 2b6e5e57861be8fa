package rng

import "testing"

// The purposes are part of the reproducibility contract: distinct, and at
// the documented values (a change alters every trajectory that uses one).
func TestPurposes(t *testing.T) {
	want := map[Purpose]Purpose{Synthetic: 1, Shuffle: 2, InitPoint: 3, Polynomial: 4, Compressor: 5,
		Minibatch: 6, Dirichlet: 7, HoldOut: 8, NNInit: 9, SparseRows: 11, SparseModel: 12}
	seen := map[Purpose]bool{}
	for p, v := range want {
		if p != v {
			t.Errorf("purpose %d, documented as %d", p, v)
		}
		if seen[p] {
			t.Errorf("purpose %d used twice", p)
		}
		seen[p] = true
	}
	if len(seen) != len(want) {
		t.Fatalf("%d distinct purposes, want %d", len(seen), len(want))
	}
	a, _ := New(1, NNInit, 0)
	b, _ := New(1, HoldOut, 0)
	if a.Uint64() == b.Uint64() {
		t.Fatal("two purposes give the same stream")
	}
}
