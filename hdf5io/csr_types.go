package hdf5io

// #include "hdf5.h"
//
// // nativeType is the native memory type of element kind k (see the kind
// // constants in csr_types.go), or -1.
// static hid_t nativeType(int k) {
//     switch (k) {
//     case 1: return H5T_NATIVE_SCHAR;
//     case 2: return H5T_NATIVE_SHORT;
//     case 3: return H5T_NATIVE_INT;
//     case 4: return H5T_NATIVE_LLONG;
//     case 5: return H5T_NATIVE_UCHAR;
//     case 6: return H5T_NATIVE_USHORT;
//     case 7: return H5T_NATIVE_UINT;
//     case 8: return H5T_NATIVE_ULLONG;
//     case 9: return H5T_NATIVE_FLOAT;
//     case 10: return H5T_NATIVE_DOUBLE;
//     }
//     return -1;
// }
//
// // fileType is the little-endian file type written for element kind k.
// static hid_t fileType(int k) {
//     switch (k) {
//     case 1: return H5T_STD_I8LE;
//     case 2: return H5T_STD_I16LE;
//     case 3: return H5T_STD_I32LE;
//     case 4: return H5T_STD_I64LE;
//     case 9: return H5T_IEEE_F32LE;
//     case 10: return H5T_IEEE_F64LE;
//     }
//     return -1;
// }
//
// // datasetKind returns the element kind of dataset ds whose type equals a
// // native integer or floating-point type (class, size, sign and byte order),
// // 0 for any other type, -1 on error.
// static int datasetKind(hid_t ds) {
//     hid_t t = H5Dget_type(ds);
//     if (t < 0) return -1;
//     int kind = 0;
//     H5T_class_t c = H5Tget_class(t);
//     if (c == H5T_INTEGER || c == H5T_FLOAT) {
//         for (int k = 1; k <= 10; k++) {
//             if (H5Tequal(t, nativeType(k)) > 0) { kind = k; break; }
//         }
//     }
//     H5Tclose(t);
//     return kind;
// }
import "C"

// kind is the element type of a stored array: one of the native integer and
// floating-point types, which the reader reads without the library's type
// conversion and widens itself, or kindOther (any other numeric type, which
// the library converts).
type kind uint8

const (
	kindOther kind = iota
	kindInt8
	kindInt16
	kindInt32
	kindInt64
	kindUint8
	kindUint16
	kindUint32
	kindUint64
	kindFloat32
	kindFloat64
)

var kindNames = [...]string{"other", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64"}

// String names the kind as numpy does.
func (k kind) String() string { return kindNames[k] }

// size is the number of bytes of one element (0 for kindOther).
func (k kind) size() int {
	return [...]int{0, 1, 2, 4, 8, 1, 2, 4, 8, 4, 8}[k]
}

// native is the kind's native memory type.
func (k kind) native() C.hid_t { return C.nativeType(C.int(k)) }

// fileType is the little-endian type the writer stores kind k as.
func (k kind) fileType() C.hid_t { return C.fileType(C.int(k)) }

// datasetKind is the kind of the dataset ds's elements (kindOther for a
// type that is not native), false on error.
func datasetKind(ds C.hid_t) (kind, bool) {
	k := C.datasetKind(ds)
	return kind(max(k, 0)), k >= 0
}

// elem is a type the reader delivers: column indices (int32), row pointers
// (int64) and values and labels (float64).
type elem interface{ int32 | int64 | float64 }

// kindOf is the kind of T.
func kindOf[T elem]() kind {
	var z T
	switch any(z).(type) {
	case int32:
		return kindInt32
	case int64:
		return kindInt64
	}
	return kindFloat64
}

// widens reports whether every value of kind k is exactly a T, so that the
// reader can read k natively and convert it itself: integers into a wider
// integer or into float64 (up to 32 bits), float32 into float64. Other pairs
// (int64 column indices, uint64 row pointers, 64-bit integer values) are left
// to the library's conversion, as are non-native types.
func widens[T elem](k kind) bool {
	switch kindOf[T]() {
	case kindInt32:
		return k == kindInt8 || k == kindInt16 || k == kindUint8 || k == kindUint16
	case kindInt64:
		return k == kindInt8 || k == kindInt16 || k == kindInt32 || k == kindUint8 || k == kindUint16 || k == kindUint32
	}
	return k == kindInt8 || k == kindInt16 || k == kindInt32 || k == kindUint8 || k == kindUint16 || k == kindUint32 || k == kindFloat32
}

type number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// convert sets dst[i] = T(src[i]).
func convert[T, S number](dst []T, src []S) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = T(v)
	}
}

// exactness tracks, value by value, the narrowest floating-point kind the
// writer can store a float64 array in without changing any value: float32
// while every value survives the round trip through float32 bit for bit
// (NaN does not compare equal and keeps float64), else float64. Values are
// never stored as integers, even when they are: scipy's arithmetic keeps the
// stored dtype, and an int8 X.T @ X would overflow silently.
type exactness struct{ wide bool }

// add records values.
func (e *exactness) add(v []float64) {
	for _, x := range v {
		if e.wide {
			return
		}
		if float64(float32(x)) != x {
			e.wide = true
		}
	}
}

// kind is the kind to store.
func (e *exactness) kind() kind {
	if !e.wide {
		return kindFloat32
	}
	return kindFloat64
}

// intKind is the narrowest signed integer kind holding lo and hi.
func intKind(lo, hi int64) kind {
	switch {
	case lo >= -1<<7 && hi < 1<<7:
		return kindInt8
	case lo >= -1<<15 && hi < 1<<15:
		return kindInt16
	case lo >= -1<<31 && hi < 1<<31:
		return kindInt32
	}
	return kindInt64
}
