package driver

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
	"github.com/efmpi/efmpi/problems"
)

// BenchmarkGrowthRanks is the growth curve of `make bench` against n: one
// ||EF21|| top-1 iteration on a9a split over n in-process ranks (the whole
// dataset's gradient every iteration, whatever n), log_every = K, reported
// as ns/iter from the run file's time_s (setup excluded). Its bound
// (ns/bound) is one full a9a gradient in one goroutine, timed just before
// and after the run: the work of an iteration, which does not grow with n;
// on c cores the ideal is bound/c.
func BenchmarkGrowthRanks(b *testing.B) {
	path := testenv.Dataset(b, "a9a")
	for _, n := range []int{1, 4, 16, 64, 256, 1024, 4096} {
		iters := max(20, min(300, 20000/n))
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			spec := Spec{Problem: "logreg", Lambda: 0.1, Source: "libsvm", DataPath: path, Split: "contiguous",
				Method: algorithms.EF21, Normalize: true, Compressor: "top-k", K: 1,
				Rule: algorithms.RuleNormTheory, Gamma0: 1, X0: "zeros", Iterations: iters, Seed: 1,
				LogEvery: iters, FlushEvery: 100, Downlink: "sparse", Overwrite: true,
				Output: filepath.Join(b.TempDir(), "run.h5")}
			sh, err := Prepare(spec, n)
			if err != nil {
				b.Fatal(err)
			}
			var perIter, bound, cpu float64
			for b.Loop() {
				bound = gradBound(b, path) / 2
				c0 := cpuTime()
				if _, err := RunInproc(context.Background(), sh, Options{}); err != nil {
					b.Fatal(err)
				}
				cpu = float64(cpuTime()-c0) / float64(iters)
				bound += gradBound(b, path) / 2
				run, err := hdf5io.Open(spec.Output)
				if err != nil {
					b.Fatal(err)
				}
				ts := run.Floats["time_s"]
				perIter = ts[len(ts)-1] / float64(iters) * 1e9
			}
			b.ReportMetric(perIter, "ns/iter")
			// CPU time of the whole run (user + system, every core; setup
			// included) per iteration: steadier than wall time on a shared
			// machine.
			b.ReportMetric(cpu, "cpu-ns/iter")
			b.ReportMetric(bound, "ns/bound")
		})
	}
}

// gradBound returns the ns of one full a9a gradient in one goroutine (the
// mean of 20), measured right before and after each run so that the bound
// sees the run's machine load.
func gradBound(b *testing.B, path string) float64 {
	b.Helper()
	if boundObj == nil {
		ds, err := datasets.ReadLIBSVM(path, datasets.ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if boundObj, err = problems.NewLogReg(ds, 0.1); err != nil {
			b.Fatal(err)
		}
	}
	x, g := make([]float64, boundObj.Dim()), make([]float64, boundObj.Dim())
	const reps = 20
	start := time.Now()
	for range reps {
		boundObj.Grad(g, x)
	}
	return float64(time.Since(start).Nanoseconds()) / reps
}

var boundObj *problems.LogReg
