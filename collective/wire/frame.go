package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"reflect"

	"github.com/btracey/mpi"

	"github.com/efmpi/efmpi/sparse"
)

// Frame layout constants.
const (
	// HeaderSize is the size in bytes of every frame header.
	HeaderSize = 12
	// MaxPayload is the largest payload a frame may carry (1 GiB). Larger
	// messages are refused by the sender; a header announcing more is an error.
	MaxPayload = 1 << 30

	frameMagic   = 0xEF
	frameVersion = 1

	sparseHeader = 12 // dim uint64 + nnz uint32

	// MaxControlPayload bounds handshake and abort payloads.
	MaxControlPayload = 4096
)

// Frame kinds.
const (
	KindSparse    byte = 1
	KindFloat64s  byte = 2
	KindBytes     byte = 3
	KindGob       byte = 4
	KindHeartbeat byte = 16
	KindGoodbye   byte = 17
	KindAbort     byte = 18
	KindHello     byte = 32 // rank 0 → joining rank: nonce and size
	KindJoin      byte = 33 // joining rank → rank 0: rank, nonce, MAC, host
	KindWelcome   byte = 34 // rank 0 → joining rank: MAC, host
	KindRefuse    byte = 35 // rank 0 → joining rank: reason
)

// SparseFrameSize is the size in bytes of the frame carrying a sparse vector
// with nnz entries: header, dim, nnz, indices and values.
func SparseFrameSize(nnz int) int { return HeaderSize + sparseHeader + 12*nnz }

// DenseFrameSize is the size in bytes of the frame carrying n float64 values.
func DenseFrameSize(n int) int { return HeaderSize + 8*n }

// BytesFrameSize is the size in bytes of the frame carrying n raw bytes.
func BytesFrameSize(n int) int { return HeaderSize + n }

// KindName names a frame kind for error messages.
func KindName(k byte) string {
	switch k {
	case KindSparse:
		return "sparse vector"
	case KindFloat64s:
		return "float64 values"
	case KindBytes:
		return "raw bytes"
	case KindGob:
		return "gob value"
	case KindHeartbeat:
		return "heartbeat"
	case KindGoodbye:
		return "goodbye"
	case KindAbort:
		return "abort"
	case KindHello:
		return "hello"
	case KindJoin:
		return "join"
	case KindWelcome:
		return "welcome"
	case KindRefuse:
		return "refuse"
	}
	return fmt.Sprintf("kind %d", k)
}

// Header is a parsed frame header.
type Header struct {
	Kind byte
	Tag  int32
	N    int // payload length
}

// PutHeader writes a header into b[:HeaderSize].
func PutHeader(b []byte, kind byte, tag int32, n int) {
	b[0] = frameMagic
	b[1] = frameVersion
	b[2] = kind
	b[3] = 0
	binary.LittleEndian.PutUint32(b[4:], uint32(tag))
	binary.LittleEndian.PutUint32(b[8:], uint32(n))
}

// ParseHeader validates b[:HeaderSize] as a frame header.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("frame header truncated: %d of %d bytes", len(b), HeaderSize)
	}
	if b[0] != frameMagic {
		return Header{}, fmt.Errorf("bad frame magic 0x%02x", b[0])
	}
	if b[1] != frameVersion {
		return Header{}, fmt.Errorf("unsupported frame version %d (want %d)", b[1], frameVersion)
	}
	if b[3] != 0 {
		return Header{}, fmt.Errorf("frame reserved byte is 0x%02x, want 0", b[3])
	}
	h := Header{
		Kind: b[2],
		Tag:  int32(binary.LittleEndian.Uint32(b[4:])),
	}
	n := binary.LittleEndian.Uint32(b[8:])
	limit := uint32(0)
	switch h.Kind {
	case KindSparse, KindFloat64s, KindBytes, KindGob:
		limit = MaxPayload
	case KindHeartbeat, KindGoodbye:
		limit = 0
	case KindAbort, KindHello, KindJoin, KindWelcome, KindRefuse:
		limit = MaxControlPayload
	default:
		return Header{}, fmt.Errorf("unknown frame kind %d", h.Kind)
	}
	if n > limit {
		return Header{}, fmt.Errorf("%s frame announces %d payload bytes (limit %d)", KindName(h.Kind), n, limit)
	}
	h.N = int(n)
	return h, nil
}

// MsgKind says what a Msg holds.
type MsgKind uint8

const (
	MsgNone     MsgKind = iota
	MsgSparse           // Vec
	MsgDense            // F, length fixed on receive
	MsgDensePtr         // FP, resized on receive
	MsgAddDense         // receive only: F += decoded values
	MsgBytes            // B, length fixed on receive
	MsgBytesPtr         // BP, resized on receive
	MsgGob              // V
)

