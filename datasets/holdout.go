package datasets

import (
	"fmt"
	"math"
	"slices"

	"github.com/efmpi/efmpi/rng"
)

// HoldOut splits ds into a training and a test set: round(fraction·m)
// samples, chosen uniformly without replacement by a Fisher–Yates shuffle
// from rng.New(seed, rng.HoldOut, 0), form the test set; the others, in
// file order, the training set (which is then sharded). Both keep at least
// one sample.
func HoldOut(ds *Dataset, fraction float64, seed uint64) (train, test *Dataset, err error) {
	if err := ds.check(); err != nil {
		return nil, nil, fmt.Errorf("hold out: %w", err)
	}
	m := ds.Rows()
	if !(fraction > 0 && fraction < 1) {
		return nil, nil, fmt.Errorf("hold out %s: test fraction %v must lie in (0, 1)", ds.Source, fraction)
	}
	t := int(math.Round(fraction * float64(m)))
	if t < 1 || t > m-1 {
		return nil, nil, fmt.Errorf("hold out %s: a test fraction of %v leaves %d of %d samples for testing; need at least one on each side",
			ds.Source, fraction, t, m)
	}
	perm := make([]int, m)
	for i := range perm {
		perm[i] = i
	}
	r, _ := rng.New(seed, rng.HoldOut, 0)
	for i := m - 1; i > 0; i-- {
		j := r.IntN(i + 1)
		perm[i], perm[j] = perm[j], perm[i]
	}
	testRows := slices.Clone(perm[:t])
	slices.Sort(testRows)
	inTest := make([]bool, m)
	for _, j := range testRows {
		inTest[j] = true
	}
	trainRows := make([]int, 0, m-t)
	for j := range m {
		if !inTest[j] {
			trainRows = append(trainRows, j)
		}
	}
	train, test = gatherRows(ds, trainRows), gatherRows(ds, testRows)
	train.Source, test.Source = ds.Source, ds.Source+" (held out)"
	return train, test, nil
}
