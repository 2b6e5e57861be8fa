package datasets

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// appendCIFARPython appends the images of one batch of CIFAR-10's python
// version (cifar-10-batches-py/data_batch_1 …, test_batch): a pickled dict
// with b'data', a uint8 array of N × 3072 (R, G, B planes of 32 × 32 rows),
// and b'labels', N integers in [0, 10). The official files are Python 2
// pickles (protocol 2) of a NumPy array; Python 3's pickle of the same dict
// (any protocol, bytes or str keys, data as an array or as plain bytes,
// labels as a list or an array) is read too. Errors name the file (name) and,
// for a bad label, the record.
func (im *Images) appendCIFARPython(name string, data []byte) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("cifar %s: %w: %s", name, ErrFormat, fmt.Sprintf(format, args...))
	}
	v, err := unpickle(data)
	if err != nil {
		return bad("%v", err)
	}
	d, ok := v.(*pyDict)
	if !ok {
		return bad("the pickle holds a %T, want a dict with b'data' and b'labels'", v)
	}
	pix, ok1 := d.get("data")
	lab, ok2 := d.get("labels")
	if !ok1 || !ok2 {
		return bad("the dict lacks b'data' or b'labels'")
	}
	var px []byte
	switch p := pix.(type) {
	case []byte:
		px = p
	case *ndarray:
		if p.dtype.kind != "u1" || len(p.shape) != 2 || p.shape[1] != 3*32*32 {
			return bad("b'data' is an array of %s and shape %v, want uint8 N×3072", p.dtype.kind, p.shape)
		}
		px = p.data
		if p.fortran { // column-major: element (i, j) at j·N + i
			n := p.shape[0]
			px = make([]byte, len(p.data))
			for i := range n {
				for j := range 3072 {
					px[i*3072+j] = p.data[j*n+i]
				}
			}
		}
	default:
		return bad("b'data' is a %T, want a uint8 array or bytes", pix)
	}
	labels, err := pyInts(lab)
	if err != nil {
		return bad("b'labels': %v", err)
	}
	n := len(labels)
	if n == 0 || len(px) != n*3072 {
		return bad("%d bytes of b'data' for %d labels (want 3072 each)", len(px), n)
	}
	for r, l := range labels {
		if l < 0 || l >= CIFARClasses {
			return fmt.Errorf("cifar %s record %d: %w: label %d outside [0, %d)", name, r, ErrFormat, l, CIFARClasses)
		}
		im.Labels = append(im.Labels, uint8(l))
	}
	im.Pixels = append(im.Pixels, px...)
	im.N += n
	return nil
}

// EncodeCIFAR10Python writes labels and images (3072 bytes each) as one
// batch of CIFAR-10's python version: a pickle (protocol 3) of the dict
// {b'data': bytes, b'labels': [ints]} (plain bytes, not a NumPy array; for
// tests and tools).
func EncodeCIFAR10Python(w io.Writer, labels []uint8, pixels []uint8) error {
	var b bytes.Buffer
	b.Write([]byte{0x80, 3, '}', '('})
	b.Write([]byte{'C', 4})
	b.WriteString("data")
	b.WriteByte('B')
	binary.Write(&b, binary.LittleEndian, uint32(len(pixels)))
	b.Write(pixels)
	b.Write([]byte{'C', 6})
	b.WriteString("labels")
	b.Write([]byte{']', '('})
	for _, l := range labels {
		b.Write([]byte{'K', l})
	}
	b.Write([]byte{'e', 'u', '.'})
	_, err := w.Write(b.Bytes())
	return err
}
