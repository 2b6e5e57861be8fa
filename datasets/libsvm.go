package datasets

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
)

// ReadOptions controls how a LIBSVM file is read.
type ReadOptions struct {
	// Features is the dimension d. Zero means d is the largest feature index in
	// the file; a positive value fixes d, and a larger index in the file is an
	// error. Negative values are an error.
	Features int
}

// ParseError reports malformed LIBSVM input. Line is the 1-based line number of
// the offending line, or 0 when the problem concerns the whole file (no
// samples, a single distinct label). Callers can detect it with errors.As.
type ParseError struct {
	File string // the name given to ParseLIBSVM, or the path given to ReadLIBSVM
	Line int    // 1-based line number; 0 for whole-file problems
	Msg  string // what is wrong, in words
}

// Error formats the error as "libsvm <file> line <n>: <msg>", or
// "libsvm <file>: <msg>" when Line is 0.
func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("libsvm %s line %d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("libsvm %s: %s", e.File, e.Msg)
}

// ReadLIBSVM reads the LIBSVM file at path into a sparse dataset; see
// ParseLIBSVM for the format and the label rule. The dataset's Source is path.
func ReadLIBSVM(path string, opts ReadOptions) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("libsvm: %w", err)
	}
	defer f.Close()
	return ParseLIBSVM(f, path, opts)
}

// ParseLIBSVM reads LIBSVM text from r into a sparse dataset named name (used in
// error messages and as the dataset's Source).
//
// Each non-blank line is "label idx:val idx:val ...", with 1-based feature
// indices strictly increasing within the line; they are stored 0-based in the
// CSR matrix. Tokens are separated by spaces or tabs; trailing whitespace, \r\n
// line endings, blank lines and a trailing "# comment" are allowed. Explicit
// zero values ("3:0") are validated and count towards the dimension but are not
// stored. The input is streamed: lines of any length are accepted and the text
// is never held in memory as a whole.
//
// The file must hold exactly two distinct label values: the smaller is mapped
// to −1 and the larger to +1.
//
// Malformed input yields a *ParseError naming the file and the line.
func ParseLIBSVM(r io.Reader, name string, opts ReadOptions) (*Dataset, error) {
	if opts.Features < 0 {
		return nil, fmt.Errorf("libsvm %s: negative feature count %d", name, opts.Features)
	}
	p := newParser(name, opts)
	if err := p.scan(r); err != nil {
		return nil, err
	}
	return p.finish()
}

func newParser(name string, opts ReadOptions) *parser {
	return &parser{name: name, fixed: opts.Features > 0, maxIdx: opts.Features, rowPtr: []int{0}}
}

// scan feeds every line of r to parseLine.
func (p *parser) scan(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte // reused buffer for lines longer than br's buffer
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 {
			p.line++
			if perr := p.parseLine(line); perr != nil {
				return perr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("libsvm %s line %d: read: %w", p.name, p.line+1, err)
		}
	}
	return p.flush()
}

// parser accumulates a LIBSVM file line by line.
type parser struct {
	name   string
	fixed  bool // the dimension was given in ReadOptions
	line   int
	maxIdx int // largest 1-based index seen, or the fixed dimension
	// maxLine is the line (1-based) whose index set maxIdx; 0 when the
	// dimension was fixed
	maxLine int
	rowPtr  []int
	colIdx  []int32
	val     []float64
	labels  []float64 // raw labels until finish maps them to ±1
	lab     [2]float64
	nlab    int
	rows    int // samples parsed (kept or not)
	nnz     int // entries parsed (kept or not)
	// keep, when set, selects the samples to store: sample j (0-based, in
	// file order) is stored iff keep[j]; the others are parsed, validated and
	// dropped.
	keep []bool
	// emit, when set, receives the stored rows every chunk entries (and at
	// the end); the buffers are then reused.
	emit  func(*Block) error
	chunk int
}

