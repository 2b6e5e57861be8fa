package wire

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/btracey/mpi"

	"github.com/efmpi/efmpi/sparse"
)

// collectiveTagBase is collective.TagBase (the seed frames use the
// collectives' tags; the package cannot import collective).
const collectiveTagBase = 0x7EF00000

// fuzzGob is the gob value of the decoding tests: a struct, so that its gob
// encoding is deterministic (no maps).
type fuzzGob struct {
	A int
	B string
	C []float64
	D []byte
	E *fuzzInner
}

type fuzzInner struct {
	X int32
	Y []string
}

// seedSparse returns a valid sparse vector of dimension dim with nnz entries
// at random sorted indices, values including -0, NaN and ±Inf when nnz is
// large enough.
func seedSparse(dim, nnz int, seed uint64) *sparse.Vector {
	rng := rand.New(rand.NewPCG(seed, 7))
	idx := rng.Perm(dim)[:nnz]
	slices.Sort(idx)
	v := sparse.NewVector(dim, nnz)
	special := []float64{math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), math.SmallestNonzeroFloat64}
	for j, i := range idx {
		x := rng.NormFloat64()
		if j < len(special) && nnz > 2*len(special) {
			x = special[j]
		}
		v.Append(int32(i), x)
	}
	return v
}

func mustFrame(tb testing.TB, data any, tag int) []byte {
	tb.Helper()
	f, err := AppendFrame(nil, data, tag)
	if err != nil {
		tb.Fatalf("AppendFrame(%T): %v", data, err)
	}
	return f
}

func mustFrameOrNil(data any) []byte {
	f, err := AppendFrame(nil, data, 0)
	if err != nil {
		return nil
	}
	return f
}

// validFrames returns one valid frame of every message kind the codec has.
func validFrames(tb testing.TB) [][]byte {
	tb.Helper()
	var fs [][]byte
	for i, nnz := range []int{0, 1, 2, 5, 17, 64} {
		fs = append(fs, mustFrame(tb, seedSparse(3*nnz+1, nnz, uint64(i)), collectiveTagBase+i))
	}
	fs = append(fs, mustFrame(tb, sparse.NewVector(0, 0), 0))
	fs = append(fs, mustFrame(tb, []float64{}, 1))
	fs = append(fs, mustFrame(tb, []float64{1.5, math.NaN(), -0.0, math.Inf(-1)}, -3))
	fs = append(fs, mustFrame(tb, []byte{}, 2))
	fs = append(fs, mustFrame(tb, []byte("hello, frame"), math.MaxInt32))
	fs = append(fs, mustFrame(tb, fuzzGob{A: -42, B: "gob", C: []float64{1, 2}, D: []byte{9}, E: &fuzzInner{X: 3, Y: []string{"a", "bc"}}}, math.MinInt32))
	fs = append(fs, mustFrame(tb, fuzzGob{}, 5))
	fs = append(fs, mustFrame(tb, map[string]int{"x": 1}, 6))
	fs = append(fs, mustFrame(tb, 3.25, 7))
	return fs
}

// controlFrames returns valid control frames, which DecodeFrame must refuse.
func controlFrames() [][]byte {
	nonce := bytes.Repeat([]byte{0xA5}, NonceSize)
	mac := bytes.Repeat([]byte{0x5A}, MACSize)
	return [][]byte{
		AppendControl(nil, KindHeartbeat, nil),
		AppendControl(nil, KindGoodbye, nil),
		AppendControl(nil, KindAbort, AppendAbort(nil, 3, "node7", "peer finalized and left the job while a message was expected")),
		AppendControl(nil, KindHello, AppendHello(nil, nonce, 4)),
		AppendControl(nil, KindJoin, AppendJoin(nil, Join{Rank: 2, Size: 4, Nonce: nonce, MAC: mac, Host: "h"})),
		AppendControl(nil, KindWelcome, AppendWelcome(nil, mac, "root")),
		AppendControl(nil, KindRefuse, []byte("no")),
	}
}

