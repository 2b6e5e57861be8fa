package collective

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

	// maxControlPayload bounds handshake and abort payloads.
	maxControlPayload = 4096
)

// Frame kinds.
const (
	kindSparse    byte = 1
	kindFloat64s  byte = 2
	kindBytes     byte = 3
	kindGob       byte = 4
	kindHeartbeat byte = 16
	kindGoodbye   byte = 17
	kindAbort     byte = 18
	kindHello     byte = 32 // rank 0 → joining rank: nonce and size
	kindJoin      byte = 33 // joining rank → rank 0: rank, nonce, MAC, host
	kindWelcome   byte = 34 // rank 0 → joining rank: MAC, host
	kindRefuse    byte = 35 // rank 0 → joining rank: reason
)

// SparseFrameSize is the size in bytes of the frame carrying a sparse vector
// with nnz entries: header, dim, nnz, indices and values.
func SparseFrameSize(nnz int) int { return HeaderSize + sparseHeader + 12*nnz }

// DenseFrameSize is the size in bytes of the frame carrying n float64 values.
func DenseFrameSize(n int) int { return HeaderSize + 8*n }

// BytesFrameSize is the size in bytes of the frame carrying n raw bytes.
func BytesFrameSize(n int) int { return HeaderSize + n }

func kindName(k byte) string {
	switch k {
	case kindSparse:
		return "sparse vector"
	case kindFloat64s:
		return "float64 values"
	case kindBytes:
		return "raw bytes"
	case kindGob:
		return "gob value"
	case kindHeartbeat:
		return "heartbeat"
	case kindGoodbye:
		return "goodbye"
	case kindAbort:
		return "abort"
	case kindHello:
		return "hello"
	case kindJoin:
		return "join"
	case kindWelcome:
		return "welcome"
	case kindRefuse:
		return "refuse"
	}
	return fmt.Sprintf("kind %d", k)
}

// header is a parsed frame header.
type header struct {
	kind byte
	tag  int32
	n    int // payload length
}

// putHeader writes a header into b[:HeaderSize].
func putHeader(b []byte, kind byte, tag int32, n int) {
	b[0] = frameMagic
	b[1] = frameVersion
	b[2] = kind
	b[3] = 0
	binary.LittleEndian.PutUint32(b[4:], uint32(tag))
	binary.LittleEndian.PutUint32(b[8:], uint32(n))
}

// parseHeader validates b[:HeaderSize] as a frame header.
func parseHeader(b []byte) (header, error) {
	if len(b) < HeaderSize {
		return header{}, fmt.Errorf("frame header truncated: %d of %d bytes", len(b), HeaderSize)
	}
	if b[0] != frameMagic {
		return header{}, fmt.Errorf("bad frame magic 0x%02x", b[0])
	}
	if b[1] != frameVersion {
		return header{}, fmt.Errorf("unsupported frame version %d (want %d)", b[1], frameVersion)
	}
	if b[3] != 0 {
		return header{}, fmt.Errorf("frame reserved byte is 0x%02x, want 0", b[3])
	}
	h := header{
		kind: b[2],
		tag:  int32(binary.LittleEndian.Uint32(b[4:])),
	}
	n := binary.LittleEndian.Uint32(b[8:])
	limit := uint32(0)
	switch h.kind {
	case kindSparse, kindFloat64s, kindBytes, kindGob:
		limit = MaxPayload
	case kindHeartbeat, kindGoodbye:
		limit = 0
	case kindAbort, kindHello, kindJoin, kindWelcome, kindRefuse:
		limit = maxControlPayload
	default:
		return header{}, fmt.Errorf("unknown frame kind %d", h.kind)
	}
	if n > limit {
		return header{}, fmt.Errorf("%s frame announces %d payload bytes (limit %d)", kindName(h.kind), n, limit)
	}
	h.n = int(n)
	return h, nil
}

// msgKind says what a msg holds.
type msgKind uint8

const (
	mNone     msgKind = iota
	mSparse           // sv
	mDense            // f, length fixed on receive
	mDensePtr         // fp, resized on receive
	mAddDense         // receive only: f += decoded values
	mBytes            // b, length fixed on receive
	mBytesPtr         // bp, resized on receive
	mGob              // v
)

// msg is a message to encode or a destination to decode into. It is passed
// by value so that the hot path never boxes a slice into an interface.
type msg struct {
	k  msgKind
	sv *sparse.Vector
	f  []float64
	fp *[]float64
	b  []byte
	bp *[]byte
	v  any
}

// wireKind is the frame kind that carries m.
func (m *msg) wireKind() byte {
	switch m.k {
	case mSparse:
		return kindSparse
	case mDense, mDensePtr, mAddDense:
		return kindFloat64s
	case mBytes, mBytesPtr:
		return kindBytes
	}
	return kindGob
}

