package collective

import (
	"errors"
	"fmt"

	"github.com/efmpi/efmpi/sparse"
)

// Tags used by the collectives. Programs that mix their own Send/Receive with
// collectives should avoid tags in [TagBase, TagBase+16).
const (
	TagBase = 0x7EF00000

	tagGatherSparse = TagBase + iota
	tagBcastSparse
	tagBcastDense
	tagReduce
	tagBarrierIn
	tagBarrierOut
)

func sendTo(c Comm, m msg, dest, tag int) error {
	if w, ok := c.(wire); ok {
		return w.sendMsg(m, dest, tag)
	}
	return c.Send(m.value(), dest, tag)
}

func recvFrom(c Comm, m msg, src, tag int) error {
	if w, ok := c.(wire); ok {
		return w.recvMsg(m, src, tag)
	}
	if m.k == mAddDense {
		tmp := make([]float64, len(m.f))
		if err := c.Receive(tmp, src, tag); err != nil {
			return err
		}
		for i, x := range tmp {
			m.f[i] += x
		}
		return nil
	}
	return c.Receive(m.value(), src, tag)
}

// bcastFrom0 sends m from rank 0 to ranks 1, …, n−1 in order.
func bcastFrom0(c Comm, m msg, tag int) error {
	if w, ok := c.(wire); ok {
		return w.bcastMsg(m, tag)
	}
	for r := 1; r < c.Size(); r++ {
		if err := c.Send(m.value(), r, tag); err != nil {
			return err
		}
	}
	return nil
}

// GatherSparse collects every rank's msg on rank 0: there out[r] becomes a
// copy of rank r's message (out[0] a copy of rank 0's own), reusing the
// storage of out, which must have at least Size elements. Rank 0 receives
// from ranks 1, 2, …, n−1 in that order. On other ranks out is unused and may
// be nil.
func GatherSparse(c Comm, msg *sparse.Vector, out []sparse.Vector) error {
	if msg == nil {
		return errors.New("collective: gather: nil message")
	}
	n, me := c.Size(), c.Rank()
	if me != 0 {
		if err := sendTo(c, sparseMsg(msg), 0, tagGatherSparse); err != nil {
			return fmt.Errorf("collective: gather at rank %d: %w", me, err)
		}
		return nil
	}
	if len(out) < n {
		return fmt.Errorf("collective: gather at rank 0: out has %d elements, need %d", len(out), n)
	}
	out[0].CopyFrom(msg)
	for r := 1; r < n; r++ {
		if err := recvFrom(c, sparseMsg(&out[r]), r, tagGatherSparse); err != nil {
			return fmt.Errorf("collective: gather at rank 0 from rank %d: %w", r, err)
		}
	}
	return nil
}

func sparseMsg(v *sparse.Vector) msg { return msg{k: mSparse, sv: v} }

// BroadcastSparse sends v from rank 0 to every other rank, which decode it
// into their v, reusing its storage.
func BroadcastSparse(c Comm, v *sparse.Vector) error {
	if v == nil {
		return errors.New("collective: broadcast: nil vector")
	}
	if me := c.Rank(); me != 0 {
		if err := recvFrom(c, sparseMsg(v), 0, tagBcastSparse); err != nil {
			return fmt.Errorf("collective: sparse broadcast at rank %d: %w", me, err)
		}
		return nil
	}
	if err := bcastFrom0(c, sparseMsg(v), tagBcastSparse); err != nil {
		return fmt.Errorf("collective: sparse broadcast at rank 0: %w", err)
	}
	return nil
}

// BroadcastDense sends x from rank 0 to every other rank, which overwrite
// their x; its length must equal rank 0's (an error otherwise).
func BroadcastDense(c Comm, x []float64) error {
	if me := c.Rank(); me != 0 {
		if err := recvFrom(c, msg{k: mDense, f: x}, 0, tagBcastDense); err != nil {
			return fmt.Errorf("collective: dense broadcast at rank %d: %w", me, err)
		}
		return nil
	}
	if err := bcastFrom0(c, msg{k: mDense, f: x}, tagBcastDense); err != nil {
		return fmt.Errorf("collective: dense broadcast at rank 0: %w", err)
	}
	return nil
}

// Reduce sums every rank's src into dst on rank 0, in rank order starting
// from rank 0's values: dst = src_0; dst += src_1; …; dst += src_{n−1}. All
// src must have the same length, and so must dst on rank 0; on other ranks
// dst is unused and may be nil.
func Reduce(c Comm, src, dst []float64) error {
	n, me := c.Size(), c.Rank()
	if me != 0 {
		if err := sendTo(c, msg{k: mDense, f: src}, 0, tagReduce); err != nil {
			return fmt.Errorf("collective: reduce at rank %d: %w", me, err)
		}
		return nil
	}
	if len(dst) != len(src) {
		return fmt.Errorf("collective: reduce at rank 0: dst has length %d, src %d", len(dst), len(src))
	}
	copy(dst, src)
	for r := 1; r < n; r++ {
		if err := recvFrom(c, msg{k: mAddDense, f: dst}, r, tagReduce); err != nil {
			return fmt.Errorf("collective: reduce at rank 0 from rank %d: %w", r, err)
		}
	}
	return nil
}

// Allreduce is Reduce followed by BroadcastDense of the sum: every rank ends
// with the same dst, bitwise. dst must have the length of src on every rank.
func Allreduce(c Comm, src, dst []float64) error {
	if len(dst) != len(src) {
		return fmt.Errorf("collective: allreduce at rank %d: dst has length %d, src %d", c.Rank(), len(dst), len(src))
	}
	if err := Reduce(c, src, dst); err != nil {
		return err
	}
	return BroadcastDense(c, dst)
}

// Barrier returns on every rank once every rank has entered it: each rank
// sends an empty message to rank 0, which answers everyone once all arrived.
func Barrier(c Comm) error {
	n, me := c.Size(), c.Rank()
	empty := msg{k: mBytes, b: []byte{}}
	if me != 0 {
		if err := sendTo(c, empty, 0, tagBarrierIn); err != nil {
			return fmt.Errorf("collective: barrier at rank %d: %w", me, err)
		}
		if err := recvFrom(c, empty, 0, tagBarrierOut); err != nil {
			return fmt.Errorf("collective: barrier at rank %d: %w", me, err)
		}
		return nil
	}
	for r := 1; r < n; r++ {
		if err := recvFrom(c, empty, r, tagBarrierIn); err != nil {
			return fmt.Errorf("collective: barrier at rank 0 from rank %d: %w", r, err)
		}
	}
	if err := bcastFrom0(c, empty, tagBarrierOut); err != nil {
		return fmt.Errorf("collective: barrier at rank 0: %w", err)
	}
	return nil
}
