package datasets

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/efmpi/efmpi/rng"
)

// SplitDirichlet is the ShardOptions.Split of the federated-learning
// standard heterogeneous split: for every class, the shares of the n ranks
// are drawn from Dirichlet(α, …, α) (ShardOptions.Alpha). Small α gives each
// rank few classes; large α approaches an even split of every class.
const SplitDirichlet = "dirichlet"

// maxDirichletDraws bounds the redraws DirichletOwners makes when a draw
// leaves a rank without samples.
const maxDirichletDraws = 100

// DirichletOwners assigns each sample to a rank by a Dirichlet(α) label
// split: for each class (labels in increasing order), the class's samples,
// in the given order, are cut into n consecutive pieces with sizes
// proportional to p ~ Dirichlet(α·1_n) — p drawn as normalised Gamma(α, 1)
// variates from rng.New(seed, rng.Dirichlet, attempt) — the piece ends
// rounded from the cumulative shares. A draw that leaves some rank with no
// sample is redrawn from the next stream (attempt + 1), at most 100 times.
// owner[k] is the rank of order[k] (order nil: the identity).
func DirichletOwners(labels []float64, order []int, n int, alpha float64, seed uint64) ([]int, error) {
	if !(alpha > 0) || math.IsInf(alpha, 0) {
		return nil, fmt.Errorf("dirichlet split: alpha = %v must be a positive finite number", alpha)
	}
	m := len(labels)
	if order == nil {
		order = make([]int, m)
		for i := range order {
			order[i] = i
		}
	}
	if m < n {
		return nil, fmt.Errorf("dirichlet split: %d samples cannot be split among %d ranks", m, n)
	}
	classes := Classes(labels)
	byClass := make([][]int, len(classes)) // positions in order
	for k, j := range order {
		c, _ := slices.BinarySearch(classes, labels[j])
		byClass[c] = append(byClass[c], k)
	}
	owner := make([]int, m)
	p := make([]float64, n)
	for attempt := range maxDirichletDraws {
		r, _ := rng.New(seed, rng.Dirichlet, uint64(attempt))
		g := distuv.Gamma{Alpha: alpha, Beta: 1, Src: r}
		count := make([]int, n)
		for _, pos := range byClass {
			sum := 0.0
			for i := range p {
				p[i] = g.Rand()
				sum += p[i]
			}
			cum, start := 0.0, 0
			for i := range n {
				cum += p[i] / sum
				end := int(math.Round(cum * float64(len(pos))))
				if i == n-1 {
					end = len(pos)
				}
				end = max(start, min(end, len(pos)))
				for _, k := range pos[start:end] {
					owner[k] = i
				}
				count[i] += end - start
				start = end
			}
		}
		if slices.Min(count) > 0 {
			return owner, nil
		}
	}
	return nil, fmt.Errorf("dirichlet split: alpha = %v left some of the %d ranks without a sample in %d draws (use a larger alpha or fewer ranks)",
		alpha, n, maxDirichletDraws)
}

// Classes returns the distinct labels in increasing order.
func Classes(labels []float64) []float64 {
	c := slices.Clone(labels)
	slices.Sort(c)
	return slices.Compact(c)
}

// LabelCounts returns, for a shard, the number of its samples with each of
// the given classes (labels in increasing order, as Classes returns them).
func LabelCounts(ds *Dataset, classes []float64) []int64 {
	out := make([]int64, len(classes))
	for _, l := range ds.Labels {
		if c, ok := slices.BinarySearch(classes, l); ok {
			out[c]++
		}
	}
	return out
}
