// Package algorithms holds the error-feedback methods of SPEC §3 (EF21, ||EF21||,
// EF21-SGDM, ||EF21-SGDM||, EF14 and the special cases that fall out of them),
// their compressors (§2) and step-size rules (§4), written as pure deterministic
// state machines: a Worker turns a local gradient into a sparse message, a Server
// aggregates messages in rank order and every rank applies the aggregate and the
// step to its replica of x and g. There are no goroutines, sockets, files or
// clocks here, so the same code runs in-process, over TCP, under mpirun or Slurm,
// and in a unit test that passes messages by hand.
package algorithms

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/efmpi/efmpi/sparse"
)

// BitsPerValue is the paper's convention for communication cost: 32 bits per
// transmitted value, indices not counted.
const BitsPerValue = 32

// Compressor is a (possibly randomised) map C: R^d → R^d whose output is sparse.
// Implementations reuse their scratch space and do not allocate in Compress once
// warmed up for a dimension.
type Compressor interface {
	// Name is the config name: "top-k", "rand-k", "sign" or "identity".
	Name() string
	// Compress writes C(v) into out, reusing out's storage. Indices in out are
	// strictly increasing.
	Compress(out *sparse.Vector, v []float64)
	// Alpha is the contraction parameter for dimension d:
	// ‖C(v)−v‖² ≤ (1−α)‖v‖² (in expectation for rand-k; a lower bound for sign).
	Alpha(d int) float64
	// Bits is the paper-convention cost of sending msg (a message Compress made).
	Bits(msg *sparse.Vector) int64
}

// NewCompressor returns the compressor of the given config name. k is used by
// top-k and rand-k; rng is the rank's own stream, used by rand-k only.
func NewCompressor(name string, k, d int, rng *rand.Rand) (Compressor, error) {
	switch name {
	case "top-k", "rand-k":
		if k < 1 || k > d {
			return nil, fmt.Errorf("compressor %s: k = %d must be in [1, d = %d]", name, k, d)
		}
		if name == "top-k" {
			return NewTopK(k), nil
		}
		if rng == nil {
			return nil, fmt.Errorf("compressor rand-k: no random stream given")
		}
		return NewRandK(k, rng), nil
	case "sign":
		return Sign{}, nil
	case "identity":
		return Identity{}, nil
	}
	if c, ok, err := newRegistered(name, k, d, rng); ok { // registry.go
		return c, err
	}
	return nil, fmt.Errorf("unknown compressor %q (want one of %v)", name, CompressorNames())
}

// TopK keeps the k entries of largest magnitude, ties broken by the smaller
// index, and emits them in increasing index order. It runs in O(d) with one
// pass over v in the common case:
//
//   - k = 1 is a scan for the first entry of largest magnitude.
//   - Otherwise, for large d, the magnitudes of a fixed strided sample of v
//     give a threshold τ a little below the expected k-th largest magnitude;
//     one pass collects, in index order, every entry whose magnitude bits are
//     ≥ τ's (the bits of |x| order like |x| itself, NaN above +Inf). If there
//     are at least k candidates, they hold the whole top k and every entry
//     tied with the k-th largest, so the rest of the work is on them alone;
//     otherwise (an unlucky sample) every entry is a candidate.
//   - A quickselect on the candidates' magnitudes finds the k-th largest t;
//     one pass over the candidates in index order keeps every entry above t
//     and the first entries equal to t until k are kept: exactly the
//     tie-breaking rule, with increasing indices and no sort.
//
// The sample only decides how much work is done, never which entries are
// kept, so the result is the naive sort's on every input.
type TopK struct {
	K      int
	cand   []int32   // candidate indices, increasing
	mags   []float64 // candidates' magnitudes, in the order of cand
	keys   []float64 // candidates' magnitudes, permuted by the selection
	sample []float64 // the sample's magnitudes
}

// NewTopK returns a top-k compressor.
func NewTopK(k int) *TopK { return &TopK{K: k} }

// Name implements Compressor.
func (c *TopK) Name() string { return "top-k" }

// Alpha implements Compressor: k/d.
func (c *TopK) Alpha(d int) float64 { return math.Min(1, float64(c.K)/float64(d)) }

// Bits implements Compressor: 32 bits per kept value.
func (c *TopK) Bits(msg *sparse.Vector) int64 { return BitsPerValue * int64(msg.Len()) }