func FuzzDecodeFrame(f *testing.F) {
	seeds := append(validFrames(f), controlFrames()...)
	for _, s := range seeds {
		f.Add(s)
		// Truncated variants: no payload, half a header, one byte short.
		f.Add(s[:min(len(s), HeaderSize)])
		f.Add(s[:min(len(s), HeaderSize/2)])
		if len(s) > HeaderSize {
			f.Add(s[:len(s)-1])
			f.Add(append(slices.Clone(s), 0))
		}
		// Corrupted variants: a byte flipped in the header and in the payload.
		for _, at := range []int{0, 1, 2, 3, 8, 11, HeaderSize + 8, HeaderSize + 12, len(s) - 1} {
			if at < len(s) {
				c := slices.Clone(s)
				c[at] ^= 0x81
				f.Add(c)
			}
		}
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, frame []byte) {
		checkDecodeFrame(t, frame)
	})
}

// checkDecodeFrame decodes frame into every destination type, checking the
// properties of successful decodes; it must not panic.
func checkDecodeFrame(t *testing.T, frame []byte) {
	// The destination's previous contents must not leak into the result.
	sv := seedSparse(50, 9, 1)
	tag, err := DecodeFrame(frame, sv)
	if err == nil {
		if verr := sv.Validate(); verr != nil {
			t.Fatalf("decoded sparse vector is invalid: %v", verr)
		}
		if len(frame) != SparseFrameSize(sv.Len()) {
			t.Fatalf("frame of %d bytes decoded to %d entries (frame size %d)", len(frame), sv.Len(), SparseFrameSize(sv.Len()))
		}
		re, err := AppendFrame(nil, sv, tag)
		if err != nil {
			t.Fatalf("re-encoding a decoded sparse vector: %v", err)
		}
		if !bytes.Equal(re, frame) {
			t.Fatalf("re-encoded sparse frame differs:\n got %x\nwant %x", re, frame)
		}
		// The portable (non-memmove) encoders must agree with the fast ones.
		p := make([]byte, 12*sv.Len())
		putInt32sPortable(p, sv.Idx)
		putFloat64sPortable(p[4*sv.Len():], sv.Val)
		if !bytes.Equal(p, frame[HeaderSize+sparseHeader:]) {
			t.Fatalf("portable encoding differs from the frame")
		}
	}

	var fp []float64
	tag, err = DecodeFrame(frame, &fp)
	if err == nil {
		if len(frame) != DenseFrameSize(len(fp)) {
			t.Fatalf("frame of %d bytes decoded to %d float64s", len(frame), len(fp))
		}
		re, err := AppendFrame(nil, fp, tag)
		if err != nil || !bytes.Equal(re, frame) {
			t.Fatalf("re-encoded dense frame differs (err %v)", err)
		}
		q := make([]float64, len(fp))
		getFloat64sPortable(q, frame[HeaderSize:])
		if !sameBits(q, fp) {
			t.Fatalf("portable decoding differs")
		}
		// A fixed-length destination of the right length takes it, of
		// another length refuses it.
		fixed := make([]float64, len(fp))
		if _, err := DecodeFrame(frame, fixed); err != nil || !sameBits(fixed, fp) {
			t.Fatalf("fixed-length dense decode: %v", err)
		}
		if _, err := DecodeFrame(frame, make([]float64, len(fp)+1)); err == nil {
			t.Fatalf("dense frame of %d values decoded into %d", len(fp), len(fp)+1)
		}
		// The Reduce path adds the values in place.
		acc := make([]float64, len(fp))
		for i := range acc {
			acc[i] = 1
		}
		if err := DecodePayload(KindFloat64s, frame[HeaderSize:], &Msg{Kind: MsgAddDense, F: acc}); err != nil {
			t.Fatalf("add-decoding a dense frame: %v", err)
		}
		for i := range acc {
			if want := 1 + fp[i]; math.Float64bits(acc[i]) != math.Float64bits(want) && !(math.IsNaN(acc[i]) && math.IsNaN(want)) {
				t.Fatalf("add-decode value %d: got %v, want %v", i, acc[i], want)
			}
		}
	} else {
		_, _ = DecodeFrame(frame, make([]float64, max(0, (len(frame)-HeaderSize)/8)))
	}

	var bp []byte
	tag, err = DecodeFrame(frame, &bp)
	if err == nil {
		re, err := AppendFrame(nil, bp, tag)
		if err != nil || !bytes.Equal(re, frame) {
			t.Fatalf("re-encoded bytes frame differs (err %v)", err)
		}
		fixed := make([]byte, len(bp))
		if _, err := DecodeFrame(frame, fixed); err != nil || !bytes.Equal(fixed, bp) {
			t.Fatalf("fixed-length bytes decode: %v", err)
		}
		var raw mpi.Raw
		if _, err := DecodeFrame(frame, &raw); err != nil || !bytes.Equal(raw, bp) {
			t.Fatalf("mpi.Raw decode: %v", err)
		}
	} else {
		_, _ = DecodeFrame(frame, make([]byte, max(0, len(frame)-HeaderSize)))
	}

	var g fuzzGob
	tag, err = DecodeFrame(frame, &g)
	if err == nil {
		// Gob encodings of one value are not unique, but encoding the
		// decoded value must work and decode to the same encoding again.
		re, err := AppendFrame(nil, g, tag)
		if err != nil {
			t.Fatalf("re-encoding a decoded gob value: %v", err)
		}
		var g2 fuzzGob
		if _, err := DecodeFrame(re, &g2); err != nil {
			t.Fatalf("decoding a re-encoded gob value: %v", err)
		}
		if re2, err := AppendFrame(nil, g2, tag); err != nil || !bytes.Equal(re, re2) {
			t.Fatalf("gob value does not survive a round trip (err %v)", err)
		}
	}
	var m map[string]int
	_, _ = DecodeFrame(frame, &m)
	var x float64
	_, _ = DecodeFrame(frame, &x)

	// Control frames never decode as messages; their payload parsers, which
	// read what peers send during the handshake and on abort, must not panic
	// either.
	if h, err := ParseHeader(frame); err == nil && len(frame)-HeaderSize == h.N {
		p := frame[HeaderSize:]
		switch h.Kind {
		case KindSparse, KindFloat64s, KindBytes, KindGob:
			return
		case KindHello:
			_, _, _ = ParseHello(p)
		case KindJoin:
			_, _ = ParseJoin(p)
		case KindWelcome:
			_, _, _ = ParseWelcome(p)
		case KindAbort:
			if r, host, cause, err := ParseAbort(p); err == nil {
				if r < 0 || CleanHost(host) != host || !utf8.ValidString(cause) {
					t.Fatalf("ParseAbort returned rank %d, host %q, cause %q", r, host, cause)
				}
			}
		}
		for _, d := range []any{sparse.NewVector(0, 0), &fp, &bp, &g} {
			if _, err := DecodeFrame(frame, d); err == nil {
				t.Fatalf("%s frame decoded into %T", KindName(h.Kind), d)
			}
		}
	}
}

