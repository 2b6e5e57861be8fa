package datasets

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
)

// Block is a run of consecutive rows handed out by StreamLIBSVM: the entries
// of its row r are ColIdx[RowPtr[r]:RowPtr[r+1]] (0-based columns) with values
// Val[…]; RowPtr[0] is 0. RawLabels are the labels as written in the file (the
// ±1 mapping needs both labels, known only at the end: see StreamInfo). The
// slices are reused after the callback returns.
type Block struct {
	RowPtr    []int
	ColIdx    []int32
	Val       []float64
	RawLabels []float64
}

// StreamInfo summarises a streamed LIBSVM file.
type StreamInfo struct {
	Rows, Cols int
	// ColsFrom names the feature index, file and line that set Cols (empty
	// when ReadOptions.Features fixed it), for messages about d.
	ColsFrom string
	NNZ      int64
	// Negative and Positive are the raw label values mapped to −1 and +1
	// (the smaller and the larger).
	Negative, Positive float64
}

// StreamLIBSVM parses LIBSVM text from r like ParseLIBSVM, but instead of
// building a dataset it hands the rows to emit in blocks of about chunk
// entries (or chunk rows), so memory stays O(chunk) whatever the file's size.
// The whole-file checks (at least one sample, exactly two labels) happen at
// the end; an error from emit stops the stream and is returned as is.
func StreamLIBSVM(r io.Reader, name string, opts ReadOptions, chunk int, emit func(*Block) error) (StreamInfo, error) {
	if opts.Features < 0 {
		return StreamInfo{}, fmt.Errorf("libsvm %s: negative feature count %d", name, opts.Features)
	}
	p := newParser(name, opts)
	p.emit, p.chunk = emit, max(chunk, 1)
	if err := p.scan(r); err != nil {
		return StreamInfo{}, err
	}
	if p.rows == 0 {
		return StreamInfo{}, &ParseError{File: p.name, Msg: "no samples"}
	}
	if p.nlab < 2 {
		return StreamInfo{}, &ParseError{File: p.name, Msg: fmt.Sprintf("only one distinct label %v; need exactly two", p.lab[0])}
	}
	return StreamInfo{Rows: p.rows, Cols: p.maxIdx, ColsFrom: p.colsFrom(), NNZ: int64(p.nnz),
		Negative: math.Min(p.lab[0], p.lab[1]), Positive: math.Max(p.lab[0], p.lab[1])}, nil
}

// LIBSVMCount is what the first pass of a shard-local read learns.
type LIBSVMCount struct {
	// Labels are the samples' labels mapped to ±1 (smaller → −1); m is
	// len(Labels).
	Labels []float64
	// Entries[j] is the number of index:value tokens of sample j, an upper
	// bound of its stored entries (explicit zeros are not stored).
	Entries []int32
	// Bytes is the file's size and SHA256 the SHA-256 of its contents.
	Bytes  int64
	SHA256 [32]byte
}