// magnitude is the selection key: |x|, with NaN ranked equal to +Inf so that
// a non-finite gradient reaches the server and is detected there.
func magnitude(x float64) float64 {
	if x != x {
		return math.Inf(1)
	}
	return math.Abs(x)
}

const (
	absMask = 1<<63 - 1 // clears the sign bit: bits(|x|)
	infBits = 0x7FF0000000000000
	// topkSample is the sample size of the threshold; below topkSampleMin
	// entries every entry is a candidate.
	topkSample    = 4096
	topkSampleMin = 8 * topkSample
)

// Compress implements Compressor.
func (c *TopK) Compress(out *sparse.Vector, v []float64) {
	d := len(v)
	out.Reset(d)
	k := c.K
	if k >= d {
		for i, x := range v {
			out.Append(int32(i), x)
		}
		return
	}
	if k == 1 {
		i := argmaxMagnitude(v)
		out.Append(int32(i), v[i])
		return
	}
	if cap(c.cand) < d {
		c.cand = make([]int32, d)
		c.keys = make([]float64, d)
	}
	n := 0
	if d >= topkSampleMin {
		if tb := c.threshold(v, k); tb > 0 {
			n = c.collectAtLeast(v, tb)
		}
	}
	if n < k {
		n = d
		c.growMags(d)
		for i, x := range v {
			c.cand[i], c.mags[i] = int32(i), magnitude(x)
		}
	}
	cand, mags := c.cand[:n], c.mags[:n]
	keys := c.keys[:n]
	copy(keys, mags)
	t := selectDescending(keys, k-1)
	above := 0
	for _, m := range mags {
		if m > t {
			above++
		}
	}
	ties := k - above // entries equal to t to keep, smallest indices first
	for j, i := range cand {
		m := mags[j]
		if m > t {
			out.Append(i, v[i])
		} else if m == t && ties > 0 {
			out.Append(i, v[i])
			ties--
		}
	}
}

// growMags makes c.mags at least n long, keeping its contents (it grows
// with the largest candidate count seen, so a warmed-up compressor
// allocates nothing).
func (c *TopK) growMags(n int) {
	if len(c.mags) < n {
		m := make([]float64, max(n, 2*len(c.mags)))
		copy(m, c.mags)
		c.mags = m
	}
}

// threshold returns the magnitude bits of the sample's entry of descending
// rank r, where r leaves a margin of about four standard deviations plus
// eight above the k·s/d entries expected above the k-th largest magnitude;
// 0 when that rank falls outside the sample.
func (c *TopK) threshold(v []float64, k int) uint64 {
	d := len(v)
	if cap(c.sample) < topkSample {
		c.sample = make([]float64, topkSample)
	}
	s := c.sample[:topkSample]
	stride := d / topkSample
	for j := range s {
		s[j] = magnitude(v[j*stride+stride/2])
	}
	e := float64(k) * topkSample / float64(d)
	r := int(e + 4*math.Sqrt(e) + 8)
	if r >= topkSample {
		return 0
	}
	return math.Float64bits(selectDescending(s, r))
}

// collectAtLeast writes into c.cand, in increasing order, the index of every
// entry of v whose magnitude bits are at least tb > 0, and into c.mags their
// magnitudes (magnitude's key), and returns their number. NaN's bits exceed
// +Inf's, so NaN is always collected. Blocks of sixteen holding no such
// entry are skipped by one test (a threshold from the sample leaves most
// blocks empty): collectAbove16 with AVX2, else nextBlockAbove; in the
// others the Go loop writes every index and advances the count by the
// comparison's result, without a data-dependent branch.
func (c *TopK) collectAtLeast(v []float64, tb uint64) int {
	cand := c.cand[:len(v)]
	full := len(v) &^ 15
	n, i := 0, 0
	c.growMags(64)
	for i < full {
		c.growMags(n + 16)
		done, m, ok := collectAsm(cand, c.mags, n, v[i:full], i, tb)
		if !ok {
			break
		}
		i, n = i+done, m
	}
	for ; i < full; i += 16 {
		if i = nextBlockAbove(v[:full], i, tb-1); i == full {
			break
		}
		c.growMags(n + 16)
		n = collectBlock(cand, c.mags, n, v[i:i+16:i+16], i, tb)
	}
	for ; i < len(v); i++ {
		c.growMags(n + 1)
		cand[n], c.mags[n] = int32(i), magnitude(v[i])
		n += b2i(math.Float64bits(v[i])&absMask >= tb)
	}
	return n
}

