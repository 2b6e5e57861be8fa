package driver

import (
	"context"
	"slices"
	"testing"

	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
)

// A Dirichlet(α) split on mushrooms: /ranks/label_counts holds, for every
// rank, its number of −1 and +1 samples, counted here from the rank's shard;
// rows sum to /ranks/shard_size, and the split is recorded in the root
// attributes.
func TestDirichletLabelCounts(t *testing.T) {
	spec := baseSpec(t)
	spec.Source, spec.DataPath, spec.Features = "libsvm", testenv.Dataset(t, "mushrooms"), 0
	spec.Split, spec.SplitAlpha, spec.Iterations, spec.LogEvery = "dirichlet", 0.2, 10, 5
	const n = 6
	sh, err := Prepare(spec, n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := RunInproc(context.Background(), sh, Options{}); err != nil {
		t.Fatal(err)
	}
	run, err := hdf5io.Open(spec.Output)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(run.Classes, []float64{-1, 1}) || len(run.LabelCounts) != n {
		t.Fatalf("classes %v, %d rows", run.Classes, len(run.LabelCounts))
	}
	full, err := datasets.ReadLIBSVM(spec.DataPath, datasets.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for r := range n {
		s, err := datasets.Shard(full, n, r, datasets.ShardOptions{Split: "dirichlet", Alpha: 0.2, Seed: spec.Seed})
		if err != nil {
			t.Fatal(err)
		}
		var neg, pos int64
		for _, l := range s.Labels {
			if l < 0 {
				neg++
			} else {
				pos++
			}
		}
		if got := run.LabelCounts[r]; got[0] != neg || got[1] != pos || neg+pos != run.ShardSizes[r] {
			t.Errorf("rank %d: file %v, shard has %d/%d, shard_size %d", r, got, neg, pos, run.ShardSizes[r])
		}
		total += neg + pos
	}
	if total != int64(full.Rows()) || run.Attrs["split"] != "dirichlet" || run.Attrs["dirichlet_alpha"] != 0.2 {
		t.Errorf("total %d of %d, split %v α %v", total, full.Rows(), run.Attrs["split"], run.Attrs["dirichlet_alpha"])
	}
}
