//go:build 386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm

package wire

import "unsafe"

// On little-endian machines the wire layout is the memory layout, so the
// conversions are plain copies.

func float64Bytes(s []float64) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 8*len(s))
}

func int32Bytes(s []int32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 4*len(s))
}

func putFloat64s(dst []byte, src []float64) { copy(dst, float64Bytes(src)) }
func getFloat64s(dst []float64, src []byte) { copy(float64Bytes(dst), src) }
func putInt32s(dst []byte, src []int32)     { copy(dst, int32Bytes(src)) }
func getInt32s(dst []int32, src []byte)     { copy(int32Bytes(dst), src) }
