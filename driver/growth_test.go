package driver

import (
	"context"
	"fmt"
	"os"
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
// ("bound") is one full a9a gradient in one goroutine: the work of an
// iteration, which does not grow with n; on c cores the ideal is bound/c.
// n = 4096 runs only with EFMPI_BENCH_LARGE=1: the in-process world's setup
// makes n² channels (about 110 s at n = 4096 on the shared 2-core machine).
func BenchmarkGrowthRanks(b *testing.B) {
	path := testenv.Dataset(b, "a9a")
	ns := []int{1, 4, 16, 64, 256, 1024}
	if os.Getenv("EFMPI_BENCH_LARGE") == "1" {
		ns = append(ns, 4096)
	}
	for _, n := range ns {
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
			var perIter float64
			for b.Loop() {
				if _, err := RunInproc(context.Background(), sh, Options{}); err != nil {
					b.Fatal(err)
				}
				run, err := hdf5io.Open(spec.Output)
				if err != nil {
					b.Fatal(err)
				}
				ts := run.Floats["time_s"]
				perIter = ts[len(ts)-1] / float64(iters) * 1e9
			}
			b.ReportMetric(perIter, "ns/iter")
		})
	}
	b.Run("bound", func(b *testing.B) {
		ds, err := datasets.ReadLIBSVM(path, datasets.ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		p, err := problems.NewLogReg(ds, 0.1)
		if err != nil {
			b.Fatal(err)
		}
		x, g := make([]float64, p.Dim()), make([]float64, p.Dim())
		const reps = 50 // make bench runs this curve with -benchtime 1x
		var perIter float64
		for b.Loop() {
			start := time.Now()
			for range reps {
				p.Grad(g, x)
			}
			perIter = float64(time.Since(start).Nanoseconds()) / reps
		}
		b.ReportMetric(perIter, "ns/iter")
	})
}
