package driver

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/efmpi/efmpi/datasets"
)

// vectorsPerRank is about how many d-vectors of float64 one rank holds (x,
// g, g_i, v_i or e_i, the gradient, metric buffers, the last finite x, the
// aggregate, compressor scratch): a generous count, for the memory check.
const vectorsPerRank = 16

// ErrMemory marks a job that needs more memory than the machine has.
var ErrMemory = fmt.Errorf("%w: not enough memory", ErrInvalid)

// availableMemory is the memory this process may still use: MemAvailable of
// /proc/meminfo, lowered to a cgroup v2 limit if there is one. ok is false
// where neither can be read (then nothing is refused).
func availableMemory() (bytes uint64, ok bool) {
	f, err := os.Open("/proc/meminfo")
	if err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, found := strings.CutPrefix(sc.Text(), "MemAvailable:"); found {
				kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				if err == nil {
					bytes, ok = kb<<10, true
				}
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if lim, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
			if used, err := os.ReadFile("/sys/fs/cgroup/memory.current"); err == nil {
				if u, err := strconv.ParseUint(strings.TrimSpace(string(used)), 10, 64); err == nil && u < lim {
					lim -= u
				}
			}
			if !ok || lim < bytes {
				bytes, ok = lim, true
			}
		}
	}
	return bytes, ok
}

// AvailableMemory is the memory this process may still use (MemAvailable,
// lowered to a cgroup v2 limit); ok is false where neither can be read.
func AvailableMemory() (bytes uint64, ok bool) { return availableMemory() }

// checkMemory refuses, before anything of that size is allocated, a job
// whose what (e.g. "d = 2000000000 with 4 ranks") needs about need bytes
// when the machine has less available.
func checkMemory(need float64, what string) error {
	avail, ok := availableMemory()
	if !ok || need <= float64(avail) {
		return nil
	}
	return fmt.Errorf("%w: %s needs about %s, and %s are available; use fewer features or ranks, or a larger machine",
		ErrMemory, what, humanBytes(need), humanBytes(float64(avail)))
}

// CheckMemory refuses a job whose ranksHere ranks in this process (all of
// them for in-process runs, 1 under a launcher) would not fit in the
// available memory. Prepare has checked one rank's worth already.
func (sh *Shared) CheckMemory(ranksHere int) error {
	return checkDimension(sh.Dim, ranksHere, sh.dimFrom)
}

// checkDimension is checkMemory for n ranks of dimension d in this process;
// from, when set, says what set d (datasets.Dataset.ColsFrom).
func checkDimension(d, n int, from string) error {
	what := fmt.Sprintf("dimension d = %d with %d rank(s) in this process", d, n)
	if from != "" {
		what = fmt.Sprintf("dimension d = %d (set by %s) with %d rank(s) in this process", d, from, n)
	}
	return checkMemory(float64(d)*8*vectorsPerRank*float64(n), what)
}

func humanBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", b, units[i])
}

// estimateVectors is how many d-vectors of float64 EstimateMemory counts
// per rank: the peak RSS of one rank of d = 4·10⁶ (40 000 sparse rows, 3
// iterations) was 654 MiB, 27 MiB of it the runtime and 10 MiB the data,
// that is 19.6 vectors of 8d bytes (2026-12-08; the iteration's vectors,
// the evaluation's, the recorder's x_final and the garbage the collector
// has not yet returned); 24 keeps a margin.
const estimateVectors = 24

// RuntimeBytes is what an efmpi process holds besides its data and vectors:
// the Go runtime, the binary's and the HDF5 library's pages, the recorder's
// buffers and the transport's. Measured: the peak RSS of `efmpi run` on the
// polynomial of dimension 10 is 20–30 MiB (2026-12-08, Debian 12, HDF5 1.10);
// this keeps a margin.
const RuntimeBytes = 64 << 20

// MemoryItem is one part of a memory estimate.
type MemoryItem struct {
	What  string
	Bytes float64
}

// MemoryEstimate is the memory one process needs, part by part.
type MemoryEstimate struct {
	// Ranks is how many ranks the process holds (1 under a launcher).
	Ranks int
	Items []MemoryItem
}