// TestDecodeFrameValid checks that every seed frame decodes into its own
// type with the checks of the fuzz body.
func TestDecodeFrameValid(t *testing.T) {
	for _, f := range append(validFrames(t), controlFrames()...) {
		checkDecodeFrame(t, f)
	}
	// NaN, ±Inf and -0 are values like any other: carried bit for bit.
	v := seedSparse(100, 20, 3)
	if !math.IsNaN(v.Val[1]) {
		t.Fatal("seed vector has no NaN")
	}
	var got sparse.Vector
	if _, err := DecodeFrame(mustFrame(t, v, 1), &got); err != nil || !sameSparse(&got, v) {
		t.Fatalf("sparse vector with NaN and Inf: err %v, got %+v", err, got)
	}
	// The largest dimension int32 indices allow decodes where int can hold
	// it, and is refused (not turned negative) where it cannot.
	top := sparse.NewVector(0, 0)
	top.Dim = math.MaxInt32
	top.Dim++ // 2^31 where int has 64 bits; wraps negative on 32-bit platforms
	topFrame := mustFrameOrNil(top)
	if topFrame == nil { // 32-bit: encode by hand
		topFrame = mustFrame(t, sparse.NewVector(0, 0), 0)
		binary.LittleEndian.PutUint64(topFrame[HeaderSize:], 1<<31)
	}
	got.Reset(5)
	if _, err := DecodeFrame(topFrame, &got); err == nil && int64(got.Dim) != 1<<31 {
		t.Fatalf("dimension 2^31 decoded as %d", got.Dim)
	} else if err != nil && math.MaxInt > math.MaxInt32 {
		t.Fatalf("dimension 2^31 refused on a 64-bit platform: %v", err)
	}

	var g fuzzGob
	want := fuzzGob{A: 1, B: "b", E: &fuzzInner{Y: []string{"y"}}}
	if tag, err := DecodeFrame(mustFrame(t, want, 9), &g); err != nil || tag != 9 || g.B != "b" || g.E.Y[0] != "y" {
		t.Fatalf("gob value: tag %d, err %v, got %+v", tag, err, g)
	}
}

