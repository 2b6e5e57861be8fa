package driver

import (
	"time"

	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/problems"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Checkpoints. Every rank writes its whole state at the same iteration k into
// <output>.ckpt/ckpt-<k>-rank-<r>.bin (temporary file, fsync, rename, fsync of
// the directory, so a crash never leaves a torn file under the final name).
// Once every rank has written its file, rank 0 writes ckpt-<k>.done: only a
// checkpoint with that marker is complete. Rank 0 then removes the older
// checkpoints. Resuming picks the newest complete checkpoint; rank 0 decides
// and tells the others, so every rank restores the same iteration.

// ErrNoCheckpoint is returned when a resume finds no complete checkpoint.
var ErrNoCheckpoint = errors.New("no complete checkpoint")

const ckptMagic = "EFMPICK3" // 2: named method state (algorithms.State); 3: the oracle's state (running statistics)

// CheckpointDir is where the checkpoints of a run writing output live.
func CheckpointDir(output string) string { return output + ".ckpt" }

// rankState is what a rank needs to continue exactly where it stopped.
type rankState struct {
	iter int64
	// replica (x, g, downlink bits) and client (g_i, v_i, e_i, m_i…) state,
	// as the method's State names them
	replica, client algorithms.State
	bits            int64 // the client's cumulative bits
	up, down        int64
	elapsed         float64
	compressor      []byte // rand-k stream state (empty otherwise)
	minibatch       []byte // minibatch stream state (empty otherwise)
	perm            []int32
	lastX           []float64
	// oracle is the oracle's own state beside x (a network's batch-norm
	// running statistics, problems.RunningStats; empty otherwise)
	oracle      []float64
	fingerprint [32]byte
}

// fingerprint identifies everything a checkpoint's bits depend on: the spec
// (except where the output goes and how often it is flushed or
// checkpointed), the number of ranks, the dimension, x^0 and the step-size
// constant. A checkpoint is only restored into the same computation.
func (sh *Shared) fingerprint() [32]byte {
	s := sh.Spec
	s.Output, s.Overwrite, s.Resume, s.CheckpointEvery, s.FlushEvery = "", false, false, 0, 0
	s.DataPath = filepath.Base(s.DataPath)
	s.NN.Path = filepath.Base(s.NN.Path) // the images are in the data print
	h := sha256.New()
	fmt.Fprintf(h, "%#v|n=%d|d=%d|gamma=%x|", s, sh.Ranks, sh.Dim, math.Float64bits(sh.Schedule.Gamma))
	fmt.Fprintf(h, "data=%d,%d,%d,%x|", sh.Data.Rows, sh.Data.Cols, sh.Data.NNZ, sh.Data.Sum)
	binary.Write(h, binary.LittleEndian, sh.X0)
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func (st *rankState) marshal() []byte {
	var b bytes.Buffer
	b.WriteString(ckptMagic)
	b.Write(st.fingerprint[:])
	le := binary.LittleEndian
	for _, v := range []int64{st.iter, st.bits, st.up, st.down} {
		binary.Write(&b, le, v)
	}
	binary.Write(&b, le, st.elapsed)
	for _, s := range []algorithms.State{st.replica, st.client} {
		binary.Write(&b, le, s.Bits)
		binary.Write(&b, le, uint64(len(s.Vectors)))
		for _, v := range s.Vectors {
			binary.Write(&b, le, uint64(len(v.Name)))
			b.WriteString(v.Name)
			binary.Write(&b, le, uint64(len(v.Values)))
			binary.Write(&b, le, v.Values)
		}
	}
	binary.Write(&b, le, uint64(len(st.lastX)))
	binary.Write(&b, le, st.lastX)
	for _, v := range [][]byte{st.compressor, st.minibatch} {
		binary.Write(&b, le, uint64(len(v)))
		b.Write(v)
	}
	binary.Write(&b, le, uint64(len(st.perm)))
	binary.Write(&b, le, st.perm)
	binary.Write(&b, le, uint64(len(st.oracle)))
	binary.Write(&b, le, st.oracle)
	sum := sha256.Sum256(b.Bytes())
	b.Write(sum[:])
	return b.Bytes()
}

func unmarshalState(data []byte) (*rankState, error) {
	if len(data) < len(ckptMagic)+32+32 || string(data[:len(ckptMagic)]) != ckptMagic {
		return nil, errors.New("not an efmpi checkpoint")
	}
	body, sum := data[:len(data)-32], data[len(data)-32:]
	if s := sha256.Sum256(body); !bytes.Equal(s[:], sum) {
		return nil, errors.New("checksum mismatch (damaged file)")
	}
	r := bytes.NewReader(body[len(ckptMagic):])
	le := binary.LittleEndian
	st := &rankState{}
	read := func(v any) error { return binary.Read(r, le, v) }
	length := func() (int, error) {
		var n uint64
		if err := read(&n); err != nil {
			return 0, err
		}
		if n > uint64(r.Len()) {
			return 0, io.ErrUnexpectedEOF
		}
		return int(n), nil
	}
	if _, err := io.ReadFull(r, st.fingerprint[:]); err != nil {
		return nil, err
	}
	for _, p := range []*int64{&st.iter, &st.bits, &st.up, &st.down} {
		if err := read(p); err != nil {
			return nil, err
		}
	}
	if err := read(&st.elapsed); err != nil {
		return nil, err
	}
	floats := func() ([]float64, error) {
		n, err := length()
		if err != nil {
			return nil, err
		}
		if 8*n > r.Len() {
			return nil, io.ErrUnexpectedEOF
		}
		v := make([]float64, n)
		return v, read(v)
	}
	for _, s := range []*algorithms.State{&st.replica, &st.client} {
		if err := read(&s.Bits); err != nil {
			return nil, err
		}
		nv, err := length()
		if err != nil {
			return nil, err
		}
		for range nv {
			nn, err := length()
			if err != nil {
				return nil, err
			}
			name := make([]byte, nn)
			if _, err := io.ReadFull(r, name); err != nil {
				return nil, err
			}
			vals, err := floats()
			if err != nil {
				return nil, err
			}
			s.Vectors = append(s.Vectors, algorithms.NamedVector{Name: string(name), Values: vals})
		}
	}
	var err error
	if st.lastX, err = floats(); err != nil {
		return nil, err
	}
	for _, p := range []*[]byte{&st.compressor, &st.minibatch} {
		n, err := length()
		if err != nil {
			return nil, err
		}
		*p = make([]byte, n)
		if _, err := io.ReadFull(r, *p); err != nil {
			return nil, err
		}
	}
	n, err := length()
	if err != nil {
		return nil, err
	}
	st.perm = make([]int32, n)
	if err := read(st.perm); err != nil {
		return nil, err
	}
	if st.oracle, err = floats(); err != nil {
		return nil, err
	}
	return st, nil
}

func ckptRankFile(dir string, k int64, rank int) string {
	return filepath.Join(dir, fmt.Sprintf("ckpt-%d-rank-%d.bin", k, rank))
}

func ckptDoneFile(dir string, k int64) string {
	return filepath.Join(dir, fmt.Sprintf("ckpt-%d.done", k))
}

// writeAtomic writes data to path through a temporary file in the same
// directory, fsynced before and after the rename.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return werr
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// completeCheckpoints lists the iterations with a complete checkpoint in
// dir, newest first.
func completeCheckpoints(dir string) ([]int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var ks []int64
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "ckpt-") || !strings.HasSuffix(name, ".done") {
			continue
		}
		k, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(name, "ckpt-"), ".done"), 10, 64)
		if err == nil {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	slices.Reverse(ks)
	return ks, nil
}