// Msg is a message to encode or a destination to decode into: Kind says
// which one field holds it. It is passed by value so that the hot path never
// boxes a slice into an interface.
type Msg struct {
	Kind MsgKind
	Vec  *sparse.Vector
	F    []float64
	FP   *[]float64
	B    []byte
	BP   *[]byte
	V    any
}

// SparseMsg is the Msg holding v.
func SparseMsg(v *sparse.Vector) Msg { return Msg{Kind: MsgSparse, Vec: v} }

// DenseMsg is the Msg holding f (its length fixed on receive).
func DenseMsg(f []float64) Msg { return Msg{Kind: MsgDense, F: f} }

// BytesMsg is the Msg holding b (its length fixed on receive).
func BytesMsg(b []byte) Msg { return Msg{Kind: MsgBytes, B: b} }

// FrameKind is the frame kind that carries m.
func (m *Msg) FrameKind() byte {
	switch m.Kind {
	case MsgSparse:
		return KindSparse
	case MsgDense, MsgDensePtr, MsgAddDense:
		return KindFloat64s
	case MsgBytes, MsgBytesPtr:
		return KindBytes
	}
	return KindGob
}

// Value returns m as the value btracey's Send and Receive expect.
func (m *Msg) Value() any {
	switch m.Kind {
	case MsgSparse:
		return m.Vec
	case MsgDense, MsgAddDense:
		return m.F
	case MsgDensePtr:
		return m.FP
	case MsgBytes:
		return m.B
	case MsgBytesPtr:
		return m.BP
	}
	return m.V
}

// ForSend classifies a value given to Send.
func ForSend(data any) (Msg, error) {
	switch d := data.(type) {
	case nil:
		return Msg{}, errors.New("cannot send nil")
	case *sparse.Vector:
		if d == nil {
			return Msg{}, errors.New("cannot send a nil *sparse.Vector")
		}
		return Msg{Kind: MsgSparse, Vec: d}, nil
	case sparse.Vector:
		return Msg{Kind: MsgSparse, Vec: &d}, nil
	case []float64:
		return Msg{Kind: MsgDense, F: d}, nil
	case *[]float64:
		if d == nil {
			return Msg{}, errors.New("cannot send a nil *[]float64")
		}
		return Msg{Kind: MsgDense, F: *d}, nil
	case []byte:
		return Msg{Kind: MsgBytes, B: d}, nil
	case mpi.Raw:
		return Msg{Kind: MsgBytes, B: d}, nil
	case *[]byte:
		if d == nil {
			return Msg{}, errors.New("cannot send a nil *[]byte")
		}
		return Msg{Kind: MsgBytes, B: *d}, nil
	case *mpi.Raw:
		if d == nil {
			return Msg{}, errors.New("cannot send a nil *mpi.Raw")
		}
		return Msg{Kind: MsgBytes, B: *d}, nil
	}
	return Msg{Kind: MsgGob, V: data}, nil
}

// ForReceive classifies a destination given to Receive.
func ForReceive(data any) (Msg, error) {
	switch d := data.(type) {
	case nil:
		return Msg{}, errors.New("cannot receive into nil")
	case *sparse.Vector:
		if d == nil {
			return Msg{}, errors.New("cannot receive into a nil *sparse.Vector")
		}
		return Msg{Kind: MsgSparse, Vec: d}, nil
	case []float64:
		return Msg{Kind: MsgDense, F: d}, nil
	case *[]float64:
		if d == nil {
			return Msg{}, errors.New("cannot receive into a nil *[]float64")
		}
		return Msg{Kind: MsgDensePtr, FP: d}, nil
	case []byte:
		return Msg{Kind: MsgBytes, B: d}, nil
	case mpi.Raw:
		return Msg{Kind: MsgBytes, B: d}, nil
	case *[]byte:
		if d == nil {
			return Msg{}, errors.New("cannot receive into a nil *[]byte")
		}
		return Msg{Kind: MsgBytesPtr, BP: d}, nil
	case *mpi.Raw:
		if d == nil {
			return Msg{}, errors.New("cannot receive into a nil *mpi.Raw")
		}
		return Msg{Kind: MsgBytesPtr, BP: (*[]byte)(d)}, nil
	}
	if rv := reflect.ValueOf(data); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return Msg{}, fmt.Errorf("cannot receive into %T: need a non-nil pointer", data)
	}
	return Msg{Kind: MsgGob, V: data}, nil
}

// CheckTag converts an mpi tag to the wire's int32.
func CheckTag(tag int) (int32, error) {
	if tag < math.MinInt32 || tag > math.MaxInt32 {
		return 0, fmt.Errorf("tag %d does not fit in 32 bits", tag)
	}
	return int32(tag), nil
}

