package hdf5io

// #include <stdlib.h>
// #include <string.h>
// #include "hdf5.h"
//
// typedef struct { char *buf; size_t cap, len; } nameList;
//
// static herr_t addName(hid_t loc, const char *name, const H5A_info_t *info, void *op) {
//     nameList *l = op;
//     size_t n = strlen(name) + 1;
//     if (l->len + n <= l->cap) memcpy(l->buf + l->len, name, n);
//     l->len += n;
//     return 0;
// }
//
// // attrNames writes the names of obj's attributes, in name order and each
// // followed by a NUL, into buf (cap bytes) with one pass over them, and
// // returns the bytes they need (more than cap: call again with a larger
// // buffer), or -1. (By index, H5Aget_name_by_idx sorts every attribute on
// // each call.)
// static long long attrNames(hid_t obj, char *buf, size_t cap) {
//     nameList l = {buf, cap, 0};
//     hsize_t idx = 0;
//     if (H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, addName, &l) < 0) return -1;
//     return (long long)l.len;
// }
import "C"

import (
	"fmt"
	"strings"
	"unsafe"

	"gonum.org/v1/hdf5"
)

// attrHolder is a file, group or dataset that carries attributes.
type attrHolder interface {
	ID() int64
	CreateAttribute(name string, dtype *hdf5.Datatype, dspace *hdf5.Dataspace) (*hdf5.Attribute, error)
	OpenAttribute(name string) (*hdf5.Attribute, error)
}

// writeAttr creates or replaces a scalar attribute. Values are string, int64,
// int, float64 or bool (stored as int64 0/1).
func writeAttr(h attrHolder, name string, value any) error {
	var dtype *hdf5.Datatype
	var data any
	switch v := value.(type) {
	case string:
		st, err := utf8String()
		if err != nil {
			return fmt.Errorf("attribute %s: %w", name, err)
		}
		defer st.Close()
		dtype, data = st, &v
	case int64:
		dtype, data = hdf5.T_NATIVE_INT64, &v
	case int:
		x := int64(v)
		dtype, data = hdf5.T_NATIVE_INT64, &x
	case bool:
		x := int64(0)
		if v {
			x = 1
		}
		dtype, data = hdf5.T_NATIVE_INT64, &x
	case float64:
		dtype, data = hdf5.T_NATIVE_DOUBLE, &v
	default:
		return fmt.Errorf("attribute %s: unsupported type %T", name, value)
	}
	if attrExists(h, name) {
		cname := C.CString(name)
		rc := C.H5Adelete(C.hid_t(h.ID()), cname)
		C.free(unsafe.Pointer(cname))
		if rc < 0 {
			return fmt.Errorf("attribute %s: delete failed", name)
		}
	}
	space, err := hdf5.CreateDataspace(hdf5.S_SCALAR)
	if err != nil {
		return fmt.Errorf("attribute %s: %w", name, err)
	}
	defer space.Close()
	a, err := h.CreateAttribute(name, dtype, space)
	if err != nil {
		return fmt.Errorf("attribute %s: %w", name, err)
	}
	defer a.Close()
	if err := a.Write(data, dtype); err != nil {
		return fmt.Errorf("attribute %s: %w", name, err)
	}
	return nil
}

func attrExists(h attrHolder, name string) bool {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	return C.H5Aexists(C.hid_t(h.ID()), cname) > 0
}

// readAttrs reads every scalar attribute of h: strings as string, integers as
// int64, floats as float64. Array attributes (files made elsewhere may carry
// them) are skipped.
func readAttrs(h attrHolder) (map[string]any, error) {
	id := C.hid_t(h.ID())
	buf := make([]byte, 4096)
	n := C.attrNames(id, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	if n > C.longlong(len(buf)) {
		buf = make([]byte, n)
		n = C.attrNames(id, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	}
	if n < 0 || n > C.longlong(len(buf)) {
		return nil, fmt.Errorf("reading attribute names failed")
	}
	names := strings.Split(string(buf[:n]), "\x00")
	names = names[:len(names)-1] // after the last NUL
	out := make(map[string]any, len(names))
	for _, name := range names {
		a, err := h.OpenAttribute(name)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
		sp := C.H5Aget_space(C.hid_t(a.ID()))
		npts := C.H5Sget_simple_extent_npoints(sp)
		C.H5Sclose(sp)
		tid := C.H5Aget_type(C.hid_t(a.ID()))
		class := C.H5Tget_class(tid)
		C.H5Tclose(tid)
		if npts == 1 {
			switch class {
			case C.H5T_STRING:
				var s string
				err = a.Read(&s, hdf5.T_GO_STRING)
				out[name] = s
			case C.H5T_INTEGER:
				var x int64
				err = a.Read(&x, hdf5.T_NATIVE_INT64)
				out[name] = x
			case C.H5T_FLOAT:
				var x float64
				err = a.Read(&x, hdf5.T_NATIVE_DOUBLE)
				out[name] = x
			}
		}
		a.Close()
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
	}
	return out, nil
}
