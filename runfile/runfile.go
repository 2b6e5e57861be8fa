// Package runfile is efmpi's one vocabulary for recorded runs: the status
// values a run file can carry, the labels that name a run (in figure legends,
// `inspect`, `summarize`, `sweep` and CSVs), the meaning and units of every
// dataset, and the summary statistics (final values, smallest ‖∇f‖², the
// first iteration and bits at which a target was reached).
//
// Everything that names or counts a run goes through this package, so that
// two outputs can never label or count the same run differently. It reads
// files through hdf5io and knows nothing about configs, flags or figures.
package runfile

import (
	"github.com/efmpi/efmpi/hdf5io"
)

// Status values of a run file's `status` attribute (SPEC §6).
const (
	StatusRunning     = "running"           // the run is going on, or died without a word
	StatusCompleted   = "completed"         // all configured iterations done
	StatusTolerance   = "stopped-tolerance" // ‖∇f‖² ≤ tolerance, or g = 0 for a normalised method
	StatusDiverged    = "diverged"          // a non-finite f, ‖∇f‖² or x
	StatusFailed      = "failed"            // a rank was lost, or an I/O error
	StatusInterrupted = "interrupted"       // SIGTERM, SIGUSR1 or SIGINT: checkpointed, resumable
)

// Statuses lists every status value, in the order above.
func Statuses() []string {
	return []string{StatusRunning, StatusCompleted, StatusTolerance, StatusDiverged, StatusFailed, StatusInterrupted}
}

// Finished reports whether a status marks a run that ended as intended
// (completed, or stopped on the tolerance): the runs a resumed sweep keeps.
func Finished(status string) bool { return status == StatusCompleted || status == StatusTolerance }

// Column is one dataset of a run file with its units and meaning.
type Column = hdf5io.ColumnInfo

// Columns lists every dataset a run file can hold, with units and
// description (the same text the file carries as attributes).
func Columns() []Column { return hdf5io.ColumnInfos() }

// Open reads a run file completely.
func Open(path string) (*hdf5io.Run, error) { return hdf5io.Open(path) }