// payloadSize is the payload size of the frame carrying m, for the fast-path
// kinds; for gob it returns -1.
func (m *Msg) payloadSize() int {
	switch m.Kind {
	case MsgSparse:
		return sparseHeader + 12*len(m.Vec.Idx)
	case MsgDense:
		return 8 * len(m.F)
	case MsgBytes:
		return len(m.B)
	}
	return -1
}

// FrameSize is the size of the frame that would carry m (gob values are
// encoded to find out).
func FrameSize(m *Msg) (int, error) {
	if n := m.payloadSize(); n >= 0 {
		return HeaderSize + n, nil
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(m.V); err != nil {
		return 0, fmt.Errorf("gob encoding %T: %w", m.V, err)
	}
	return HeaderSize + buf.Len(), nil
}

// Grow returns b with length n, reusing its storage when large enough.
func Grow[T any](b []T, n int) []T {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]T, n)
}

// AppendMsg appends the frame carrying m to dst.
func AppendMsg(dst []byte, m *Msg, tag int32) ([]byte, error) {
	if m.Kind == MsgGob {
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(m.V); err != nil {
			return dst, fmt.Errorf("gob encoding %T: %w", m.V, err)
		}
		if buf.Len() > MaxPayload {
			return dst, fmt.Errorf("gob encoding of %T is %d bytes, above the %d-byte frame limit", m.V, buf.Len(), MaxPayload)
		}
		start := len(dst)
		dst = Grow(dst, start+HeaderSize+buf.Len())
		PutHeader(dst[start:], KindGob, tag, buf.Len())
		copy(dst[start+HeaderSize:], buf.Bytes())
		return dst, nil
	}
	if m.Kind == MsgSparse {
		v := m.Vec
		if len(v.Idx) != len(v.Val) {
			return dst, fmt.Errorf("sparse vector has %d indices but %d values", len(v.Idx), len(v.Val))
		}
		if v.Dim < 0 {
			return dst, fmt.Errorf("sparse vector has negative dimension %d", v.Dim)
		}
		if len(v.Idx) > (MaxPayload-sparseHeader)/12 {
			return dst, fmt.Errorf("sparse vector with %d entries exceeds the %d-byte frame limit", len(v.Idx), MaxPayload)
		}
	}
	n := m.payloadSize()
	if n < 0 {
		return dst, fmt.Errorf("cannot send message of kind %d", m.Kind)
	}
	if n > MaxPayload {
		return dst, fmt.Errorf("%s payload of %d bytes exceeds the %d-byte frame limit", KindName(m.FrameKind()), n, MaxPayload)
	}
	start := len(dst)
	dst = Grow(dst, start+HeaderSize+n)
	PutHeader(dst[start:], m.FrameKind(), tag, n)
	p := dst[start+HeaderSize:]
	switch m.Kind {
	case MsgSparse:
		v := m.Vec
		nnz := len(v.Idx)
		binary.LittleEndian.PutUint64(p, uint64(v.Dim))
		binary.LittleEndian.PutUint32(p[8:], uint32(nnz))
		putInt32s(p[sparseHeader:sparseHeader+4*nnz], v.Idx)
		putFloat64s(p[sparseHeader+4*nnz:], v.Val)
	case MsgDense:
		putFloat64s(p, m.F)
	case MsgBytes:
		copy(p, m.B)
	}
	return dst, nil
}

// AppendControl appends a control frame (tag 0) with the given payload.
func AppendControl(dst []byte, kind byte, payload []byte) []byte {
	start := len(dst)
	dst = Grow(dst, start+HeaderSize+len(payload))
	PutHeader(dst[start:], kind, 0, len(payload))
	copy(dst[start+HeaderSize:], payload)
	return dst
}

// errKindMismatch is returned when a frame's kind does not suit the
// destination; the frame has been consumed and the stream is still in step.
var errKindMismatch = errors.New("message type mismatch")

// DecodePayload decodes payload p of a frame of the given kind into m.
// It never panics and allocates at most in proportion to len(p).
func DecodePayload(kind byte, p []byte, m *Msg) error {
	want := m.FrameKind()
	if kind != want {
		return fmt.Errorf("%w: frame carries %s, receiver expects %s", errKindMismatch, KindName(kind), KindName(want))
	}
	switch m.Kind {
	case MsgSparse:
		return decodeSparse(p, m.Vec)
	case MsgDense, MsgAddDense:
		if len(p)%8 != 0 {
			return fmt.Errorf("float64 payload of %d bytes is not a multiple of 8", len(p))
		}
		if len(p)/8 != len(m.F) {
			return fmt.Errorf("dense length mismatch: frame has %d values, receiver expects %d", len(p)/8, len(m.F))
		}
		if m.Kind == MsgAddDense {
			addFloat64s(m.F, p)
		} else {
			getFloat64s(m.F, p)
		}
		return nil
	case MsgDensePtr:
		if len(p)%8 != 0 {
			return fmt.Errorf("float64 payload of %d bytes is not a multiple of 8", len(p))
		}
		*m.FP = Grow(*m.FP, len(p)/8)
		getFloat64s(*m.FP, p)
		return nil
	case MsgBytes:
		if len(p) != len(m.B) {
			return fmt.Errorf("byte length mismatch: frame has %d bytes, receiver expects %d", len(p), len(m.B))
		}
		copy(m.B, p)
		return nil
	case MsgBytesPtr:
		*m.BP = Grow(*m.BP, len(p))
		copy(*m.BP, p)
		return nil
	case MsgGob:
		if err := gob.NewDecoder(bytes.NewReader(p)).Decode(m.V); err != nil {
			return fmt.Errorf("gob decoding into %T: %w", m.V, err)
		}
		return nil
	}
	return fmt.Errorf("cannot decode into message of kind %d", m.Kind)
}

