package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/efmpi/efmpi/collective/launch"
	"github.com/efmpi/efmpi/collective/mpi"
	"github.com/efmpi/efmpi/config"
	"github.com/efmpi/efmpi/driver"
)

// markAfterSignal: when a stop signal arrives while rank 0 has been
// blocked in one MPI call for this long (measured from the call's start),
// its file is marked failed at once, and closed 0.4 s later if the call is
// still stuck (a normal end overwrites an unclosed mark). Launchers signal every rank
// when they tear a job down after a rank died (Open MPI's mpirun: SIGTERM
// about a second after the death, SIGKILL a second later; a file flushed
// but not closed was seen unreadable after such a kill). A normal
// interruption finds rank 0 waiting far shorter than this; calls it makes
// after the signal keep the [run] timeout.
const markAfterSignal = 800 * time.Millisecond

// runMPI runs this process as one rank of an MPI job (-transport mpi, the
// default for an MPI build under a launcher). MPI is initialised here, on
// the main goroutine, which package mpi has locked to the main thread; the
// rank's loop runs synchronously on it, so every MPI call comes from that
// thread.
func runMPI(ctx context.Context, cfg *config.Config, spec driver.Spec, f *runFlags, env launch.Env, stdout io.Writer, warn func()) (int, error) {
	if !mpi.Linked() {
		return ExitBadInput, usageError{"-transport mpi: " + mpi.ErrNotLinked.Error()}
	}
	// The launcher check and MPI_Init come first, so that a wrong launcher
	// is reported within a second, before any data is read.
	if err := mpi.CheckLauncher(mpi.Flavour(), nil); err != nil {
		return ExitBadInput, err
	}
	timeout, err := cfg.TimeoutDuration()
	if err != nil {
		return ExitBadInput, err
	}
	var mark atomic.Pointer[func(string, string, bool)]
	comm, err := mpi.Init(mpi.Options{Timeout: timeout, OnHang: func(err error, final bool) {
		if fp := mark.Load(); fp != nil {
			(*fp)(driver.StatusFailed, err.Error(), final)
		}
	}})
	if err != nil {
		return ExitRankFailed, err
	}
	defer comm.Finalize()
	if comm.Rank() != env.Rank || comm.Size() != env.Size {
		return ExitBadInput, fmt.Errorf("MPI says rank %d of %d, the launcher's environment (%s) rank %d of %d", comm.Rank(), comm.Size(), env.Launcher, env.Rank, env.Size)
	}
	if h, ok := comm.(interface{ Hurry(mark time.Duration) }); ok {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			select {
			case <-ctx.Done():
				h.Hurry(markAfterSignal)
			case <-stop:
			}
		}()
	}
	// Until every rank has joined the first collective, a rank that fails
	// does so alone (its output path, its data), and the others would wait
	// for it in vain: it ends the whole job with its exit code (MPI_Abort).
	sh, err := prepareJoined(cfg, spec, f, env)
	if err != nil {
		abortJob(env.Rank, ExitBadInput, err)
	}
	warn()
	// Before the first iteration every rank must run the same config, binary
	// and data (see runJoined).
	return runRank(ctx, cfg, spec, f, env, comm, sh, stdout,
		func(m func(string, string, bool)) { mark.Store(&m) }, func() { mark.Store(nil) })
}

// abortJob prints err and ends every rank of the MPI job with code.
func abortJob(rank, code int, err error) {
	fmt.Fprintf(os.Stderr, "efmpi run: rank %d: %v (ending the job)\n", rank, err)
	// give the launcher a moment to forward the message: Hydra was seen to
	// drop it when MPI_Abort followed at once
	time.Sleep(200 * time.Millisecond)
	mpi.Abort(code)
	os.Exit(code)
}

// mpiVersion is what `efmpi version` says about MPI.
func mpiVersion() string {
	if !mpi.Linked() {
		return "MPI: not linked (make build-mpi builds a binary with the mpi transport)"
	}
	v := mpi.LibraryVersion()
	if i := indexNewline(v); i >= 0 {
		v = v[:i]
	}
	return fmt.Sprintf("MPI: linked, %s (%s)", mpi.Flavour(), v)
}

func indexNewline(s string) int {
	for i, c := range s {
		if c == '\n' || c == '\r' {
			return i
		}
	}
	return -1
}