// CountLIBSVM is the cheap first pass of a shard-local read: it counts the
// samples of the LIBSVM file at path, maps their labels to ±1 (smaller → −1)
// and counts their tokens, parsing only the label token of each line. ok is
// false when the file is not well-formed in a way this pass can see (a bad
// label, not exactly two labels, no samples); ReadLIBSVM then reports the
// error with its line.
func CountLIBSVM(path string) (cnt LIBSVMCount, ok bool, err error) {
	var labels []float64
	var entries []int32
	f, err := os.Open(path)
	if err != nil {
		return cnt, false, fmt.Errorf("libsvm: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(f, h), 1<<20)
	var lab [2]float64
	nlab := 0
	var long []byte
	for {
		line, rerr := br.ReadSlice('\n')
		if rerr == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for rerr == bufio.ErrBufferFull {
				line, rerr = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if tok, _ := nextToken(line, 0); tok != nil {
			y, perr := parseFloat(tok)
			if perr != nil || math.IsNaN(y) || math.IsInf(y, 0) {
				return cnt, false, nil
			}
			switch {
			case nlab > 0 && y == lab[0], nlab > 1 && y == lab[1]:
			case nlab < 2:
				lab[nlab] = y
				nlab++
			default:
				return cnt, false, nil
			}
			labels = append(labels, y)
			entries = append(entries, int32(min(bytes.Count(line, []byte{':'}), math.MaxInt32)))
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return cnt, false, fmt.Errorf("libsvm %s: read: %w", path, rerr)
		}
	}
	if len(labels) == 0 || nlab < 2 {
		return cnt, false, nil
	}
	lo := math.Min(lab[0], lab[1])
	for j, y := range labels {
		if y == lo {
			labels[j] = -1
		} else {
			labels[j] = 1
		}
	}
	cnt = LIBSVMCount{Labels: labels, Entries: entries}
	if st, err := f.Stat(); err == nil {
		cnt.Bytes = st.Size()
	}
	h.Sum(cnt.SHA256[:0])
	return cnt, true, nil
}

// ReadLIBSVMRows reads only the given samples of the LIBSVM file at path (which
// holds m samples, as CountLIBSVM found), in the order given: the file is
// parsed and validated whole (so the dimension and the label rule are those
// of ReadLIBSVM), but only these rows are stored. entries, if positive, is
// the storage to allocate once: the rows' token counts (LIBSVMCount.Entries)
// plus the longest row's, since a row that is not kept is parsed into the
// free space before it is dropped. The result is bit for bit
// ReadLIBSVM(path, opts).Gather(rows); nnz is the number of entries the whole
// file stores.
func ReadLIBSVMRows(path string, opts ReadOptions, m int, rows []int, entries int) (ds *Dataset, nnz int64, err error) {
	ds, err = readLIBSVMRows(path, opts, m, rows, entries, &nnz)
	return ds, nnz, err
}

func readLIBSVMRows(path string, opts ReadOptions, m int, rows []int, entries int, nnz *int64) (*Dataset, error) {
	if opts.Features < 0 {
		return nil, fmt.Errorf("libsvm %s: negative feature count %d", path, opts.Features)
	}
	keep := make([]bool, m)
	for _, j := range rows {
		if j < 0 || j >= m {
			return nil, fmt.Errorf("libsvm %s: row %d outside [0, %d)", path, j, m)
		}
		keep[j] = true
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("libsvm: %w", err)
	}
	defer f.Close()
	p := newParser(path, opts)
	p.keep = keep
	if entries > 0 {
		p.colIdx, p.val = make([]int32, 0, entries), make([]float64, 0, entries)
		p.rowPtr = make([]int, 1, len(rows)+1)
		p.labels = make([]float64, 0, len(rows))
	}
	if err := p.scan(f); err != nil {
		return nil, err
	}
	if p.rows != m && p.rows > 0 {
		return nil, &ParseError{File: path, Msg: fmt.Sprintf("%d samples, %d counted before (did the file change?)", p.rows, m)}
	}
	*nnz = int64(p.nnz)
	ds, err := p.finish()
	if err != nil {
		return nil, err
	}
	// ds holds the kept rows in file order; put them in the order asked for.
	sorted := slices.Clone(rows)
	sort.Ints(sorted)
	if slices.Equal(sorted, rows) {
		return ds, nil
	}
	at := make([]int, len(rows))
	for k, j := range rows {
		at[k], _ = slices.BinarySearch(sorted, j)
	}
	return ds.Gather(at), nil
}

// WriteLIBSVM writes ds (sparse) as LIBSVM text: one line per row, the label
// (−1 or +1 as stored) then 1-based "index:value" pairs, values in the
// shortest form that reads back to the same float64, so ReadLIBSVM of the
// output returns ds bit for bit (given the same dimension).
func WriteLIBSVM(w io.Writer, ds *Dataset) error {
	s := ds.Sparse
	if s == nil {
		return fmt.Errorf("libsvm: write %s: not a sparse dataset", ds.Source)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var buf []byte
	for r := range s.Rows {
		buf = strconv.AppendFloat(buf[:0], ds.Labels[r], 'g', -1, 64)
		idx, val := s.Row(r)
		for k, c := range idx {
			buf = append(buf, ' ')
			buf = strconv.AppendInt(buf, int64(c)+1, 10)
			buf = append(buf, ':')
			buf = strconv.AppendFloat(buf, val[k], 'g', -1, 64)
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("libsvm: write: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("libsvm: write: %w", err)
	}
	return nil
}
