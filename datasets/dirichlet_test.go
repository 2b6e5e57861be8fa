package datasets

import (
	"math"
	"slices"
	"testing"
)

func twoClassLabels(m int) []float64 {
	l := make([]float64, m)
	for i := range l {
		l[i] = float64(2*(i%3%2) - 1) // −1, +1, −1, −1, +1, −1, …
	}
	return l
}

// Shards of a Dirichlet split partition the samples, are the same for the
// same seed, differ for another, and every rank gets a sample.
func TestDirichletPartition(t *testing.T) {
	ds := tagged(300)
	for _, shuffle := range []bool{false, true} {
		opts := ShardOptions{Split: SplitDirichlet, Alpha: 0.3, Seed: 4, Shuffle: shuffle}
		seen := map[int]int{}
		total := 0
		for r := range 5 {
			s, err := Shard(ds, 5, r, opts)
			if err != nil {
				t.Fatal(err)
			}
			if s.Rows() == 0 {
				t.Errorf("rank %d is empty", r)
			}
			total += s.Rows()
			for _, o := range origins(t, s) {
				seen[o]++
			}
			again, _ := Shard(ds, 5, r, opts)
			if !slices.Equal(origins(t, again), origins(t, s)) {
				t.Errorf("rank %d: not deterministic", r)
			}
		}
		if total != 300 || len(seen) != 300 {
			t.Errorf("shuffle %v: %d rows, %d distinct samples", shuffle, total, len(seen))
		}
	}
	a, _ := DirichletOwners(ds.Labels, nil, 5, 0.3, 4)
	b, _ := DirichletOwners(ds.Labels, nil, 5, 0.3, 5)
	if slices.Equal(a, b) {
		t.Error("seeds 4 and 5 give the same split")
	}
	if _, err := DirichletOwners(ds.Labels, nil, 5, 0, 1); err == nil {
		t.Error("alpha 0 accepted")
	}
	if _, err := DirichletOwners(ds.Labels[:4], nil, 5, 1, 1); err == nil {
		t.Error("4 samples for 5 ranks accepted")
	}
}

// The share of one rank in one class follows Dirichlet(α)'s marginal,
// Beta(α, (n−1)α): mean 1/n, variance (1/n)(1 − 1/n)/(nα + 1). Checked over
// 400 seeds on a class of 20000 samples (rounding adds at most 1/20000).
func TestDirichletShareMoments(t *testing.T) {
	const m, n, seeds = 20000, 4, 400
	labels := make([]float64, m) // one class
	for _, alpha := range []float64{0.5, 5} {
		var sum, sum2 float64
		for s := range uint64(seeds) {
			owner, err := DirichletOwners(labels, nil, n, alpha, s)
			if err != nil {
				t.Fatal(err)
			}
			c := 0
			for _, o := range owner {
				if o == 0 {
					c++
				}
			}
			p := float64(c) / m
			sum += p
			sum2 += p * p
		}
		mean := sum / seeds
		v := sum2/seeds - mean*mean
		wantV := (1.0 / n) * (1 - 1.0/n) / (n*alpha + 1)
		// standard error of the mean is √(wantV/seeds); allow 4 of them
		if math.Abs(mean-1.0/n) > 4*math.Sqrt(wantV/seeds) {
			t.Errorf("α = %g: mean share %.4f, want %.4f", alpha, mean, 1.0/n)
		}
		if math.Abs(v-wantV) > 0.25*wantV {
			t.Errorf("α = %g: share variance %.5f, want %.5f", alpha, v, wantV)
		}
	}
}

// Small α concentrates each class on few ranks; large α spreads it evenly.
func TestDirichletHeterogeneity(t *testing.T) {
	labels := twoClassLabels(6000)
	classes := Classes(labels)
	spread := func(alpha float64) float64 { // mean over classes of the largest rank share
		owner, err := DirichletOwners(labels, nil, 8, alpha, 1)
		if err != nil {
			t.Fatal(err)
		}
		var total float64
		for _, c := range classes {
			count := make([]float64, 8)
			size := 0.0
			for k, o := range owner {
				if labels[k] == c {
					count[o]++
					size++
				}
			}
			total += slices.Max(count) / size
		}
		return total / float64(len(classes))
	}
	if s := spread(0.05); s < 0.5 {
		t.Errorf("α = 0.05: largest share %.2f, want most of a class on one rank", s)
	}
	if s := spread(1000); s > 0.15 {
		t.Errorf("α = 1000: largest share %.2f, want about 1/8", s)
	}
	counts := LabelCounts(&Dataset{Labels: []float64{1, -1, 1, 1}}, classes)
	if !slices.Equal(counts, []int64{1, 3}) {
		t.Errorf("LabelCounts %v", counts)
	}
}