// value returns m as the value btracey's Send and Receive expect.
func (m *msg) value() any {
	switch m.k {
	case mSparse:
		return m.sv
	case mDense, mAddDense:
		return m.f
	case mDensePtr:
		return m.fp
	case mBytes:
		return m.b
	case mBytesPtr:
		return m.bp
	}
	return m.v
}

// sendMsgOf classifies a value given to Send.
func sendMsgOf(data any) (msg, error) {
	switch d := data.(type) {
	case nil:
		return msg{}, errors.New("cannot send nil")
	case *sparse.Vector:
		if d == nil {
			return msg{}, errors.New("cannot send a nil *sparse.Vector")
		}
		return msg{k: mSparse, sv: d}, nil
	case sparse.Vector:
		return msg{k: mSparse, sv: &d}, nil
	case []float64:
		return msg{k: mDense, f: d}, nil
	case *[]float64:
		if d == nil {
			return msg{}, errors.New("cannot send a nil *[]float64")
		}
		return msg{k: mDense, f: *d}, nil
	case []byte:
		return msg{k: mBytes, b: d}, nil
	case mpi.Raw:
		return msg{k: mBytes, b: d}, nil
	case *[]byte:
		if d == nil {
			return msg{}, errors.New("cannot send a nil *[]byte")
		}
		return msg{k: mBytes, b: *d}, nil
	case *mpi.Raw:
		if d == nil {
			return msg{}, errors.New("cannot send a nil *mpi.Raw")
		}
		return msg{k: mBytes, b: *d}, nil
	}
	return msg{k: mGob, v: data}, nil
}

// recvMsgOf classifies a destination given to Receive.
func recvMsgOf(data any) (msg, error) {
	switch d := data.(type) {
	case nil:
		return msg{}, errors.New("cannot receive into nil")
	case *sparse.Vector:
		if d == nil {
			return msg{}, errors.New("cannot receive into a nil *sparse.Vector")
		}
		return msg{k: mSparse, sv: d}, nil
	case []float64:
		return msg{k: mDense, f: d}, nil
	case *[]float64:
		if d == nil {
			return msg{}, errors.New("cannot receive into a nil *[]float64")
		}
		return msg{k: mDensePtr, fp: d}, nil
	case []byte:
		return msg{k: mBytes, b: d}, nil
	case mpi.Raw:
		return msg{k: mBytes, b: d}, nil
	case *[]byte:
		if d == nil {
			return msg{}, errors.New("cannot receive into a nil *[]byte")
		}
		return msg{k: mBytesPtr, bp: d}, nil
	case *mpi.Raw:
		if d == nil {
			return msg{}, errors.New("cannot receive into a nil *mpi.Raw")
		}
		return msg{k: mBytesPtr, bp: (*[]byte)(d)}, nil
	}
	if rv := reflect.ValueOf(data); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return msg{}, fmt.Errorf("cannot receive into %T: need a non-nil pointer", data)
	}
	return msg{k: mGob, v: data}, nil
}

// checkTag converts an mpi tag to the wire's int32.
func checkTag(tag int) (int32, error) {
	if tag < math.MinInt32 || tag > math.MaxInt32 {
		return 0, fmt.Errorf("tag %d does not fit in 32 bits", tag)
	}
	return int32(tag), nil
}

// payloadSize is the payload size of the frame carrying m, for the fast-path
// kinds; for gob it returns -1.
func (m *msg) payloadSize() int {
	switch m.k {
	case mSparse:
		return sparseHeader + 12*len(m.sv.Idx)
	case mDense:
		return 8 * len(m.f)
	case mBytes:
		return len(m.b)
	}
	return -1
}

// frameSize is the size of the frame that would carry m (gob values are
// encoded to find out).
func frameSize(m *msg) (int, error) {
	if n := m.payloadSize(); n >= 0 {
		return HeaderSize + n, nil
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(m.v); err != nil {
		return 0, fmt.Errorf("gob encoding %T: %w", m.v, err)
	}
	return HeaderSize + buf.Len(), nil
}

// grow returns b with length n, reusing its storage when large enough.
func grow[T any](b []T, n int) []T {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]T, n)
}

