// Package mpi is efmpi's MPI transport: cgo over the few MPI calls the
// collectives need, behind the build tag "mpi" so that the default build
// needs no MPI library.
//
// Build it with the site's wrapper compiler, as HPC codes are built:
//
//	CC=mpicc go build -tags mpi ./cmd/efmpi          (make build-mpi)
//	CC=mpicc.openmpi go build -tags mpi …            (Debian: Open MPI)
//	CC=mpicc.mpich   go build -tags mpi …            (Debian: MPICH)
//
// Without the tag, Linked reports false and Init fails; everything else in
// efmpi works unchanged.
//
// # Go and MPI
//
// The package's init locks the main goroutine to the process's main OS
// thread (runtime.LockOSThread), Init calls MPI_Init_thread with
// MPI_THREAD_FUNNELED and checks what the library provides, and every call
// into MPI checks MPI_Is_thread_main first: an MPI call from any other
// thread is refused with an error instead of being undefined behaviour. So
// the rank's loop must run on the main goroutine (efmpi's run command does:
// a process joined to a launcher runs its one rank synchronously in main).
// The error handler of MPI_COMM_WORLD is MPI_ERRORS_RETURN, so a failed call
// returns an *Error instead of aborting the process; the only MPI call made
// from another thread is MPI_Abort, by the watchdog. The signals Go handles
// are blocked while MPI_Init_thread starts the library's threads, and the
// handlers the library installs for them are replaced by Go's again
// afterwards (MPICH's SIGUSR1 handler lacks SA_ONSTACK and crashed the Go
// runtime on a forwarded SIGUSR1); SIGPIPE is caught, so that a write into
// a dead peer's socket fails instead of killing the rank.
//
// # Watchdog
//
// MPI gives a process no portable way to learn that a peer died or hangs
// while it waits in a collective: the library either returns an error (if
// its transport notices a broken connection), or the launcher kills the job
// (mpirun and Hydra do when a process exits abnormally), or the call blocks
// for ever (a peer that hangs, or a launcher that does not notice). A World
// therefore runs a watchdog goroutine: when one MPI call has blocked for
// longer than the timeout, it calls the OnHang hook (efmpi marks rank 0's
// file failed there), prints which call on which rank is stuck, and calls
// MPI_Abort with exit code 4, which ends every rank of the job.
//
// # Collectives
//
// World implements collective.Collectives with results bitwise equal to the
// in-process and TCP transports': the sparse aggregate is an MPI_Allgather of
// the efmpi frames of the messages (one call with a fixed slot size agreed
// from the previous round, an MPI_Allgatherv only when a message outgrows
// it) after which every rank applies the sum function in rank order; dense
// sums go up the fixed tree of collective.TreeChildren with MPI_Send/MPI_Recv
// and come back with MPI_Bcast, never through MPI_Reduce with MPI_SUM (whose
// order the library chooses); broadcasts are MPI_Bcast, the barrier
// MPI_Barrier, the gather MPI_Gatherv.
package mpi