// colsFrom says where the dimension came from: the file and line of the
// largest feature index, for messages about d; empty when it was fixed.
func (p *parser) colsFrom() string {
	if p.fixed || p.maxLine == 0 {
		return ""
	}
	return fmt.Sprintf("feature index %d on libsvm %s line %d", p.maxIdx, p.name, p.maxLine)
}

func (p *parser) errorf(format string, args ...any) error {
	return &ParseError{File: p.name, Line: p.line, Msg: fmt.Sprintf(format, args...)}
}

// isSpace reports whether c separates tokens: space, \t, \n, \v, \f or \r.
func isSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// quote renders a token for an error message, shortened if long.
func quote(b []byte) string {
	const max = 40
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "…"
	}
	return strconv.Quote(string(b))
}

// nextToken returns the next whitespace-separated token of b at or after i and
// the position just past it; tok is nil at the end of b.
func nextToken(b []byte, i int) (tok []byte, next int) {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	j := i
	for j < len(b) && !isSpace(b[j]) {
		j++
	}
	if i == j {
		return nil, j
	}
	return b[i:j], j
}

// parseFloat parses a finite float64 from b without allocating for short tokens.
func parseFloat(b []byte) (float64, error) {
	switch {
	case len(b) == 1 && b[0]-'0' <= 9:
		return float64(b[0] - '0'), nil
	case len(b) == 2 && b[1]-'0' <= 9 && b[0] == '+':
		return float64(b[1] - '0'), nil
	case len(b) == 2 && b[1]-'0' <= 9 && b[0] == '-':
		return -float64(b[1] - '0'), nil
	}
	return strconv.ParseFloat(string(b), 64)
}

func (p *parser) parseLine(b []byte) error {
	if i := bytes.IndexByte(b, '#'); i >= 0 {
		b = b[:i]
	}
	tok, pos := nextToken(b, 0)
	if tok == nil {
		return nil // blank or comment-only line
	}
	y, err := parseFloat(tok)
	if err != nil {
		return p.errorf("invalid label %s", quote(tok))
	}
	if math.IsNaN(y) || math.IsInf(y, 0) {
		return p.errorf("label %s is not finite", quote(tok))
	}
	switch {
	case p.nlab > 0 && y == p.lab[0], p.nlab > 1 && y == p.lab[1]:
	case p.nlab < 2:
		p.lab[p.nlab] = y
		p.nlab++
	default:
		return p.errorf("third distinct label %v (labels %v and %v seen before); need exactly two",
			y, p.lab[0], p.lab[1])
	}

	prev := 0
	for {
		for pos < len(b) && isSpace(b[pos]) {
			pos++
		}
		if pos == len(b) {
			break
		}
		// Fast path: the index is a run of digits, then ':'. Anything else is
		// diagnosed by tokenError.
		start := pos
		idx := 0
		for pos < len(b) && b[pos]-'0' <= 9 && idx <= math.MaxInt32 {
			idx = idx*10 + int(b[pos]-'0')
			pos++
		}
		if pos == start || pos == len(b) || b[pos] != ':' || idx == 0 || idx > math.MaxInt32 {
			end := start
			for end < len(b) && !isSpace(b[end]) {
				end++
			}
			return p.tokenError(b[start:end])
		}
		pos++ // the ':'
		vs := pos
		for pos < len(b) && !isSpace(b[pos]) {
			pos++
		}
		vb := b[vs:pos]
		if idx <= prev {
			return p.errorf("feature index %d not greater than the previous index %d", idx, prev)
		}
		prev = idx
		if idx > p.maxIdx {
			if p.fixed {
				return p.errorf("feature index %d exceeds the dimension %d", idx, p.maxIdx)
			}
			p.maxIdx, p.maxLine = idx, p.line
		}
		if len(vb) == 0 {
			return p.errorf("empty value in token %s", quote(b[start:pos]))
		}
		v, err := parseFloat(vb)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return p.errorf("value %s out of range", quote(vb))
			}
			return p.errorf("malformed value %s", quote(vb))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return p.errorf("value %s is not finite", quote(vb))
		}
		if v != 0 {
			if len(p.val) == cap(p.val) {
				p.grow()
			}
			p.colIdx = append(p.colIdx, int32(idx-1))
			p.val = append(p.val, v)
		}
	}
	j := p.rows
	p.rows++
	p.nnz += len(p.val) - p.rowPtr[len(p.rowPtr)-1]
	if p.keep != nil {
		if j >= len(p.keep) {
			return p.errorf("more samples than the %d counted before (did the file change?)", len(p.keep))
		}
		if !p.keep[j] {
			start := p.rowPtr[len(p.rowPtr)-1]
			p.colIdx, p.val = p.colIdx[:start], p.val[:start]
			return nil
		}
	}
	p.labels = append(p.labels, y)
	p.rowPtr = append(p.rowPtr, len(p.val))
	if p.emit != nil && (len(p.val) >= p.chunk || len(p.labels) >= p.chunk) {
		return p.flush()
	}
	return nil
}