// appendFrame appends the frame carrying m to dst.
func appendFrame(dst []byte, m *msg, tag int32) ([]byte, error) {
	if m.k == mGob {
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(m.v); err != nil {
			return dst, fmt.Errorf("gob encoding %T: %w", m.v, err)
		}
		if buf.Len() > MaxPayload {
			return dst, fmt.Errorf("gob encoding of %T is %d bytes, above the %d-byte frame limit", m.v, buf.Len(), MaxPayload)
		}
		start := len(dst)
		dst = grow(dst, start+HeaderSize+buf.Len())
		putHeader(dst[start:], kindGob, tag, buf.Len())
		copy(dst[start+HeaderSize:], buf.Bytes())
		return dst, nil
	}
	if m.k == mSparse {
		v := m.sv
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
		return dst, fmt.Errorf("cannot send message of kind %d", m.k)
	}
	if n > MaxPayload {
		return dst, fmt.Errorf("%s payload of %d bytes exceeds the %d-byte frame limit", kindName(m.wireKind()), n, MaxPayload)
	}
	start := len(dst)
	dst = grow(dst, start+HeaderSize+n)
	putHeader(dst[start:], m.wireKind(), tag, n)
	p := dst[start+HeaderSize:]
	switch m.k {
	case mSparse:
		v := m.sv
		nnz := len(v.Idx)
		binary.LittleEndian.PutUint64(p, uint64(v.Dim))
		binary.LittleEndian.PutUint32(p[8:], uint32(nnz))
		putInt32s(p[sparseHeader:sparseHeader+4*nnz], v.Idx)
		putFloat64s(p[sparseHeader+4*nnz:], v.Val)
	case mDense:
		putFloat64s(p, m.f)
	case mBytes:
		copy(p, m.b)
	}
	return dst, nil
}

// appendControl appends a control frame (tag 0) with the given payload.
func appendControl(dst []byte, kind byte, payload []byte) []byte {
	start := len(dst)
	dst = grow(dst, start+HeaderSize+len(payload))
	putHeader(dst[start:], kind, 0, len(payload))
	copy(dst[start+HeaderSize:], payload)
	return dst
}

// errKindMismatch is returned when a frame's kind does not suit the
// destination; the frame has been consumed and the stream is still in step.
var errKindMismatch = errors.New("message type mismatch")

// decodePayload decodes payload p of a frame of the given kind into m.
// It never panics and allocates at most in proportion to len(p).
func decodePayload(kind byte, p []byte, m *msg) error {
	want := m.wireKind()
	if kind != want {
		return fmt.Errorf("%w: frame carries %s, receiver expects %s", errKindMismatch, kindName(kind), kindName(want))
	}
	switch m.k {
	case mSparse:
		return decodeSparse(p, m.sv)
	case mDense, mAddDense:
		if len(p)%8 != 0 {
			return fmt.Errorf("float64 payload of %d bytes is not a multiple of 8", len(p))
		}
		if len(p)/8 != len(m.f) {
			return fmt.Errorf("dense length mismatch: frame has %d values, receiver expects %d", len(p)/8, len(m.f))
		}
		if m.k == mAddDense {
			addFloat64s(m.f, p)
		} else {
			getFloat64s(m.f, p)
		}
		return nil
	case mDensePtr:
		if len(p)%8 != 0 {
			return fmt.Errorf("float64 payload of %d bytes is not a multiple of 8", len(p))
		}
		*m.fp = grow(*m.fp, len(p)/8)
		getFloat64s(*m.fp, p)
		return nil
	case mBytes:
		if len(p) != len(m.b) {
			return fmt.Errorf("byte length mismatch: frame has %d bytes, receiver expects %d", len(p), len(m.b))
		}
		copy(m.b, p)
		return nil
	case mBytesPtr:
		*m.bp = grow(*m.bp, len(p))
		copy(*m.bp, p)
		return nil
	case mGob:
		if err := gob.NewDecoder(bytes.NewReader(p)).Decode(m.v); err != nil {
			return fmt.Errorf("gob decoding into %T: %w", m.v, err)
		}
		return nil
	}
	return fmt.Errorf("cannot decode into message of kind %d", m.k)
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
	v.Idx = grow(v.Idx, k)
	v.Val = grow(v.Val, k)
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
	m, err := sendMsgOf(data)
	if err != nil {
		return dst, fmt.Errorf("collective: encode frame: %w", err)
	}
	t, err := checkTag(tag)
	if err != nil {
		return dst, fmt.Errorf("collective: encode frame: %w", err)
	}
	dst, err = appendFrame(dst, &m, t)
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
	m, err := recvMsgOf(data)
	if err != nil {
		return 0, fmt.Errorf("collective: decode frame: %w", err)
	}
	h, err := parseHeader(frame)
	if err != nil {
		return 0, fmt.Errorf("collective: decode frame: %w", err)
	}
	if len(frame)-HeaderSize != h.n {
		return int(h.tag), fmt.Errorf("collective: decode frame: header announces %d payload bytes, frame has %d", h.n, len(frame)-HeaderSize)
	}
	switch h.kind {
	case kindSparse, kindFloat64s, kindBytes, kindGob:
	default:
		return int(h.tag), fmt.Errorf("collective: decode frame: %s is a control frame, not a message", kindName(h.kind))
	}
	if err := decodePayload(h.kind, frame[HeaderSize:], &m); err != nil {
		return int(h.tag), fmt.Errorf("collective: decode frame (tag %d): %w", h.tag, err)
	}
	return int(h.tag), nil
}
