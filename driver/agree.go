package driver

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/sparse"
)

// DataPrint identifies a job's data: its size and a SHA-256 of its contents
// (labels and matrix entries as loaded), so that two files with the same name
// and shape but different contents are told apart. It is zero for problems
// without data (the polynomial is generated from the seed).
type DataPrint struct {
	Rows, Cols, NNZ int64
	Sum             [32]byte
}

// String describes the data in a message.
func (p DataPrint) String() string {
	if p == (DataPrint{}) {
		return "no data"
	}
	return fmt.Sprintf("%d samples × %d features, %d nonzeros, sha256 %x…", p.Rows, p.Cols, p.NNZ, p.Sum[:6])
}

// fingerprintData hashes a dataset's labels and entries.
func fingerprintData(ds *datasets.Dataset) DataPrint {
	if ds == nil {
		return DataPrint{}
	}
	h := sha256.New()
	le := binary.LittleEndian
	p := DataPrint{Rows: int64(ds.Rows()), Cols: int64(ds.Cols())}
	binary.Write(h, le, ds.Labels)
	if m := ds.Sparse; m != nil {
		p.NNZ = int64(m.NNZ())
		ptr := make([]int64, len(m.RowPtr))
		for i, v := range m.RowPtr {
			ptr[i] = int64(v)
		}
		binary.Write(h, le, ptr)
		binary.Write(h, le, m.ColIdx)
		binary.Write(h, le, m.Val)
	} else if m := ds.Dense; m != nil {
		p.NNZ = int64(len(m.Data))
		binary.Write(h, le, m.Data)
	}
	copy(p.Sum[:], h.Sum(nil))
	return p
}

// Print is what every rank of a multi-process job must share before the first
// iteration: the effective configuration, the binary and the data. Ranks
// that differ would compute different trajectories and finish "completed".
type Print struct {
	Config string    // the effective configuration (TOML text)
	Binary string    // the program's version and build (e.g. a hash of the executable)
	Data   DataPrint // the loaded data
}

// hash48 is the first 48 bits of a SHA-256: an integer a float64 holds exactly.
func hash48(s string) float64 {
	sum := sha256.Sum256([]byte(s))
	var b [8]byte
	copy(b[2:], sum[:6])
	return float64(binary.BigEndian.Uint64(b[:]))
}

func dataHash48(p DataPrint) float64 {
	var b [8]byte
	copy(b[2:], p.Sum[:6])
	return float64(binary.BigEndian.Uint64(b[:]))
}

// Agree is collective: every rank sends rank 0 its print (as exact small
// integers in float64s: 48-bit hashes, sizes, and the config text byte by
// byte), rank 0 compares each with its own and broadcasts the verdict. Every
// rank returns nil, or the same ErrInvalid error naming the ranks that differ
// and what differs (the config lines, the binary, the data's size and hash).
func Agree(c collective.Comm, p Print) error {
	n, me := c.Size(), c.Rank()
	head := []float64{hash48(p.Binary), dataHash48(p.Data), float64(p.Data.Rows), float64(p.Data.Cols), float64(p.Data.NNZ)}
	enc := func(v []float64) *sparse.Vector {
		s := &sparse.Vector{Dim: len(v), Idx: make([]int32, len(v)), Val: v}
		for i := range v {
			s.Idx[i] = int32(i)
		}
		return s
	}
	var heads, texts []sparse.Vector
	if me == 0 {
		heads, texts = make([]sparse.Vector, n), make([]sparse.Vector, n)
	}
	if err := collective.GatherSparse(c, enc(head), heads); err != nil {
		return commErr("fingerprint", err)
	}
	if err := collective.GatherSparse(c, textVector(p.Config), texts); err != nil {
		return commErr("fingerprint", err)
	}
	verdict := ""
	if me == 0 {
		verdict = compareprints(p, heads, texts)
	}
	verdict, err := broadcastText(c, verdict)
	if err != nil {
		return commErr("fingerprint", err)
	}
	if verdict == "" {
		return nil
	}
	return fmt.Errorf("%w: the ranks of this job disagree before the first iteration: %s", ErrInvalid, verdict)
}

// textVector encodes s byte by byte as exact float64 values.
func textVector(s string) *sparse.Vector {
	v := &sparse.Vector{Dim: len(s), Idx: make([]int32, len(s)), Val: make([]float64, len(s))}
	for i := 0; i < len(s); i++ {
		v.Idx[i], v.Val[i] = int32(i), float64(s[i])
	}
	return v
}

