package hdf5io

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// ErrLocked is returned when another process is writing the output file.
var ErrLocked = errors.New("is being written by another efmpi process")

// LockPath is the lock file that protects a run file while it is written.
func LockPath(path string) string { return path + ".lock" }

// Lock is an exclusive advisory lock (flock) on <file>.lock, held by the one
// process that writes a run file. A second writer sees it and refuses to
// truncate or resume the file; readers are not affected.
type Lock struct {
	path string
	f    *os.File
}

// AcquireLock takes the write lock of the run file path, creating the lock
// file. It fails at once with ErrLocked (naming the holder's pid and host, as
// the holder wrote them) if another process holds it. The lock disappears
// with the process, however it ends.
func AcquireLock(path string) (*Lock, error) {
	lp := LockPath(path)
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", lp, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			holder, _ := os.ReadFile(lp)
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("%s %w (%s; lock file %s): wait for it to end or choose another -out",
					path, ErrLocked, strings.TrimSpace(string(holder)), lp)
			}
			return nil, fmt.Errorf("lock %s: %w", lp, err)
		}
		// The previous holder may have removed the file between our open
		// and our flock: then we hold a lock nobody else can see. Retry.
		held, err1 := f.Stat()
		now, err2 := os.Stat(lp)
		if err1 != nil || err2 != nil || !os.SameFile(held, now) {
			f.Close()
			if attempt < 10 {
				continue
			}
			return nil, fmt.Errorf("lock %s: the lock file keeps being replaced", lp)
		}
		host, _ := os.Hostname()
		f.Truncate(0)
		fmt.Fprintf(f, "pid %d on %s", os.Getpid(), host)
		return &Lock{path: lp, f: f}, nil
	}
}

// CheckUnlocked reports ErrLocked if another process holds the lock of path,
// without creating anything: a missing lock file means nobody writes it.
func CheckUnlocked(path string) error {
	if st := ProbeLock(path); st.Held {
		return fmt.Errorf("%s %w (%s; lock file %s): wait for it to end or choose another -out",
			path, ErrLocked, st.Holder, LockPath(path))
	}
	return nil
}

// LockState is what the lock file of a run file says about its writer.
type LockState struct {
	// Exists: the lock file is there. A writer removes it when it ends;
	// one that was killed (kill -9, a step killed by Slurm, a node that
	// died) leaves it behind, unheld: a stale lock, which is harmless
	// (the next writer takes it over).
	Exists bool
	// Held: a live process holds the lock, so the file is being written.
	Held bool
	// Holder is the lock file's text, "pid <pid> on <host>" as its writer
	// wrote it ("" without a lock file).
	Holder string
}

// ProbeLock reads the lock of the run file path without taking it and
// without creating anything.
func ProbeLock(path string) LockState {
	lp := LockPath(path)
	f, err := os.Open(lp)
	if err != nil {
		return LockState{}
	}
	defer f.Close()
	text, _ := os.ReadFile(lp)
	st := LockState{Exists: true, Holder: strings.TrimSpace(string(text))}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		st.Held = errors.Is(err, syscall.EWOULDBLOCK)
		return st
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return st
}

// Release removes the lock file and releases the lock. Nil-safe.
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	os.Remove(l.path) // while still holding it: see AcquireLock's retry
	l.f.Close()
	l.f = nil
}
