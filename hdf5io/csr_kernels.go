package hdf5io

// // The reader's loops over every entry, in C so that the compiler
// // vectorises them (GCC does at -O3, not at cgo's default -O2; the pragma
// // raises this file's C only). In Go the same loops ran at 1–1.5 ns an
// // entry and took half the time of loading a9a.
// #pragma GCC optimize ("O3")
// #include <stdint.h>
// #include <string.h>
// #include "hdf5.h"
//
// #define WIDEN(S, D) { const S *s = src; D *d = dst; for (size_t i = 0; i < n; i++) d[i] = (D)s[i]; return 1; }
//
// // csrWiden converts n elements of kind sk (numbered as the Go constants
// // kindInt8 = 1 … kindFloat32 = 9) at src into kind dk (int32 = 3,
// // int64 = 4, float64 = 10) at dst. It returns 1 when every value is
// // finite (integers; float32 whose exponent bits are not all ones: adding
// // one to the exponent field then carries into the sign bit), 0 when a
// // float32 is not, -1 for a pair it does not convert.
// static int csrWiden(int dk, int sk, const void *restrict src, void *restrict dst, size_t n) {
//     switch (dk * 16 + sk) {
//     case 3*16+1: WIDEN(int8_t, int32_t)
//     case 3*16+2: WIDEN(int16_t, int32_t)
//     case 3*16+5: WIDEN(uint8_t, int32_t)
//     case 3*16+6: WIDEN(uint16_t, int32_t)
//     case 4*16+1: WIDEN(int8_t, int64_t)
//     case 4*16+2: WIDEN(int16_t, int64_t)
//     case 4*16+3: WIDEN(int32_t, int64_t)
//     case 4*16+5: WIDEN(uint8_t, int64_t)
//     case 4*16+6: WIDEN(uint16_t, int64_t)
//     case 4*16+7: WIDEN(uint32_t, int64_t)
//     case 10*16+1: WIDEN(int8_t, double)
//     case 10*16+2: WIDEN(int16_t, double)
//     case 10*16+3: WIDEN(int32_t, double)
//     case 10*16+5: WIDEN(uint8_t, double)
//     case 10*16+6: WIDEN(uint16_t, double)
//     case 10*16+7: WIDEN(uint32_t, double)
//     case 10*16+9: {
//         const float *s = src;
//         double *d = dst;
//         uint32_t acc = 0;
//         for (size_t i = 0; i < n; i++) {
//             uint32_t b;
//             memcpy(&b, &s[i], 4);
//             acc |= (b & 0x7f800000u) + 0x00800000u;
//             d[i] = s[i];
//         }
//         return (acc & 0x80000000u) == 0;
//     }
//     }
//     return -1;
// }
//
// // csrDrops counts the places i ≥ 1 where c[i] ≤ c[i-1].
// static long long csrDrops(const int32_t *c, size_t n) {
//     long long k = 0;
//     for (size_t i = 1; i < n; i++) k += c[i] <= c[i-1];
//     return k;
// }
//
// // csrFinite reports whether no value is ±Inf or NaN (the exponent bits
// // are not all ones; see csrWiden).
// static int csrFinite(const double *v, size_t n) {
//     uint64_t acc = 0;
//     for (size_t i = 0; i < n; i++) {
//         uint64_t b;
//         memcpy(&b, &v[i], 8);
//         acc |= (b & 0x7ff0000000000000ull) + 0x0010000000000000ull;
//     }
//     return (acc >> 63) == 0;
// }
//
// // csrSigns counts the values equal to -1 and to +1.
// static void csrSigns(const double *v, size_t n, long long *neg, long long *pos) {
//     long long a = 0, b = 0;
//     for (size_t i = 0; i < n; i++) {
//         a += v[i] == -1.0;
//         b += v[i] == 1.0;
//     }
//     *neg = a;
//     *pos = b;
// }
import "C"

import "unsafe"

// widen converts len(dst) elements of kind k at src into dst (widens[T](k)
// holds) and reports whether every value is known to be finite: true for
// integers, checked for float32.
func widen[T elem](dst []T, k kind, src unsafe.Pointer) bool {
	if len(dst) == 0 {
		return true
	}
	rc := C.csrWiden(C.int(kindOf[T]()), C.int(k), src, unsafe.Pointer(&dst[0]), C.size_t(len(dst)))
	if rc < 0 {
		panic("hdf5io: widen from " + k.String() + " to " + kindOf[T]().String())
	}
	return rc == 1
}

// columnDrops counts the places i ≥ 1 where c[i] ≤ c[i−1].
func columnDrops(c []int32) int {
	if len(c) < 2 {
		return 0
	}
	return int(C.csrDrops((*C.int32_t)(unsafe.Pointer(&c[0])), C.size_t(len(c))))
}

// allFinite reports whether no value is NaN or ±Inf.
func allFinite(v []float64) bool {
	if len(v) == 0 {
		return true
	}
	return C.csrFinite((*C.double)(unsafe.Pointer(&v[0])), C.size_t(len(v))) == 1
}

// signs counts the values of v equal to −1 and to +1.
func signs(v []float64) (neg, pos int) {
	if len(v) == 0 {
		return 0, 0
	}
	var a, b C.longlong
	C.csrSigns((*C.double)(unsafe.Pointer(&v[0])), C.size_t(len(v)), &a, &b)
	return int(a), int(b)
}