// broadcastText sends rank 0's s to every rank (its length, then its bytes)
// and returns it on every rank.
func broadcastText(c collective.Comm, s string) (string, error) {
	size := []float64{float64(len(s))}
	if err := collective.BroadcastDense(c, size); err != nil {
		return "", err
	}
	if size[0] == 0 {
		return "", nil
	}
	buf := make([]float64, int(size[0]))
	for i := 0; i < len(s); i++ {
		buf[i] = float64(s[i])
	}
	if err := collective.BroadcastDense(c, buf); err != nil {
		return "", err
	}
	return decodeText(buf), nil
}

// shareFailures is collective: every rank passes its own error (or nil) and
// every rank gets back the same text naming each failed rank with its
// message ("" when no rank failed), so that a rank's failure is reported
// where the user looks (rank 0, or the process that prints) and not only on
// the failed rank's own stderr.
func shareFailures(c collective.Comm, err error) (string, error) {
	msg := ""
	if err != nil {
		msg = err.Error()
		if msg == "" {
			msg = "failed"
		}
	}
	var all []sparse.Vector
	if c.Rank() == 0 {
		all = make([]sparse.Vector, c.Size())
	}
	if gerr := collective.GatherSparse(c, textVector(msg), all); gerr != nil {
		return "", gerr
	}
	report := ""
	if c.Rank() == 0 {
		var parts []string
		for r := range all {
			if t := decodeText(all[r].Val); t != "" {
				if !namesRank(t) {
					t = fmt.Sprintf("rank %d: %s", r, t)
				}
				parts = append(parts, t)
			}
		}
		report = strings.Join(parts, "; ")
	}
	return broadcastText(c, report)
}

// namesRank reports whether a failure's text already starts with the rank
// it concerns ("rank 12: …"): a process's own, or one of the ranks an
// in-process node hosts.
func namesRank(t string) bool {
	rest, ok := strings.CutPrefix(t, "rank ")
	if !ok {
		return false
	}
	num, _, ok := strings.Cut(rest, ":")
	if !ok || num == "" {
		return false
	}
	for _, c := range num {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// compareprints is rank 0's comparison of every rank's print with its own.
func compareprints(p Print, heads, texts []sparse.Vector) string {
	mine := heads[0].Val
	var diffs []string
	for r := 1; r < len(heads); r++ {
		h := heads[r].Val
		var what []string
		if len(h) != len(mine) {
			diffs = append(diffs, fmt.Sprintf("rank %d sent a malformed fingerprint", r))
			continue
		}
		cfg := decodeText(texts[r].Val)
		if cfg != p.Config {
			what = append(what, "config "+configDiff(p.Config, cfg))
		}
		if h[0] != mine[0] {
			what = append(what, "binary (another build of efmpi than rank 0's)")
		}
		if h[1] != mine[1] || h[2] != mine[2] || h[3] != mine[3] || h[4] != mine[4] {
			what = append(what, fmt.Sprintf("data (rank %d: %d samples × %d features, %d nonzeros, sha256 %012x…; rank 0: %d × %d, %d nonzeros, sha256 %012x…)",
				r, int64(h[2]), int64(h[3]), int64(h[4]), uint64(h[1]), p.Data.Rows, p.Data.Cols, p.Data.NNZ, uint64(mine[1])))
		}
		if len(what) > 0 {
			diffs = append(diffs, fmt.Sprintf("rank %d differs from rank 0 in its %s", r, strings.Join(what, ", and in its ")))
		}
	}
	return strings.Join(diffs, "; ")
}

func decodeText(v []float64) string {
	b := make([]byte, len(v))
	for i, x := range v {
		if x < 0 || x > 255 || x != math.Trunc(x) {
			return "<malformed>"
		}
		b[i] = byte(x)
	}
	return string(b)
}

// configDiff names the keys whose lines differ between two effective
// configurations (TOML text with [section] headers).
func configDiff(mine, theirs string) string {
	lines := func(s string) map[string]string {
		out := map[string]string{}
		sec := ""
		for _, l := range strings.Split(s, "\n") {
			l = strings.TrimSpace(l)
			switch {
			case l == "" || strings.HasPrefix(l, "#"):
			case strings.HasPrefix(l, "["):
				sec = strings.Trim(l, "[]")
			default:
				k, v, _ := strings.Cut(l, "=")
				out[sec+"."+strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		return out
	}
	a, b := lines(mine), lines(theirs)
	var keys []string
	for k, v := range b {
		if a[k] != v {
			keys = append(keys, k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "(the text differs)"
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		ov, ok := b[k]
		if !ok {
			ov = "unset"
		}
		mv, ok := a[k]
		if !ok {
			mv = "unset"
		}
		parts[i] = fmt.Sprintf("%s = %s (rank 0: %s)", k, ov, mv)
	}
	return strings.Join(parts, ", ")
}
