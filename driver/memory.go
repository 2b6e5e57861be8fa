package driver

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
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
