package runfile

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/efmpi/efmpi/hdf5io"
)

// Writer is what is known about the process that writes a run file whose
// status is still `running`: alive (it holds the file's lock) or gone
// (killed without a word: kill -9, a step Slurm killed, a node that died).
type Writer struct {
	// Alive: a process holds the file's write lock.
	Alive bool `json:"alive"`
	// Holder is the lock file's "pid <pid> on <host>" ("" without one).
	Holder string `json:"holder,omitempty"`
	// Evidence says, in words, how Alive was decided.
	Evidence string `json:"evidence"`
	// LastWrite is the file's modification time: when the writer last
	// flushed rows (or attributes) into it.
	LastWrite time.Time `json:"last_write"`
	// StaleLock and StaleReserve: a dead writer left <file>.lock or
	// <file>.reserve behind. Both are harmless: the next -resume or
	// -overwrite takes them over and removes them when it ends, and they
	// may be deleted by hand.
	StaleLock    bool `json:"stale_lock"`
	StaleReserve bool `json:"stale_reserve"`
}

// WriterOf examines the lock of the run file path and the file itself.
func WriterOf(path string) *Writer {
	w := &Writer{}
	if st, err := os.Stat(path); err == nil {
		w.LastWrite = st.ModTime().UTC()
	}
	lk := hdf5io.ProbeLock(path)
	w.Holder = lk.Holder
	switch {
	case lk.Held:
		w.Alive = true
		w.Evidence = fmt.Sprintf("%s holds the lock %s", orUnknown(lk.Holder), hdf5io.LockPath(path))
	case lk.Exists:
		w.StaleLock = true
		w.Evidence = fmt.Sprintf("nobody holds the lock %s (its writer, %s, is gone%s)",
			hdf5io.LockPath(path), orUnknown(lk.Holder), pidNote(lk.Holder))
	default:
		w.Evidence = fmt.Sprintf("no lock file %s: no efmpi process writes it", hdf5io.LockPath(path))
	}
	if !w.Alive {
		if _, err := os.Stat(path + ".reserve"); err == nil {
			w.StaleReserve = true
		}
	}
	return w
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown process"
	}
	return s
}

// pidNote adds what this host knows about the holder "pid P on H": when H is
// this host and no process P runs, it says so.
func pidNote(holder string) string {
	var pid int
	var host string
	if f := strings.Fields(holder); len(f) == 4 && f[0] == "pid" && f[2] == "on" {
		pid, _ = strconv.Atoi(f[1])
		host = f[3]
	}
	me, _ := os.Hostname()
	if pid <= 0 || host != me {
		return ""
	}
	if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
		return fmt.Sprintf("; no process %d runs on %s", pid, host)
	}
	return ""
}

// Words describes the writer for `inspect` and -resume in one line.
func (w *Writer) Words() string {
	if w.Alive {
		return "being written: " + w.Evidence
	}
	s := "the writer is gone: " + w.Evidence
	var stale []string
	if w.StaleLock {
		stale = append(stale, ".lock")
	}
	if w.StaleReserve {
		stale = append(stale, ".reserve")
	}
	if len(stale) > 0 {
		s += "; stale " + strings.Join(stale, " and ") + " left behind (harmless: -resume or -overwrite takes them over)"
	}
	return s
}
