//go:build !(386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm)

package wire

func putFloat64s(dst []byte, src []float64) { putFloat64sPortable(dst, src) }
func getFloat64s(dst []float64, src []byte) { getFloat64sPortable(dst, src) }
func putInt32s(dst []byte, src []int32)     { putInt32sPortable(dst, src) }
func getInt32s(dst []int32, src []byte)     { getInt32sPortable(dst, src) }