// collectBlock is collectAtLeast's Go pass over one block x of sixteen
// entries starting at index off, appending to cand[:n] and mags[:n] (room
// for sixteen more); it returns the new count.
func collectBlock(cand []int32, mags []float64, n int, x []float64, off int, tb uint64) int {
	x = x[:16]
	for q, y := range x {
		// a slot is overwritten by the next entry when this one is not kept
		cand[n], mags[n] = int32(off+q), magnitude(y)
		n += b2i(math.Float64bits(y)&absMask >= tb)
	}
	return n
}

// b2i is 1 for true and 0 for false (compiled to a SETcc).
func b2i(b bool) int {
	var i int
	if b {
		i = 1
	}
	return i
}

// argmaxMagnitude returns the smallest index of an entry of largest
// magnitude (NaN counted as +Inf), v non-empty. The comparison is on the bits
// of |x|, which order like |x|: nextBlockAbove skips the blocks of sixteen
// in which nothing beats the best so far, and argmaxFrom looks into the
// others (clamping NaN bits to +Inf's).
func argmaxMagnitude(v []float64) int {
	best, bi := uint64(0), 0
	full := len(v) &^ 15
	for i := 0; i < full; i += 16 {
		if i = nextBlockAbove(v[:full], i, best); i == full {
			break
		}
		best, bi = argmaxFrom(v[i:i+16:i+16], i, best, bi)
	}
	best, bi = argmaxFrom(v[full:], full, best, bi)
	return bi
}

// nextBlockAbove returns the offset of the first block of sixteen of v (a
// multiple of 16 long) at or after offset i holding an entry whose magnitude
// bits exceed best, or len(v). With AVX2, aboveBlock16 tests four entries
// per instruction; the Go loop tests a block without branches: best −
// bits(|x|) wraps past 2⁶³ exactly when bits(|x|) > best (both lie below
// 2⁶³), so the OR of the sixteen differences has its top bit set when some
// entry beats best.
func nextBlockAbove(v []float64, i int, best uint64) int {
	if i == len(v) {
		return i
	}
	if off, ok := aboveAsm(v[i:], best); ok {
		return i + off
	}
	for ; i+16 <= len(v); i += 16 {
		c := v[i : i+16 : i+16]
		d0 := (best - math.Float64bits(c[0])&absMask) | (best - math.Float64bits(c[1])&absMask)
		d1 := (best - math.Float64bits(c[2])&absMask) | (best - math.Float64bits(c[3])&absMask)
		d2 := (best - math.Float64bits(c[4])&absMask) | (best - math.Float64bits(c[5])&absMask)
		d3 := (best - math.Float64bits(c[6])&absMask) | (best - math.Float64bits(c[7])&absMask)
		d0 |= (best - math.Float64bits(c[8])&absMask) | (best - math.Float64bits(c[9])&absMask)
		d1 |= (best - math.Float64bits(c[10])&absMask) | (best - math.Float64bits(c[11])&absMask)
		d2 |= (best - math.Float64bits(c[12])&absMask) | (best - math.Float64bits(c[13])&absMask)
		d3 |= (best - math.Float64bits(c[14])&absMask) | (best - math.Float64bits(c[15])&absMask)
		if int64(d0|d1|d2|d3) < 0 {
			return i
		}
	}
	return i
}

// argmaxFrom continues argmaxMagnitude's scan over c, whose first entry has
// index off, from the best bits and index so far.
func argmaxFrom(c []float64, off int, best uint64, bi int) (uint64, int) {
	for j, x := range c {
		b := min(math.Float64bits(x)&absMask, infBits)
		if b > best {
			best, bi = b, off+j
		}
	}
	return best, bi
}