// pruneCheckpoints removes every checkpoint file in dir but those of
// iteration keep (rank 0, after keep is complete).
func pruneCheckpoints(dir string, keep int64) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := fmt.Sprintf("ckpt-%d-", keep)
	done := fmt.Sprintf("ckpt-%d.done", keep)
	// Markers first: a crash while pruning must never leave a marker whose
	// rank files are gone.
	for _, markers := range []bool{true, false} {
		for _, e := range entries {
			name := e.Name()
			if !strings.HasPrefix(name, "ckpt-") || strings.HasPrefix(name, prefix) || name == done ||
				strings.HasSuffix(name, ".done") != markers {
				continue
			}
			os.Remove(filepath.Join(dir, name))
		}
	}
}

// resumePoint is where a run starts: fresh, or restored from a checkpoint.
type resumePoint struct {
	restored bool
	iter     int64
	elapsed  float64 // wall seconds the run had taken at the checkpoint
}

var fresh = resumePoint{}

// stopped ends the run with a final status; a run stopped by a signal first
// writes a checkpoint at the iteration every rank agreed to stop at.
func (l *loop) stopped(status, why string, k int, err error) (Result, error) {
	var ckErr error
	if status == StatusInterrupted && err == nil {
		if ckErr = l.checkpoint(k); ckErr != nil {
			why += "; the checkpoint failed: " + ckErr.Error()
		} else {
			why += fmt.Sprintf("; checkpoint at iteration %d (continue with -resume)", k)
		}
	}
	res := l.result(status, why, k)
	res.CheckpointErr = ckErr
	return res, err
}

