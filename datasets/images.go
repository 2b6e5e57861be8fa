package datasets

import (
	"fmt"
	"sort"
)

// Images is a labelled set of N images of C×H×W bytes (NCHW, row-major), as
// read from IDX (MNIST, Fashion-MNIST) or CIFAR-10 binary files. Pixels stay
// bytes in memory (60 000 MNIST images take 47 MB); Fill converts the rows a
// computation needs to normalised float64.
type Images struct {
	N, C, H, W int
	Pixels     []uint8 // N·C·H·W
	Labels     []uint8 // N, each in [0, Classes)
	Classes    int
	// Mean and Std (one per channel) normalise a pixel p of channel c to
	// (p/255 − Mean[c])/Std[c].
	Mean, Std []float64
	// Source names the files, for messages and the run record.
	Source string
}

// Unit returns im with pixels scaled to [0, 1], p/255 (mean 0 and deviation 1
// for every channel: torchvision's ToTensor without Normalize), aliasing its
// pixels.
func (im *Images) Unit() *Images {
	out := *im
	out.Mean, out.Std = make([]float64, im.C), make([]float64, im.C)
	for c := range out.Std {
		out.Std[c] = 1
	}
	return &out
}

// Size is the number of bytes of one image, C·H·W.
func (im *Images) Size() int { return im.C * im.H * im.W }

// Head returns the first n images (all when n ≤ 0 or n ≥ N), aliasing im.
func (im *Images) Head(n int) *Images {
	if n <= 0 || n >= im.N {
		return im
	}
	out := *im
	out.N = n
	out.Pixels = im.Pixels[: n*im.Size() : n*im.Size()]
	out.Labels = im.Labels[:n:n]
	return &out
}

// Fill writes the normalised images rows (indices into im) one after the
// other into dst (at least len(rows)·Size values) and their labels into
// labels.
func (im *Images) Fill(dst []float64, labels []int32, rows []int32) {
	sz, hw := im.Size(), im.H*im.W
	var scale, shift [16]float64
	for c := 0; c < im.C && c < len(scale); c++ {
		scale[c] = 1 / (255 * im.Std[c])
		shift[c] = im.Mean[c] / im.Std[c]
	}
	for k, r := range rows {
		src := im.Pixels[int(r)*sz : (int(r)+1)*sz]
		d := dst[k*sz : (k+1)*sz]
		for c := 0; c < im.C; c++ {
			a, b := scale[c], shift[c]
			for i, p := range src[c*hw : (c+1)*hw] {
				d[c*hw+i] = float64(p)*a - b
			}
		}
		labels[k] = int32(im.Labels[r])
	}
}

// check verifies sizes and labels.
func (im *Images) check() error {
	switch {
	case im.N < 1 || im.C < 1 || im.H < 1 || im.W < 1:
		return fmt.Errorf("images %s: empty (%d images of %d×%d×%d)", im.Source, im.N, im.C, im.H, im.W)
	case im.C > 16 || len(im.Mean) != im.C || len(im.Std) != im.C:
		return fmt.Errorf("images %s: %d channels need as many means and deviations (at most 16 channels)", im.Source, im.C)
	case len(im.Pixels) != im.N*im.Size() || len(im.Labels) != im.N:
		return fmt.Errorf("images %s: %d pixels and %d labels for %d images of %d bytes", im.Source, len(im.Pixels), len(im.Labels), im.N, im.Size())
	}
	for i, l := range im.Labels {
		if int(l) >= im.Classes {
			return fmt.Errorf("images %s record %d: label %d outside [0, %d)", im.Source, i, l, im.Classes)
		}
	}
	return nil
}

// ShardImages returns the indices of rank's images when N images with these
// labels are split among n ranks as for LIBSVM data (see Shard): contiguous
// blocks of ⌊N/n⌋ (the last rank takes the remainder) in file order, or after
// a shuffle with the seed; SplitLabel stably sorts the (possibly shuffled)
// images by class first, so each rank sees few classes (heterogeneous data).
func ShardImages(labels []uint8, n, rank int, opts ShardOptions) ([]int32, error) {
	m := len(labels)
	switch {
	case n < 1 || rank < 0 || rank >= n:
		return nil, fmt.Errorf("shard: rank %d of %d ranks", rank, n)
	case m < n:
		return nil, fmt.Errorf("shard: %d images cannot be split among %d ranks", m, n)
	case opts.Split != "" && opts.Split != SplitContiguous && opts.Split != SplitLabel:
		return nil, fmt.Errorf("shard: unknown split %q (want %q or %q)", opts.Split, SplitContiguous, SplitLabel)
	}
	order := make([]int, m)
	for i := range order {
		order[i] = i
	}
	if opts.Shuffle {
		order = ShufflePerm(m, opts.Seed)
	}
	if opts.Split == SplitLabel {
		sort.SliceStable(order, func(a, b int) bool { return labels[order[a]] < labels[order[b]] })
	}
	lo, hi := ShardBounds(m, n, rank)
	out := make([]int32, hi-lo)
	for i := range out {
		out[i] = int32(order[lo+i])
	}
	return out, nil
}