// decodeSparse decodes a sparse-vector payload into v, reusing its storage.
func decodeSparse(p []byte, v *sparse.Vector) error {
	if len(p) < sparseHeader {
		return fmt.Errorf("sparse payload truncated: %d bytes", len(p))
	}
	dim := binary.LittleEndian.Uint64(p)
	nnz := uint64(binary.LittleEndian.Uint32(p[8:]))
	if need := sparseHeader + 12*nnz; uint64(len(p)) != need {
		return fmt.Errorf("sparse payload is %d bytes, %d entries need %d", len(p), nnz, need)
	}
	if dim > math.MaxInt32+1 {
		return fmt.Errorf("sparse vector dimension %d exceeds the int32 index range", dim)
	}
	if dim > math.MaxInt {
		// 32-bit platforms: 2^31 would become a negative Dim.
		return fmt.Errorf("sparse vector dimension %d exceeds this platform's int", dim)
	}
	if nnz > dim {
		return fmt.Errorf("sparse vector has %d entries but dimension %d", nnz, dim)
	}
	k := int(nnz)
	v.Dim = int(dim)
	v.Idx = Grow(v.Idx, k)
	v.Val = Grow(v.Val, k)
	getInt32s(v.Idx, p[sparseHeader:sparseHeader+4*k])
	getFloat64s(v.Val, p[sparseHeader+4*k:])
	if err := v.Validate(); err != nil {
		return fmt.Errorf("received %w", err)
	}
	return nil
}

// AppendFrame appends to dst the frame that Send writes for data with the
// given tag, and returns the extended slice. data may be any value Send
// accepts: *sparse.Vector, []float64, *[]float64, []byte, mpi.Raw and
// pointers to them take the binary fast paths; other values are gob-encoded.
func AppendFrame(dst []byte, data any, tag int) ([]byte, error) {
	m, err := ForSend(data)
	if err != nil {
		return dst, fmt.Errorf("collective: encode frame: %w", err)
	}
	t, err := CheckTag(tag)
	if err != nil {
		return dst, fmt.Errorf("collective: encode frame: %w", err)
	}
	dst, err = AppendMsg(dst, &m, t)
	if err != nil {
		return dst, fmt.Errorf("collective: encode frame: %w", err)
	}
	return dst, nil
}

// DecodeFrame decodes one complete frame into data, as Receive would, and
// returns the frame's tag. data is a destination Receive accepts:
// *sparse.Vector (reused, then validated), []float64 or []byte (lengths must
// match), *[]float64, *[]byte, *mpi.Raw (resized), or a pointer for gob.
// A truncated, oversized, inconsistent or garbage frame, a control frame, or
// a frame whose type does not suit data yields an error; DecodeFrame never
// panics and allocates at most in proportion to len(frame).
func DecodeFrame(frame []byte, data any) (tag int, err error) {
	m, err := ForReceive(data)
	if err != nil {
		return 0, fmt.Errorf("collective: decode frame: %w", err)
	}
	h, err := ParseHeader(frame)
	if err != nil {
		return 0, fmt.Errorf("collective: decode frame: %w", err)
	}
	if len(frame)-HeaderSize != h.N {
		return int(h.Tag), fmt.Errorf("collective: decode frame: header announces %d payload bytes, frame has %d", h.N, len(frame)-HeaderSize)
	}
	switch h.Kind {
	case KindSparse, KindFloat64s, KindBytes, KindGob:
	default:
		return int(h.Tag), fmt.Errorf("collective: decode frame: %s is a control frame, not a message", KindName(h.Kind))
	}
	if err := DecodePayload(h.Kind, frame[HeaderSize:], &m); err != nil {
		return int(h.Tag), fmt.Errorf("collective: decode frame (tag %d): %w", h.Tag, err)
	}
	return int(h.Tag), nil
}

// FrameTag reads the tag of an encoded frame.
func FrameTag(f []byte) int32 { return int32(binary.LittleEndian.Uint32(f[4:])) }
