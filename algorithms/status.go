package algorithms

import "errors"

// Status is how a run stands, in the manner of gonum/optimize's Status: a
// typed value whose String is the SPEC §6 status attribute.
type Status int

// The statuses of a run.
const (
	NotTerminated    Status = iota // still running ("running")
	Completed                      // all K iterations done
	StoppedTolerance               // ‖∇f‖² ≤ tolerance, or g = 0 for a normalised method
	Diverged                       // non-finite values
	Failed                         // a rank or the recorder failed
	Interrupted                    // a signal; resumable from its checkpoint
)

var statusNames = [...]string{"running", "completed", "stopped-tolerance", "diverged", "failed", "interrupted"}

// String is the status as the HDF5 file records it.
func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return "unknown"
	}
	return statusNames[s]
}

// Final reports whether the run has ended with s.
func (s Status) Final() bool { return s != NotTerminated }

// Success reports whether s is an exit-status-0 ending (SPEC §8: completed or
// stopped on tolerance).
func (s Status) Success() bool { return s == Completed || s == StoppedTolerance }

// StatusOf classifies an error of Node.Round or Node.Init: nil is
// NotTerminated, ErrZeroEstimator (every g_i at a stationary point) is
// StoppedTolerance, anything else Failed.
func StatusOf(err error) Status {
	switch {
	case err == nil:
		return NotTerminated
	case errors.Is(err, ErrZeroEstimator):
		return StoppedTolerance
	}
	return Failed
}
