//go:build !mpi

package mpi

import (
	"errors"
	"time"

	"github.com/efmpi/efmpi/collective"
)

// ErrNotLinked is returned by Init in a build without the mpi tag.
var ErrNotLinked = errors.New("this efmpi is built without MPI (build it with `make build-mpi`)")

// Linked reports whether this binary is linked against an MPI library.
func Linked() bool { return false }

// Flavour names the linked MPI library ("openmpi", "mpich"); "" here.
func Flavour() string { return "" }

// LibraryVersion is MPI_Get_library_version's string; "" here.
func LibraryVersion() string { return "" }

// Options configures Init.
type Options struct {
	// Timeout is the watchdog's limit on one blocking MPI call.
	Timeout time.Duration
	// OnHang, if set, is called by the watchdog; final: the job is aborted
	// right after.
	OnHang func(err error, final bool)
}

// Init fails: there is no MPI in this build.
func Init(Options) (collective.Collectives, error) { return nil, ErrNotLinked }

// Abort does nothing in a build without MPI.
func Abort(code int) {}