// TestDecodeFrameRejects checks that truncated, inconsistent and garbage
// frames yield errors, not panics or silently wrong values.
func TestDecodeFrameRejects(t *testing.T) {
	v := seedSparse(40, 5, 2) // indices sorted, all < 40
	good := mustFrame(t, v, 11)
	idxAt := func(j int) int { return HeaderSize + sparseHeader + 4*j }
	mod := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	setU32 := func(at int, x uint32) []byte {
		return mod(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[at:], x); return b })
	}
	setU64 := func(at int, x uint64) []byte {
		return mod(func(b []byte) []byte { binary.LittleEndian.PutUint64(b[at:], x); return b })
	}
	setByte := func(at int, x byte) []byte {
		return mod(func(b []byte) []byte { b[at] = x; return b })
	}
	// withNNZ rewrites nnz and keeps the header's length consistent with the
	// bytes present, so that only the sparse payload check can catch it.
	withNNZ := func(nnz uint32) []byte { return setU32(HeaderSize+8, nnz) }
	header := func(kind byte, n uint32, payload int) []byte {
		b := make([]byte, HeaderSize+payload)
		PutHeader(b, kind, 0, 0)
		binary.LittleEndian.PutUint32(b[8:], n)
		return b
	}
	dense := mustFrame(t, []float64{1, 2, 3}, 4)
	bs := mustFrame(t, []byte("abc"), 4)

	cases := []struct {
		name  string
		frame []byte
		dst   any
	}{
		{"empty", nil, &sparse.Vector{}},
		{"half header", good[:HeaderSize/2], &sparse.Vector{}},
		{"header only", good[:HeaderSize], &sparse.Vector{}},
		{"payload truncated", good[:len(good)-1], &sparse.Vector{}},
		{"trailing byte", append(slices.Clone(good), 0), &sparse.Vector{}},
		{"bad magic", setByte(0, 0xEE), &sparse.Vector{}},
		{"bad version 0", setByte(1, 0), &sparse.Vector{}},
		{"bad version 2", setByte(1, 2), &sparse.Vector{}},
		{"reserved byte set", setByte(3, 1), &sparse.Vector{}},
		{"unknown kind", setByte(2, 9), &sparse.Vector{}},
		{"length beyond MaxPayload", header(KindSparse, MaxPayload+1, 0), &sparse.Vector{}},
		{"length 4 GiB-1", header(KindBytes, math.MaxUint32, 16), new([]byte)},
		{"MaxPayload announced, few bytes", header(KindFloat64s, MaxPayload, 64), new([]float64)},
		{"heartbeat with payload", header(KindHeartbeat, 1, 1), new([]byte)},
		{"abort over control limit", header(KindAbort, MaxControlPayload+1, 0), new([]byte)},
		{"sparse payload below its header", header(KindSparse, 11, 11), &sparse.Vector{}},
		{"nnz one more than entries", withNNZ(6), &sparse.Vector{}},
		{"nnz one less than entries", withNNZ(4), &sparse.Vector{}},
		{"nnz huge", withNNZ(math.MaxUint32), &sparse.Vector{}},
		{"nnz above dim", setU64(HeaderSize, 3), &sparse.Vector{}},
		{"dim beyond int32 indices", setU64(HeaderSize, math.MaxInt32+2), &sparse.Vector{}},
		{"dim 2^64-1", setU64(HeaderSize, math.MaxUint64), &sparse.Vector{}},
		{"unsorted indices", mod(func(b []byte) []byte {
			i0, i1 := binary.LittleEndian.Uint32(b[idxAt(1):]), binary.LittleEndian.Uint32(b[idxAt(2):])
			binary.LittleEndian.PutUint32(b[idxAt(1):], i1)
			binary.LittleEndian.PutUint32(b[idxAt(2):], i0)
			return b
		}), &sparse.Vector{}},
		{"duplicate index", mod(func(b []byte) []byte {
			copy(b[idxAt(2):idxAt(3)], b[idxAt(1):idxAt(2)])
			return b
		}), &sparse.Vector{}},
		{"negative index", setU32(idxAt(0), math.MaxUint32), &sparse.Vector{}},
		{"index equal to dim", setU32(idxAt(4), 40), &sparse.Vector{}},
		{"index beyond dim", setU32(idxAt(4), 1<<30), &sparse.Vector{}},
		{"sparse into []float64", good, new([]float64)},
		{"sparse into []byte", good, new([]byte)},
		{"sparse into gob value", good, new(fuzzGob)},
		{"dense into sparse", dense, &sparse.Vector{}},
		{"dense too long for fixed slice", dense, make([]float64, 2)},
		{"dense too short for fixed slice", dense, make([]float64, 4)},
		{"dense payload not a multiple of 8", append(header(KindFloat64s, 12, 0), make([]byte, 12)...), new([]float64)},
		{"dense payload not a multiple of 8, fixed", append(header(KindFloat64s, 12, 0), make([]byte, 12)...), make([]float64, 1)},
		{"bytes length mismatch", bs, make([]byte, 4)},
		{"bytes into dense", bs, new([]float64)},
		{"gob garbage", append(header(KindGob, 5, 0), 1, 2, 3, 4, 5), new(fuzzGob)},
		{"gob of another type", mustFrame(t, "a string", 1), new(fuzzGob)},
		{"heartbeat", controlFrames()[0], new([]byte)},
		{"goodbye", controlFrames()[1], new([]byte)},
		{"abort", controlFrames()[2], new([]byte)},
		{"hello", controlFrames()[3], new([]byte)},
		{"nil destination", good, nil},
		{"nil *sparse.Vector", good, (*sparse.Vector)(nil)},
		{"nil *[]float64", dense, (*[]float64)(nil)},
		{"non-pointer gob destination", mustFrame(t, 1, 1), 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panic: %v", r)
				}
			}()
			if _, err := DecodeFrame(c.frame, c.dst); err == nil {
				t.Fatalf("DecodeFrame accepted %x into %T", c.frame, c.dst)
			}
		})
	}
}

// TestAppendFrameRejects checks the sender's checks.
func TestAppendFrameRejects(t *testing.T) {
	cases := []struct {
		name string
		data any
		tag  int
	}{
		{"nil", nil, 0},
		{"nil vector", (*sparse.Vector)(nil), 0},
		{"ragged vector", &sparse.Vector{Dim: 3, Idx: []int32{0, 1}, Val: []float64{1}}, 0},
		{"negative dim", &sparse.Vector{Dim: -1}, 0},
		{"gob of a func", func() {}, 0},
	}
	if big := int64(math.MaxInt32) + 1; int64(int(big)) == big { // 64-bit int
		cases = append(cases, struct {
			name string
			data any
			tag  int
		}{"tag beyond int32", []byte{}, int(big)})
	}
	for _, c := range cases {
		if _, err := AppendFrame(nil, c.data, c.tag); err == nil {
			t.Errorf("%s: AppendFrame accepted it", c.name)
		}
	}
}

// sameBits reports whether a and b hold the same float64 bit patterns.
func sameBits(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

func sameSparse(a, b *sparse.Vector) bool {
	return a.Dim == b.Dim && slices.Equal(a.Idx, b.Idx) && sameBits(a.Val, b.Val)
}
