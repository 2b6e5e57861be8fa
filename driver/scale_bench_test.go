package driver

import (
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
)

// BenchmarkPrepareA9A4096 is the setup of an a9a job with 4096 in-process
// ranks and the ef21-theory step (every L_i and the global L by Lanczos).
func BenchmarkPrepareA9A4096(b *testing.B) {
	spec := Spec{Problem: "logreg", Lambda: 0.1, Source: SourceLIBSVM, DataPath: testenv.Dataset(b, "a9a"),
		Split: "contiguous", Method: algorithms.EF21, Compressor: "top-k", K: 1, Rule: algorithms.RuleEF21Theory,
		Factor: 1, X0: "normal", Sigma0: 1, Iterations: 200, Seed: 1, LogEvery: 100, Downlink: "sparse"}
	var sh *Shared
	for b.Loop() {
		var err error
		if sh, err = Prepare(spec, 4096); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/1e6, "MB-live")
	runtime.KeepAlive(sh)
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLoad compares loading the same data from LIBSVM text (parse) and
// from the HDF5 CSR format (one process, every row): a9a, and 2·10⁵ rows of
// synthetic-sparse data with full-precision values (d = 10⁵, 20 per row).
func BenchmarkLoad(b *testing.B) {
	dir := b.TempDir()
	a9a := testenv.Dataset(b, "a9a")
	full, err := datasets.ReadLIBSVM(a9a, datasets.ReadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	a9aH5 := filepath.Join(dir, "a9a.h5")
	writeCSR(b, full, a9aH5)
	g := datasets.SparseSynthetic{M: 200000, D: 100000, NNZ: 20, Exponent: 1, Noise: 0.05, Seed: 1}
	rows := make([]int, g.M)
	for i := range rows {
		rows[i] = i
	}
	syn, err := g.Rows(rows)
	if err != nil {
		b.Fatal(err)
	}
	synSVM, synH5 := filepath.Join(dir, "syn.svm"), filepath.Join(dir, "syn.h5")
	f, err := os.Create(synSVM)
	if err != nil {
		b.Fatal(err)
	}
	if err := datasets.WriteLIBSVM(f, syn); err != nil {
		b.Fatal(err)
	}
	f.Close()
	writeCSR(b, syn, synH5)
	for _, c := range []struct{ name, source, path string }{
		{"a9a/libsvm", SourceLIBSVM, a9a}, {"a9a/hdf5", SourceHDF5, a9aH5},
		{"synthetic-200k/libsvm", SourceLIBSVM, synSVM}, {"synthetic-200k/hdf5", SourceHDF5, synH5},
	} {
		b.Run(c.name, func(b *testing.B) {
			spec := Spec{Source: c.source, DataPath: c.path, Split: "contiguous"}
			var counts hdf5io.ReadCounts
			c0 := cpuTime()
			for b.Loop() {
				if _, err := loadBlock(spec, 1, 0, 1, &counts); err != nil {
					b.Fatal(err)
				}
			}
			// CPU time (user + system, whole process) per load: steadier
			// than wall time on a shared machine.
			b.ReportMetric(float64(cpuTime()-c0)/1e6/float64(b.N), "cpu-ms/op")
		})
	}
}