// state collects hosted rank ranks[i]'s state after iteration k (the
// replica is the node's, the same on every rank).
func (l *loop) state(k, i int) (*rankState, error) {
	rs, cs := l.node.Replica.State(), l.node.Clients[i].State()
	orc := l.orcs[i]
	st := &rankState{iter: int64(k), replica: rs, client: cs,
		bits: cs.Bits, up: l.up[i], down: l.down[i], elapsed: time.Since(l.start).Seconds(),
		perm: orc.perm, lastX: l.lastX, fingerprint: l.sh.fingerprint()}
	if rs, ok := orc.obj.(problems.RunningStats); ok {
		st.oracle = rs.Stats()
	}
	var err error
	if src := l.compSrcs[i]; src != nil {
		if st.compressor, err = src.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	if orc.src != nil {
		if st.minibatch, err = orc.src.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// checkpoint writes every rank's state after iteration k; it is collective.
// Rank 0 first flushes the trajectory, so the rows through k are on disk
// before the checkpoint can be complete.
func (l *loop) checkpoint(k int) error {
	dir := CheckpointDir(l.sh.Spec.Output)
	err := func() error {
		if l.rec != nil {
			if err := l.rec.Flush(); err != nil {
				return err
			}
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for i, r := range l.ranks {
			st, err := l.state(k, i)
			if err != nil {
				return l.ofRank(r, err)
			}
			if err := writeAtomic(ckptRankFile(dir, int64(k), r), st.marshal()); err != nil {
				return l.ofRank(r, err)
			}
		}
		return nil
	}()
	if err := l.agree(err); err != nil {
		return fmt.Errorf("checkpoint at iteration %d in %s: %w", k, dir, err)
	}
	if l.root {
		if err := writeAtomic(ckptDoneFile(dir, int64(k)), []byte(strconv.Itoa(k)+"\n")); err != nil {
			return fmt.Errorf("checkpoint at iteration %d in %s: %w", k, dir, err)
		}
		pruneCheckpoints(dir, int64(k))
	}
	l.clock.add(&l.t.Recording)
	return nil
}

// agree is collective: it returns this rank's err, or an error if another
// rank failed, so that every rank takes the same branch.
// Every rank's error names each rank that failed, with its message (the
// file it could not read or write).
func (l *loop) agree(err error) error {
	report, cerr := shareFailures(l.comm, err)
	if cerr != nil {
		return commErr("agree", cerr)
	}
	if err != nil {
		return &reportedError{report: report, err: err}
	}
	if report != "" {
		return errors.New(report)
	}
	return nil
}

// reportedError is this rank's own failure, described by the report of every
// rank's failures (which includes it).
type reportedError struct {
	report string
	err    error
}

func (e *reportedError) Error() string { return e.report }
func (e *reportedError) Unwrap() error { return e.err }

// restore loads the newest complete checkpoint of the run's output: rank 0
// picks it and tells the others, every rank restores its own file, and rank
// 0 reopens the HDF5 file with the rows after the checkpoint cut off.
func (l *loop) restore() (resumePoint, error) {
	dir := CheckpointDir(l.sh.Spec.Output)
	pick := l.mlocs[0][:1]
	pick[0] = -1
	if l.root {
		ks, err := completeCheckpoints(dir)
		if err == nil && len(ks) > 0 {
			pick[0] = float64(ks[0])
		}
	}
	if err := collective.BroadcastDense(l.comm, pick); err != nil {
		return fresh, commErr("resume", err)
	}
	if pick[0] < 0 {
		return fresh, fmt.Errorf("%w: cannot resume %s: %w in %s", ErrInvalid, l.sh.Spec.Output, ErrNoCheckpoint, dir)
	}
	k := int64(pick[0])
	at := resumePoint{restored: true, iter: k}
	err := func() error {
		for i, r := range l.ranks {
			path := ckptRankFile(dir, k, r)
			data, err := os.ReadFile(path)
			if err != nil {
				return l.ofRank(r, err)
			}
			st, err := unmarshalState(data)
			if err != nil {
				return l.ofRank(r, fmt.Errorf("%s: %w", path, err))
			}
			if err := l.apply(st, i); err != nil {
				return l.ofRank(r, fmt.Errorf("%s: %w", path, err))
			}
			if i == 0 {
				at.elapsed = st.elapsed // rank 0's clock, on rank 0's node
			}
		}
		var err error
		if l.root {
			l.rec, err = hdf5io.Resume(l.sh.Spec.Output, l.sh.Spec.FlushEvery, k)
			if err == nil {
				err = l.rec.SetAttrs(attr("resumed_from_iteration", k),
					attr("resumed_at", time.Now().UTC().Format(time.RFC3339)), attr("transport", l.comm.Transport()))
			}
		}
		return err
	}()
	if err := l.agree(err); err != nil {
		if l.rec != nil {
			l.rec.Close("") // the file keeps its status and rows
			l.rec = nil
		}
		return at, fmt.Errorf("%w: resume from the checkpoint at iteration %d: %w", ErrInvalid, k, err)
	}
	if l.rec != nil {
		if err := l.rec.SetStatus("running"); err != nil {
			return at, err
		}
	}
	return at, nil
}

// ofRank names rank r in err when this node hosts several ranks (a
// process of one rank is named by the failure report).
func (l *loop) ofRank(r int, err error) error {
	if l.host == nil {
		return err
	}
	return fmt.Errorf("rank %d: %w", r, err)
}

// apply installs hosted rank ranks[i]'s checkpointed state, after checking
// it belongs to this run. The node's replica comes from its first hosted
// rank's file (rank 0's on rank 0's node: with the dense downlink only rank
// 0 keeps g).
func (l *loop) apply(st *rankState, i int) error {
	if st.fingerprint != l.sh.fingerprint() {
		return errors.New("the checkpoint was written by a different configuration, number of ranks, x0 or data " +
			"(the data file changed since the checkpoint? its contents are part of the fingerprint: " + l.sh.Data.String() + " now)")
	}
	if i == 0 {
		if err := l.node.Replica.Restore(st.replica); err != nil {
			return err
		}
	}
	st.client.Bits = st.bits
	if err := l.node.Clients[i].Restore(st.client); err != nil {
		return err
	}
	if len(st.lastX) != len(l.lastX) {
		return fmt.Errorf("last finite x has %d values, want %d", len(st.lastX), len(l.lastX))
	}
	copy(l.lastX, st.lastX)
	orc, compSrc := l.orcs[i], l.compSrcs[i]
	if len(st.perm) != len(orc.perm) {
		return fmt.Errorf("minibatch permutation has %d entries, want %d", len(st.perm), len(orc.perm))
	}
	copy(orc.perm, st.perm)
	var stats []float64
	if rs, ok := orc.obj.(problems.RunningStats); ok {
		stats = rs.Stats()
	}
	if len(st.oracle) != len(stats) {
		return fmt.Errorf("running statistics have %d values, want %d", len(st.oracle), len(stats))
	}
	copy(stats, st.oracle)
	if (orc.src != nil) != (len(st.minibatch) > 0) || (compSrc != nil) != (len(st.compressor) > 0) {
		return errors.New("random stream states do not match the method")
	}
	if orc.src != nil {
		if err := orc.src.UnmarshalBinary(st.minibatch); err != nil {
			return fmt.Errorf("minibatch stream: %w", err)
		}
	}
	if compSrc != nil {
		if err := compSrc.UnmarshalBinary(st.compressor); err != nil {
			return fmt.Errorf("compressor stream: %w", err)
		}
	}
	l.up[i], l.down[i] = st.up, st.down
	return nil
}
