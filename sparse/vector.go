// Package sparse holds the sparse-vector type that compressed messages are made
// of. It is the only project type the algorithms package imports, and it is what
// the collective layer moves between ranks.
package sparse

import "fmt"

// Vector is a sparse vector of dimension Dim: entry Idx[j] has value Val[j].
// Indices are strictly increasing and lie in [0, Dim). A Vector is reused across
// iterations: Reset keeps the backing arrays so the hot path does not allocate.
type Vector struct {
	Dim int
	Idx []int32
	Val []float64
}

// NewVector returns an empty vector of dimension dim with room for capacity
// entries.
func NewVector(dim, capacity int) *Vector {
	return &Vector{Dim: dim, Idx: make([]int32, 0, capacity), Val: make([]float64, 0, capacity)}
}

// Len is the number of stored entries.
func (v *Vector) Len() int { return len(v.Idx) }

// Reset empties v, keeping its storage, and sets its dimension.
func (v *Vector) Reset(dim int) {
	v.Dim = dim
	v.Idx = v.Idx[:0]
	v.Val = v.Val[:0]
}

// Append adds entry (i, x). The caller keeps indices increasing.
func (v *Vector) Append(i int32, x float64) {
	v.Idx = append(v.Idx, i)
	v.Val = append(v.Val, x)
}

// SetDense stores every coordinate of dense (all d of them, zeros included) in v.
// It is the representation of an uncompressed message.
func (v *Vector) SetDense(dense []float64) {
	v.Reset(len(dense))
	for i, x := range dense {
		v.Idx = append(v.Idx, int32(i))
		v.Val = append(v.Val, x)
	}
}

// CopyFrom makes v an exact copy of src, reusing v's storage.
func (v *Vector) CopyFrom(src *Vector) {
	v.Dim = src.Dim
	v.Idx = append(v.Idx[:0], src.Idx...)
	v.Val = append(v.Val[:0], src.Val...)
}

// AddTo performs dst[Idx[j]] += Val[j] for every entry.
func (v *Vector) AddTo(dst []float64) {
	for j, i := range v.Idx {
		dst[i] += v.Val[j]
	}
}

// ToDense writes v into dst (length Dim), zeroing the other coordinates.
func (v *Vector) ToDense(dst []float64) {
	clear(dst)
	for j, i := range v.Idx {
		dst[i] = v.Val[j]
	}
}

// Validate reports whether v is well formed: matching lengths, indices strictly
// increasing and within [0, Dim). Messages that arrive over a network are
// validated before use.
func (v *Vector) Validate() error {
	if len(v.Idx) != len(v.Val) {
		return fmt.Errorf("sparse vector: %d indices but %d values", len(v.Idx), len(v.Val))
	}
	prev := int32(-1)
	for j, i := range v.Idx {
		if i <= prev || int(i) >= v.Dim {
			return fmt.Errorf("sparse vector: entry %d has index %d (previous %d, dimension %d)", j, i, prev, v.Dim)
		}
		prev = i
	}
	return nil
}
