package datasets

import (
	"encoding/binary"
	"fmt"
	"math"
)

// A decoder for the subset of Python's pickle format that CIFAR-10's python
// version and Python's own pickle of the same dicts use: protocols 0–5 as far
// as a dict of bytes/str keys holding bytes, lists or tuples of ints, and
// NumPy arrays. Nothing is executed: the only globals a REDUCE may call are
// numpy's array reconstruction (numpy.core.multiarray._reconstruct, or
// numpy._core in NumPy 2), numpy.dtype, and _codecs.encode (Python 3 pickles
// bytes so at protocols ≤ 2); anything else is an error.

// pyTuple is a Python tuple; a list is *pyList.
type pyTuple []any

type pyList struct{ items []any }

// pyDict keeps its items in pickle order (keys are string or []byte values).
type pyDict struct{ keys, vals []any }

type pyGlobal struct{ module, name string }

// pyDtype is a numpy.dtype: its type string ("u1", "i8", …) and byte order.
type pyDtype struct {
	kind  string
	order byte // '<', '>', '|' or '=' (set by BUILD)
}

// ndarray is a NumPy array rebuilt by _reconstruct and BUILD.
type ndarray struct {
	shape   []int
	dtype   *pyDtype
	fortran bool
	data    []byte
}

type pyMark struct{}

// get returns the value of key (a str or bytes key equal to name).
func (d *pyDict) get(name string) (any, bool) {
	for i, k := range d.keys {
		switch k := k.(type) {
		case string:
			if k == name {
				return d.vals[i], true
			}
		case []byte:
			if string(k) == name {
				return d.vals[i], true
			}
		}
	}
	return nil, false
}

// unpickle decodes one pickle from data (the whole stream must be one
// object followed by STOP; trailing bytes are an error).
func unpickle(data []byte) (any, error) {
	p := &unpickler{in: data, memo: map[uint64]any{}}
	v, err := p.run()
	if err != nil {
		return nil, fmt.Errorf("pickle offset %d: %w", p.op, err)
	}
	if p.pos != len(data) {
		return nil, fmt.Errorf("pickle offset %d: %d bytes after STOP", p.pos, len(data)-p.pos)
	}
	return v, nil
}

type unpickler struct {
	in      []byte
	pos, op int // next byte; offset of the opcode being decoded
	stack   []any
	marks   []int
	memo    map[uint64]any
}

func (p *unpickler) take(n uint64) ([]byte, error) {
	if n > uint64(len(p.in)-p.pos) {
		return nil, fmt.Errorf("%d bytes wanted, %d left", n, len(p.in)-p.pos)
	}
	b := p.in[p.pos : p.pos+int(n)]
	p.pos += int(n)
	return b, nil
}