// selectDescending returns the element that would sit at position k if a were
// sorted in descending order, permuting a. Hoare partitioning around a
// median-of-three pivot; after 2·log2(len) rounds without convergence the pivot
// comes from a fixed pseudo-random sequence, so the run time is O(len) in
// expectation on any input and the result is deterministic.
func selectDescending(a []float64, k int) float64 {
	lo, hi := 0, len(a)-1
	rounds, limit := 0, 2*bitsLen(len(a))
	state := uint64(0x9E3779B97F4A7C15)
	for lo < hi {
		var p float64
		if rounds < limit {
			mid := lo + (hi-lo)/2
			p = median3(a[lo], a[mid], a[hi])
		} else {
			state ^= state << 13
			state ^= state >> 7
			state ^= state << 17
			p = a[lo+int(state%uint64(hi-lo+1))]
		}
		rounds++
		i, j := lo, hi
		for i <= j {
			for a[i] > p {
				i++
			}
			for a[j] < p {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		// a[lo..j] ≥ p, a[i..hi] ≤ p, and a[j+1..i-1] == p.
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return a[k]
		}
	}
	return a[k]
}

func median3(x, y, z float64) float64 {
	if x > y {
		x, y = y, x
	}
	if y > z {
		y = z
	}
	if x > y {
		return x
	}
	return y
}

func bitsLen(n int) int {
	b := 1
	for n > 1 {
		n >>= 1
		b++
	}
	return b
}

// RandK keeps k coordinates drawn uniformly without replacement from the rank's
// own stream, unscaled (SPEC §2). Floyd's algorithm draws the subset with k
// random numbers; a pass over a marker array emits it in index order.
type RandK struct {
	K      int
	rng    *rand.Rand
	marked []bool
}

// NewRandK returns a rand-k compressor drawing from rng.
func NewRandK(k int, rng *rand.Rand) *RandK { return &RandK{K: k, rng: rng} }

// Name implements Compressor.
func (c *RandK) Name() string { return "rand-k" }

// Alpha implements Compressor: k/d in expectation.
func (c *RandK) Alpha(d int) float64 { return math.Min(1, float64(c.K)/float64(d)) }

// Bits implements Compressor: 32 bits per kept value.
func (c *RandK) Bits(msg *sparse.Vector) int64 { return BitsPerValue * int64(msg.Len()) }

// Compress implements Compressor.
func (c *RandK) Compress(out *sparse.Vector, v []float64) {
	d := len(v)
	out.Reset(d)
	k := min(c.K, d)
	if cap(c.marked) < d {
		c.marked = make([]bool, d)
	}
	marked := c.marked[:d]
	for j := d - k; j < d; j++ {
		t := c.rng.IntN(j + 1)
		if marked[t] {
			marked[j] = true
		} else {
			marked[t] = true
		}
	}
	for i, m := range marked {
		if m {
			out.Append(int32(i), v[i])
			marked[i] = false
		}
	}
}

// Sign is the scaled sign compressor (‖v‖₁/d)·sign(v), sign(0) = 0. It travels as
// one scale and d sign bits; in memory it is the sparse vector of its nonzero
// entries.
type Sign struct{}

// Name implements Compressor.
func (Sign) Name() string { return "sign" }

// Alpha implements Compressor: the data-independent lower bound 1/d, from
// ‖C(v)−v‖² ≤ ‖v‖² − ‖v‖₁²/d ≤ (1 − 1/d)‖v‖².
func (Sign) Alpha(d int) float64 { return 1 / float64(d) }

// Bits implements Compressor: one 32-bit scale plus one bit per coordinate.
func (Sign) Bits(msg *sparse.Vector) int64 { return BitsPerValue + int64(msg.Dim) }

// Compress implements Compressor.
func (Sign) Compress(out *sparse.Vector, v []float64) {
	d := len(v)
	out.Reset(d)
	l1 := 0.0
	for _, x := range v {
		l1 += math.Abs(x)
	}
	s := l1 / float64(d)
	for i, x := range v {
		switch {
		case x > 0:
			out.Append(int32(i), s)
		case x < 0:
			out.Append(int32(i), -s)
		case x != x:
			out.Append(int32(i), x)
		}
	}
}

// Identity is C(v) = v: no compression. Methods that use it send their full
// vector and replace, rather than correct, the estimator, so that EF21 with the
// identity is gradient descent bit for bit.
type Identity struct{}

// Name implements Compressor.
func (Identity) Name() string { return "identity" }

// Alpha implements Compressor: 1.
func (Identity) Alpha(int) float64 { return 1 }

// Bits implements Compressor: 32 bits per coordinate.
func (Identity) Bits(msg *sparse.Vector) int64 { return BitsPerValue * int64(msg.Dim) }

// Compress implements Compressor.
func (Identity) Compress(out *sparse.Vector, v []float64) { out.SetDense(v) }