// Total is the sum of the parts.
func (m MemoryEstimate) Total() float64 {
	t := 0.0
	for _, it := range m.Items {
		t += it.Bytes
	}
	return t
}

// DataBytes is the memory a data set's arrays take: CSR (row pointers of 8
// bytes, column indices of 4, values of 8) or dense float64 values, and the
// labels.
func DataBytes(ds *datasets.Dataset) float64 {
	if ds == nil {
		return 0
	}
	b := 8 * float64(len(ds.Labels))
	if ds.Sparse != nil {
		b += 8*float64(ds.Sparse.Rows+1) + 12*float64(ds.Sparse.NNZ())
	}
	if ds.Dense != nil {
		b += 8 * float64(ds.Dense.Rows) * float64(ds.Dense.Cols)
	}
	return b
}

// imageBytes is the memory of an image set (a byte per pixel and label).
func imageBytes(im *datasets.Images) float64 {
	if im == nil {
		return 0
	}
	return float64(len(im.Pixels) + len(im.Labels))
}

// EstimateMemory is the memory of a process that holds ranks r0..r0+count−1
// of this job (count = 1 under a launcher, every rank in-process): the
// rows it loads (every row where a test set or the training-set evaluation
// needs them all, as under a launcher too), the test set, a network's image
// files, estimateVectors d-vectors per held rank, and RuntimeBytes. sh must
// hold those ranks (Prepare holds all).
func (sh *Shared) EstimateMemory(r0, count int) MemoryEstimate {
	m := MemoryEstimate{Ranks: count}
	add := func(what string, b float64) {
		if b > 0 {
			m.Items = append(m.Items, MemoryItem{what, b})
		}
	}
	switch {
	case sh.nn != nil:
		add("images: the training and test files, read whole by every process", imageBytes(sh.nn.train)+imageBytes(sh.nn.test))
	case sh.block != nil && wholeData(sh.Spec):
		add(fmt.Sprintf("data: every rank's rows (%d; the test set or the training-set evaluation needs them all)", sh.block.Rows()), DataBytes(sh.block))
	case sh.block != nil:
		rows, b := 0, 0.0
		for r := r0; r < r0+count; r++ {
			if v := r - sh.First; v >= 0 && v < len(sh.views) {
				rows += sh.views[v].Rows()
				b += DataBytes(sh.views[v])
			}
		}
		add(fmt.Sprintf("data: %d row(s) of rank(s) %d..%d", rows, r0, r0+count-1), b)
	case sh.polys != nil:
		add("polynomial coefficients", 16*float64(sh.Dim)*float64(count))
	}
	add("test set", DataBytes(sh.Test))
	add(fmt.Sprintf("vectors: %d d-vectors of float64 per rank, d = %d", estimateVectors, sh.Dim),
		8*estimateVectors*float64(sh.Dim)*float64(count))
	add("runtime: Go, HDF5, recorder and transport buffers", RuntimeBytes)
	return m
}

// HumanBytes prints b in B, KiB, MiB, ... with one decimal.
func HumanBytes(b float64) string { return humanBytes(b) }

// RankRows is rank r's number of samples and of stored values (nonzeros of
// a sparse shard; rows·d of a dense one; pixels of a network's images); ok
// is false where this process does not hold rank r's rows or the problem
// has none (the polynomial).
func (sh *Shared) RankRows(r int) (rows, values int64, ok bool) {
	if sh.nn != nil && r >= 0 && r < len(sh.nn.rows) {
		n := int64(len(sh.nn.rows[r]))
		return n, n * int64(sh.nn.train.C*sh.nn.train.H*sh.nn.train.W), true
	}
	v := r - sh.First
	if v < 0 || v >= len(sh.views) {
		return 0, 0, false
	}
	ds := sh.views[v]
	rows = int64(ds.Rows())
	if ds.Sparse != nil {
		return rows, int64(ds.Sparse.NNZ()), true
	}
	return rows, rows * int64(ds.Cols()), true
}
