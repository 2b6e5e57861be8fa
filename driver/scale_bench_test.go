package driver

import (
	"testing"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/internal/testenv"
)

// BenchmarkPrepareA9A4096 is the setup of an a9a job with 4096 in-process
// ranks and the ef21-theory step (every L_i and the global L by Lanczos).
func BenchmarkPrepareA9A4096(b *testing.B) {
	spec := Spec{Problem: "logreg", Lambda: 0.1, Source: SourceLIBSVM, DataPath: testenv.Dataset(b, "a9a"),
		Split: "contiguous", Method: algorithms.EF21, Compressor: "top-k", K: 1, Rule: algorithms.RuleEF21Theory,
		Factor: 1, X0: "normal", Sigma0: 1, Iterations: 200, Seed: 1, LogEvery: 100, Downlink: "sparse"}
	for b.Loop() {
		if _, err := Prepare(spec, 4096); err != nil {
			b.Fatal(err)
		}
	}
}
