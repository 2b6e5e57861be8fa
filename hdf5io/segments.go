package hdf5io

import (
	"fmt"
	"strconv"

	"gonum.org/v1/hdf5"
)

// Segments. A run that is resumed runs in several starts (segments), each
// perhaps under another launcher, transport, node list or binary. Each start
// is recorded as one group /segments/<n> (n = 0, 1, … in order) whose scalar
// attributes describe it (SPEC §6, README "What a run file holds"): the
// driver writes start_iteration, started_at, launcher, transport, hosts and
// the provenance of that start, and at its end end_iteration, finished_at,
// status and stop_reason. Files written before segments existed have no
// /segments group; every reader treats them as having none.

// SegmentsGroup is the group that holds one subgroup per segment.
const SegmentsGroup = "segments"

// BeginSegment records a new start of the run: it creates the group
// /segments/<n> after the n segments the file already has, writes attrs
// into it, and makes it the segment SetSegmentAttrs writes to.
func (r *Recorder) BeginSegment(attrs ...Attr) error {
	lib.Lock()
	defer lib.Unlock()
	if err := r.endSWMR(); err != nil {
		return err
	}
	if err := r.ensureGroup(SegmentsGroup); err != nil {
		return err
	}
	n := 0
	for r.file.LinkExists(segmentName(n)) {
		n++
	}
	g, err := r.file.CreateGroup(segmentName(n))
	if err != nil {
		return fmt.Errorf("hdf5 %s: group /%s: %w", r.path, segmentName(n), err)
	}
	g.Close()
	r.segment = segmentName(n)
	return r.segmentAttrsLocked(attrs)
}

// SetSegmentAttrs writes (or replaces) attributes of the current segment;
// without one (no BeginSegment) it does nothing.
func (r *Recorder) SetSegmentAttrs(attrs ...Attr) error {
	lib.Lock()
	defer lib.Unlock()
	if r.segment == "" {
		return nil
	}
	if err := r.endSWMR(); err != nil {
		return err
	}
	return r.segmentAttrsLocked(attrs)
}

func (r *Recorder) segmentAttrsLocked(attrs []Attr) error {
	g, err := r.file.OpenGroup(r.segment)
	if err != nil {
		return fmt.Errorf("hdf5 %s: /%s: %w", r.path, r.segment, err)
	}
	defer g.Close()
	for _, a := range attrs {
		if err := writeAttr(g, a.Name, a.Value); err != nil {
			return fmt.Errorf("hdf5 %s: /%s: %w", r.path, r.segment, err)
		}
	}
	return nil
}

func segmentName(n int) string { return SegmentsGroup + "/" + strconv.Itoa(n) }

// readSegments reads the attributes of /segments/0, /segments/1, … (nil
// when the file has no /segments group).
func readSegments(f *hdf5.File) ([]map[string]any, error) {
	if !f.LinkExists(SegmentsGroup) {
		return nil, nil
	}
	var out []map[string]any
	for n := 0; f.LinkExists(segmentName(n)); n++ {
		g, err := f.OpenGroup(segmentName(n))
		if err != nil {
			return nil, fmt.Errorf("/%s: %w", segmentName(n), err)
		}
		a, err := readAttrs(g)
		g.Close()
		if err != nil {
			return nil, fmt.Errorf("/%s: %w", segmentName(n), err)
		}
		out = append(out, a)
	}
	return out, nil
}