func (p *unpickler) uint(n int) (uint64, error) {
	b, err := p.take(uint64(n))
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

// line reads up to a newline (protocol 0 arguments of GLOBAL).
func (p *unpickler) line() (string, error) {
	for i := p.pos; i < len(p.in); i++ {
		if p.in[i] == '\n' {
			s := string(p.in[p.pos:i])
			p.pos = i + 1
			return s, nil
		}
	}
	return "", fmt.Errorf("unterminated line")
}

func (p *unpickler) pop() (any, error) {
	if len(p.stack) == 0 || (len(p.marks) > 0 && len(p.stack) == p.marks[len(p.marks)-1]) {
		return nil, fmt.Errorf("stack underflow")
	}
	v := p.stack[len(p.stack)-1]
	p.stack = p.stack[:len(p.stack)-1]
	return v, nil
}

func (p *unpickler) top() (any, error) {
	if len(p.stack) == 0 {
		return nil, fmt.Errorf("stack underflow")
	}
	return p.stack[len(p.stack)-1], nil
}

// popMark returns the items above the last MARK and removes them and it.
func (p *unpickler) popMark() ([]any, error) {
	if len(p.marks) == 0 {
		return nil, fmt.Errorf("no MARK")
	}
	m := p.marks[len(p.marks)-1]
	p.marks = p.marks[:len(p.marks)-1]
	items := append([]any(nil), p.stack[m:]...)
	p.stack = p.stack[:m]
	return items, nil
}

func (p *unpickler) push(v any) { p.stack = append(p.stack, v) }

func (p *unpickler) run() (any, error) {
	const maxDepth = 1 << 20
	for p.pos < len(p.in) {
		p.op = p.pos
		op := p.in[p.pos]
		p.pos++
		if len(p.stack) > maxDepth {
			return nil, fmt.Errorf("stack deeper than %d", maxDepth)
		}
		var err error
		switch op {
		case 0x80: // PROTO
			var v uint64
			if v, err = p.uint(1); err == nil && v > 5 {
				err = fmt.Errorf("protocol %d (at most 5 is known)", v)
			}
		case 0x95: // FRAME: the length of the next frame (ignored: the input is whole)
			_, err = p.uint(8)
		case '.': // STOP
			if len(p.stack) != 1 || len(p.marks) != 0 {
				return nil, fmt.Errorf("STOP with %d values and %d marks on the stack", len(p.stack), len(p.marks))
			}
			return p.stack[0], nil
		case '(': // MARK
			p.marks = append(p.marks, len(p.stack))
		case 'N':
			p.push(nil)
		case 0x88, 0x89: // NEWTRUE, NEWFALSE
			p.push(op == 0x88)
		case 'K', 'M', 'J': // BININT1, BININT2, BININT
			n := map[byte]int{'K': 1, 'M': 2, 'J': 4}[op]
			var v uint64
			if v, err = p.uint(n); err == nil {
				if op == 'J' {
					p.push(int64(int32(uint32(v))))
				} else {
					p.push(int64(v))
				}
			}
		case 0x8a: // LONG1: little-endian two's complement of n ≤ 8 bytes
			var n uint64
			var b []byte
			if n, err = p.uint(1); err == nil && n > 8 {
				err = fmt.Errorf("LONG1 of %d bytes (at most 8 supported)", n)
			}
			if err == nil {
				if b, err = p.take(n); err == nil {
					var v int64
					for i := len(b) - 1; i >= 0; i-- {
						v = v<<8 | int64(b[i])
					}
					if n > 0 && n < 8 && b[n-1]&0x80 != 0 {
						v -= 1 << (8 * n)
					}
					p.push(v)
				}
			}
		case 'G': // BINFLOAT
			var v uint64
			if b, e := p.take(8); e == nil {
				v = binary.BigEndian.Uint64(b)
				p.push(math.Float64frombits(v))
			} else {
				err = e
			}
		case 'U', 'C', 0x8c: // SHORT_BINSTRING (bytes, as encoding='bytes'), SHORT_BINBYTES, SHORT_BINUNICODE
			err = p.str(op, 1)
		case 'T', 'B', 'X': // BINSTRING, BINBYTES, BINUNICODE
			err = p.str(op, 4)
		case 0x8e, 0x8d: // BINBYTES8, BINUNICODE8
			err = p.str(op, 8)
		case '}':
			p.push(&pyDict{})
		case ']':
			p.push(&pyList{})
		case ')':
			p.push(pyTuple{})
		case 'l': // LIST
			var items []any
			if items, err = p.popMark(); err == nil {
				p.push(&pyList{items: items})
			}
		case 't': // TUPLE
			var items []any
			if items, err = p.popMark(); err == nil {
				p.push(pyTuple(items))
			}
		case 'd': // DICT
			var items []any
			if items, err = p.popMark(); err == nil {
				d := &pyDict{}
				err = d.setItems(items)
				p.push(d)
			}
		case 0x85, 0x86, 0x87: // TUPLE1, TUPLE2, TUPLE3
			n := int(op - 0x84)
			if len(p.stack) < n || (len(p.marks) > 0 && len(p.stack)-n < p.marks[len(p.marks)-1]) {
				err = fmt.Errorf("TUPLE%d on a short stack", n)
				break
			}
			t := append(pyTuple(nil), p.stack[len(p.stack)-n:]...)
			p.stack = p.stack[:len(p.stack)-n]
			p.push(t)
		case 'a': // APPEND
			var v, l any
			if v, err = p.pop(); err == nil {
				if l, err = p.top(); err == nil {
					err = appendTo(l, v)
				}
			}
		case 'e': // APPENDS
			var items []any
			var l any
			if items, err = p.popMark(); err == nil {
				if l, err = p.top(); err == nil {
					for _, v := range items {
						if err = appendTo(l, v); err != nil {
							break
						}
					}
				}
			}
		case 's': // SETITEM
			var k, v, d any
			if v, err = p.pop(); err == nil {
				if k, err = p.pop(); err == nil {
					if d, err = p.top(); err == nil {
						err = setItems(d, []any{k, v})
					}
				}
			}
		case 'u': // SETITEMS
			var items []any
			var d any
			if items, err = p.popMark(); err == nil {
				if d, err = p.top(); err == nil {
					err = setItems(d, items)
				}
			}
		case 'q', 'r': // BINPUT, LONG_BINPUT
			var i uint64
			var v any
			if i, err = p.uint(map[byte]int{'q': 1, 'r': 4}[op]); err == nil {
				if v, err = p.top(); err == nil {
					p.memo[i] = v
				}
			}
		case 0x94: // MEMOIZE
			var v any
			if v, err = p.top(); err == nil {
				p.memo[uint64(len(p.memo))] = v
			}
		case 'h', 'j': // BINGET, LONG_BINGET
			var i uint64
			if i, err = p.uint(map[byte]int{'h': 1, 'j': 4}[op]); err == nil {
				v, ok := p.memo[i]
				if !ok {
					err = fmt.Errorf("memo %d not set", i)
				}
				p.push(v)
			}
		case 'c': // GLOBAL "module\nname\n"
			var m, n string
			if m, err = p.line(); err == nil {
				if n, err = p.line(); err == nil {
					p.push(pyGlobal{m, n})
				}
			}
		case 0x93: // STACK_GLOBAL
			var m, n any
			if n, err = p.pop(); err == nil {
				if m, err = p.pop(); err == nil {
					ms, ok1 := m.(string)
					ns, ok2 := n.(string)
					if !ok1 || !ok2 {
						err = fmt.Errorf("STACK_GLOBAL of %T and %T", m, n)
					} else {
						p.push(pyGlobal{ms, ns})
					}
				}
			}
		case 'R': // REDUCE
			var f, args any
			if args, err = p.pop(); err == nil {
				if f, err = p.pop(); err == nil {
					var v any
					if v, err = reduce(f, args); err == nil {
						p.push(v)
					}
				}
			}
		case 'b': // BUILD
			var state, obj any
			if state, err = p.pop(); err == nil {
				if obj, err = p.top(); err == nil {
					err = build(obj, state)
				}
			}
		default:
			return nil, fmt.Errorf("opcode 0x%02x is not supported (not a pickle of arrays, lists and dicts)", op)
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("no STOP before the end")
}

// str reads a length-prefixed string of an n-byte length: unicode opcodes
// give a Go string, the others []byte (aliasing the input).
func (p *unpickler) str(op byte, n int) error {
	l, err := p.uint(n)
	if err != nil {
		return err
	}
	if op == 'T' && l > math.MaxInt32 { // BINSTRING's length is signed
		return fmt.Errorf("negative BINSTRING length")
	}
	b, err := p.take(l)
	if err != nil {
		return err
	}
	switch op {
	case 0x8c, 'X', 0x8d:
		p.push(string(b))
	default:
		p.push(b)
	}
	return nil
}

func appendTo(l, v any) error {
	list, ok := l.(*pyList)
	if !ok {
		return fmt.Errorf("APPEND to %T", l)
	}
	list.items = append(list.items, v)
	return nil
}

func setItems(d any, items []any) error {
	dict, ok := d.(*pyDict)
	if !ok {
		return fmt.Errorf("SETITEM on %T", d)
	}
	return dict.setItems(items)
}

func (d *pyDict) setItems(items []any) error {
	if len(items)%2 != 0 {
		return fmt.Errorf("odd number (%d) of dict items", len(items))
	}
	for i := 0; i < len(items); i += 2 {
		switch items[i].(type) {
		case string, []byte, int64:
		default:
			return fmt.Errorf("dict key of type %T", items[i])
		}
		d.keys = append(d.keys, items[i])
		d.vals = append(d.vals, items[i+1])
	}
	return nil
}

// reduce applies one of the allowed globals to its arguments.
func reduce(f, args any) (any, error) {
	g, ok := f.(pyGlobal)
	a, ok2 := args.(pyTuple)
	if !ok || !ok2 {
		return nil, fmt.Errorf("REDUCE of %T with %T", f, args)
	}
	switch {
	case g.module == "_codecs" && g.name == "encode":
		// Python 3, protocol ≤ 2: bytes b are pickled as encode(b.decode('latin1'), 'latin1').
		s, ok := tupleItem[string](a, 0)
		enc, ok2 := tupleItem[string](a, 1)
		if !ok || !ok2 || (enc != "latin1" && enc != "latin-1") {
			return nil, fmt.Errorf("_codecs.encode%v: want (str, 'latin1')", describe(a))
		}
		out := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 0xff {
				return nil, fmt.Errorf("_codecs.encode: character U+%04X is not latin-1", r)
			}
			out = append(out, byte(r))
		}
		return out, nil
	case (g.module == "numpy.core.multiarray" || g.module == "numpy._core.multiarray") && g.name == "_reconstruct":
		if len(a) != 3 {
			return nil, fmt.Errorf("_reconstruct with %d arguments", len(a))
		}
		if c, ok := a[0].(pyGlobal); !ok || c.name != "ndarray" {
			return nil, fmt.Errorf("_reconstruct of %v (want numpy.ndarray)", a[0])
		}
		return &ndarray{}, nil
	case g.module == "numpy" && g.name == "dtype":
		s, ok := tupleItem[string](a, 0)
		if !ok {
			b, okb := tupleItem[[]byte](a, 0)
			if !okb {
				return nil, fmt.Errorf("numpy.dtype%v: want a type string", describe(a))
			}
			s = string(b)
		}
		return &pyDtype{kind: s, order: '|'}, nil
	}
	return nil, fmt.Errorf("global %s.%s may not be called (only numpy arrays, dtypes and _codecs.encode)", g.module, g.name)
}

func tupleItem[T any](t pyTuple, i int) (T, bool) {
	var zero T
	if i >= len(t) {
		return zero, false
	}
	v, ok := t[i].(T)
	return v, ok
}

func describe(t pyTuple) string {
	s := "("
	for i, v := range t {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%T", v)
	}
	return s + ")"
}

// build sets an array's or a dtype's state (ndarray.__setstate__:
// (version, shape, dtype, is_fortran, rawdata); dtype: (version, order, …)).
func build(obj, state any) error {
	st, ok := state.(pyTuple)
	if !ok {
		return fmt.Errorf("BUILD of %T with %T", obj, state)
	}
	switch o := obj.(type) {
	case *pyDtype:
		if len(st) < 2 {
			return fmt.Errorf("dtype state of %d items", len(st))
		}
		order, ok := st[1].(string)
		if !ok {
			if b, okb := st[1].([]byte); okb {
				order, ok = string(b), true
			}
		}
		if !ok || len(order) != 1 {
			return fmt.Errorf("dtype byte order %v", st[1])
		}
		o.order = order[0]
		return nil
	case *ndarray:
		if len(st) == 4 { // version 0: no version number
			st = append(pyTuple{int64(0)}, st...)
		}
		if len(st) != 5 {
			return fmt.Errorf("ndarray state of %d items", len(st))
		}
		shape, ok := st[1].(pyTuple)
		dt, ok2 := st[2].(*pyDtype)
		fortran, ok3 := st[3].(bool)
		raw, ok4 := st[4].([]byte)
		if s, ok := st[4].(string); ok && !ok4 { // Python 2 data read as str
			raw, ok4 = []byte(s), true
		}
		if !ok || !ok2 || !ok3 || !ok4 {
			return fmt.Errorf("ndarray state %s: want (shape, dtype, bool, bytes)", describe(st))
		}
		o.dtype, o.fortran, o.data = dt, fortran, raw
		o.shape = make([]int, len(shape))
		total := 1
		for i, s := range shape {
			v, ok := s.(int64)
			if !ok || v < 0 || v > 1<<31 {
				return fmt.Errorf("ndarray shape %v", shape)
			}
			o.shape[i] = int(v)
			total *= int(v)
			if total > 1<<31 {
				return fmt.Errorf("ndarray shape %v too large", shape)
			}
		}
		if size := dtypeSize(dt.kind); size == 0 {
			return fmt.Errorf("ndarray dtype %q (want an integer type)", dt.kind)
		} else if total*size != len(raw) {
			return fmt.Errorf("ndarray of shape %v and dtype %s needs %d bytes, has %d", o.shape, dt.kind, total*size, len(raw))
		}
		return nil
	}
	return fmt.Errorf("BUILD of %T", obj)
}

// dtypeSize is the size of the integer dtypes an image array may use (0:
// other).
func dtypeSize(kind string) int {
	switch kind {
	case "u1", "i1", "b1":
		return 1
	case "u2", "i2":
		return 2
	case "u4", "i4":
		return 4
	case "u8", "i8":
		return 8
	}
	return 0
}

// ints returns the values of an integer ndarray, list or tuple of ints.
func pyInts(v any) ([]int64, error) {
	switch v := v.(type) {
	case *pyList:
		return intItems(v.items)
	case pyTuple:
		return intItems(v)
	case *ndarray:
		size := dtypeSize(v.dtype.kind)
		out := make([]int64, len(v.data)/size)
		var bo binary.ByteOrder = binary.LittleEndian
		if v.dtype.order == '>' {
			bo = binary.BigEndian
		}
		signed := v.dtype.kind[0] == 'i'
		for i := range out {
			b := v.data[i*size : (i+1)*size]
			var u uint64
			switch size {
			case 1:
				u = uint64(b[0])
				if signed {
					u = uint64(int64(int8(b[0])))
				}
			case 2:
				u = uint64(bo.Uint16(b))
				if signed {
					u = uint64(int64(int16(u)))
				}
			case 4:
				u = uint64(bo.Uint32(b))
				if signed {
					u = uint64(int64(int32(u)))
				}
			case 8:
				u = bo.Uint64(b)
			}
			out[i] = int64(u)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%T is not a list or array of integers", v)
}

func intItems(items []any) ([]int64, error) {
	out := make([]int64, len(items))
	for i, it := range items {
		v, ok := it.(int64)
		if !ok {
			return nil, fmt.Errorf("item %d is %T, not an integer", i, it)
		}
		out[i] = v
	}
	return out, nil
}