// flush hands the buffered rows to emit (if set) and empties the buffers.
func (p *parser) flush() error {
	if p.emit == nil || len(p.labels) == 0 {
		return nil
	}
	if err := p.emit(&Block{RowPtr: p.rowPtr, ColIdx: p.colIdx, Val: p.val, RawLabels: p.labels}); err != nil {
		return err
	}
	p.rowPtr, p.colIdx, p.val, p.labels = p.rowPtr[:1], p.colIdx[:0], p.val[:0], p.labels[:0]
	return nil
}

// grow doubles the capacity of the entry arrays: fewer, larger copies than
// append's default growth, which matters for big files.
func (p *parser) grow() {
	n := max(2*cap(p.val), 1024)
	ci := make([]int32, len(p.colIdx), n)
	copy(ci, p.colIdx)
	v := make([]float64, len(p.val), n)
	copy(v, p.val)
	p.colIdx, p.val = ci, v
}

// tokenError diagnoses a feature token whose index part is not a valid index
// followed by ':'.
func (p *parser) tokenError(tok []byte) error {
	colon := bytes.IndexByte(tok, ':')
	if colon < 0 {
		return p.errorf("malformed token %s: want index:value", quote(tok))
	}
	if _, err := p.parseIndex(tok[:colon]); err != nil {
		return err
	}
	return p.errorf("malformed token %s", quote(tok))
}

// parseIndex parses a 1-based feature index of at most math.MaxInt32.
func (p *parser) parseIndex(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, p.errorf("missing feature index before ':'")
	}
	neg := b[0] == '-'
	digits := b
	if neg {
		digits = b[1:]
	}
	if len(digits) == 0 {
		return 0, p.errorf("malformed feature index %s", quote(b))
	}
	n := 0
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, p.errorf("malformed feature index %s", quote(b))
		}
		n = n*10 + int(c-'0')
		if n > math.MaxInt32 {
			if neg {
				return 0, p.errorf("feature index %s must be ≥ 1", quote(b))
			}
			return 0, p.errorf("feature index %s too large", quote(b))
		}
	}
	if neg || n == 0 {
		return 0, p.errorf("feature index %s must be ≥ 1", quote(b))
	}
	return n, nil
}

// finish checks the whole-file conditions and maps the labels to ±1.
func (p *parser) finish() (*Dataset, error) {
	if p.rows == 0 {
		return nil, &ParseError{File: p.name, Msg: "no samples"}
	}
	if p.nlab < 2 {
		return nil, &ParseError{File: p.name, Msg: fmt.Sprintf("only one distinct label %v; need exactly two", p.lab[0])}
	}
	lo := math.Min(p.lab[0], p.lab[1])
	m := len(p.labels)
	for j, y := range p.labels {
		if y == lo {
			p.labels[j] = -1
		} else {
			p.labels[j] = 1
		}
	}
	return &Dataset{
		Sparse: &CSR{
			Rows:   m,
			Cols:   p.maxIdx,
			RowPtr: p.rowPtr,
			ColIdx: p.colIdx,
			Val:    p.val,
		},
		Labels:   p.labels,
		Source:   p.name,
		ColsFrom: p.colsFrom(),
	}, nil
}
