package hdf5io

// #include <string.h>
// #include "hdf5.h"
//
// static char efmpi_h5_msg[1024];
//
// // efmpi_h5_walk keeps the most specific entry of the error stack (the first
// // one when walking upward): the function that detected the error and why.
// static herr_t efmpi_h5_walk(unsigned n, const H5E_error2_t *e, void *data) {
//   if (n != 0) return 0;
//   const char *desc = e->desc ? e->desc : "";
//   if (desc[0] == 0) {
//     ssize_t len = H5Eget_msg(e->min_num, NULL, efmpi_h5_msg, sizeof efmpi_h5_msg);
//     if (len < 0) efmpi_h5_msg[0] = 0;
//     return 0;
//   }
//   strncpy(efmpi_h5_msg, desc, sizeof efmpi_h5_msg - 1);
//   efmpi_h5_msg[sizeof efmpi_h5_msg - 1] = 0;
//   return 0;
// }
//
// static int efmpi_h5_debug;
//
// // efmpi_h5_capture is the library's automatic error handler: instead of
// // printing the stack it keeps the most specific reason, which the Go side
// // reads after the failing call (later calls would clear the stack itself).
// static herr_t efmpi_h5_capture(hid_t estack, void *data) {
//   efmpi_h5_msg[0] = 0;
//   H5Ewalk2(estack, H5E_WALK_UPWARD, efmpi_h5_walk, NULL);
//   if (efmpi_h5_debug) H5Eprint2(estack, stderr);
//   return 0;
// }
//
// static const char *efmpi_h5_reason(void) { return efmpi_h5_msg; }
//
// static void efmpi_h5_quiet(int debug) {
//   efmpi_h5_debug = debug;
//   efmpi_h5_msg[0] = 0;
//   H5Eset_auto2(H5E_DEFAULT, efmpi_h5_capture, NULL);
// }
import "C"

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"sync"
)

// DebugEnv names the environment variable that, set to 1, lets the HDF5
// library print its own error stacks (HDF5-DIAG lines) to stderr. By default
// they are off and every error is reported as one line: the file, what
// efmpi was doing and the library's most specific reason.
const DebugEnv = "EFMPI_HDF5_DEBUG"

var debugHDF5 = os.Getenv(DebugEnv) == "1"

// libMutex serialises every call into the HDF5 library (Debian's build is not
// safe for concurrent calls) and pins the caller to one OS thread while it
// holds the lock: the library's error stack and its automatic printing are
// per thread in a thread-safe build, so the printing is switched off on the
// thread that makes the calls, and the error detail is read on that thread.
type libMutex struct{ mu sync.Mutex }

// Lock takes the library and silences its automatic error printing.
func (m *libMutex) Lock() {
	m.mu.Lock()
	runtime.LockOSThread()
	d := C.int(0)
	if debugHDF5 {
		d = 1
	}
	C.efmpi_h5_quiet(d)
}

// Unlock releases the library.
func (m *libMutex) Unlock() {
	runtime.UnlockOSThread()
	m.mu.Unlock()
}

// lib serialises calls into the non-thread-safe HDF5 library.
var lib libMutex

// h5Error is a library failure with the library's own most specific reason.
type h5Error struct {
	err    error // gonum's error ("error opening hdf5 file: code -1")
	reason string
}

func (e *h5Error) Error() string {
	msg := e.err.Error()
	switch {
	case e.reason == "" || strings.Contains(msg, e.reason):
		return msg
	case strings.Contains(msg, "code -"): // gonum's "… code -1" says nothing more
		return e.reason
	}
	return msg + ": " + e.reason
}

func (e *h5Error) Unwrap() error { return e.err }

// detail replaces a gonum error by the library's most specific reason for
// the last failure (call it with lib held, right after the failing call).
// nil stays nil.
func detail(err error) error {
	var done *h5Error
	if err == nil || errors.As(err, &done) {
		return err
	}
	return &h5Error{err: err, reason: oneLine(C.GoString(C.efmpi_h5_reason()))}
}

// oneLine shortens the library's multi-line I/O failure ("file write
// failed: time = …, filename = …, errno = 28, error message = 'No space left
// on device', …") to its what and why.
func oneLine(reason string) string {
	const key = "error message = '"
	if i := strings.Index(reason, key); i >= 0 {
		rest := reason[i+len(key):]
		if j := strings.IndexByte(rest, '\''); j >= 0 {
			what, _, _ := strings.Cut(reason, ":")
			return what + ": " + rest[:j]
		}
	}
	return strings.Join(strings.Fields(reason), " ")
}
