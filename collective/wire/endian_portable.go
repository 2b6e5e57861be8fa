package wire

import (
	"encoding/binary"
	"math"
)

// The *Portable functions convert between Go values and little-endian bytes
// on any architecture; little-endian machines use the memmove versions in
// endian_le.go, and the tests check both agree.

func putFloat64sPortable(dst []byte, src []float64) {
	for i, x := range src {
		binary.LittleEndian.PutUint64(dst[8*i:], math.Float64bits(x))
	}
}

func getFloat64sPortable(dst []float64, src []byte) {
	for i := range dst {
		dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:]))
	}
}

func putInt32sPortable(dst []byte, src []int32) {
	for i, x := range src {
		binary.LittleEndian.PutUint32(dst[4*i:], uint32(x))
	}
}

func getInt32sPortable(dst []int32, src []byte) {
	for i := range dst {
		dst[i] = int32(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

// addFloat64s performs dst[i] += value i of src (little-endian float64s).
func addFloat64s(dst []float64, src []byte) {
	src = src[:8*len(dst)]
	for i := range dst {
		dst[i] += math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:]))
	}
}
