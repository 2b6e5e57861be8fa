// Package rng derives the independent, reproducible random streams a run uses.
// Every random quantity in efmpi comes from a stream named by (seed, purpose,
// index), so it does not depend on which rank, process or launcher draws it: the
// same seed gives the same bits in-process, over TCP, under mpirun or Slurm.
package rng

import "math/rand/v2"

// Purpose separates the streams drawn from one seed.
type Purpose uint64

// The purposes of the random streams. Values are part of the reproducibility
// contract: changing one changes every trajectory that uses it.
const (
	Synthetic  Purpose = 1 // synthetic data: index = row
	Shuffle    Purpose = 2 // sample shuffle before sharding: index = 0
	InitPoint  Purpose = 3 // x^0 ~ N(0, σ0² I): index = 0
	Polynomial Purpose = 4 // polynomial coefficients a_i, b_i: index = client i
	Compressor Purpose = 5 // rand-k coordinates: index = rank
	Minibatch  Purpose = 6 // minibatch sampling: index = rank
	Dirichlet  Purpose = 7 // Dirichlet(α) label split: index = attempt
	HoldOut    Purpose = 8 // the test samples held out by [data] test_fraction: index = 0
	NNInit     Purpose = 9 // network parameters (Kaiming normal, kind = "nn"): index = 0
	// SparseRows and SparseModel are the synthetic-sparse data: row j's columns,
	// values and label noise (index = j), and the planted model w* (index = 0).
	SparseRows  Purpose = 11
	SparseModel Purpose = 12
)

// New returns the stream for (seed, purpose, index): a PCG generator whose state
// can be saved with MarshalBinary (for checkpoints) via the returned source.
func New(seed uint64, p Purpose, index uint64) (*rand.Rand, *rand.PCG) {
	src := rand.NewPCG(seed, uint64(p)<<48^index)
	return rand.New(src), src
}
