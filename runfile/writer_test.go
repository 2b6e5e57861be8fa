package runfile

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/hdf5io"
)

// A file without /segments and provenance (as written before them, with no
// BeginSegment) still summarizes; a file left `running` is judged by its
// lock: held → alive; left behind by a process that is gone → gone, with
// the dead pid named; no lock file → gone. A finished file has no Writer.
func TestWriterOfRunningFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.h5")
	writeRun(t, path, nil, []hdf5io.Row{{Iteration: 0, F: 1}, {Iteration: 7, F: 0.5}}, StatusRunning)

	s, err := SummarizeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Segments != nil || s.Writer == nil || s.Writer.Alive || s.LastIteration != 7 {
		t.Fatalf("no lock file: segments %v, writer %+v, last %d", s.Segments, s.Writer, s.LastIteration)
	}
	st, _ := os.Stat(path)
	if !s.Writer.LastWrite.Equal(st.ModTime().UTC()) || !strings.Contains(s.Writer.Evidence, "no lock file") {
		t.Errorf("writer %+v, file modified %v", s.Writer, st.ModTime())
	}

	lock, err := hdf5io.AcquireLock(path)
	if err != nil {
		t.Fatal(err)
	}
	w := WriterOf(path)
	host, _ := os.Hostname()
	if !w.Alive || w.Holder != fmt.Sprintf("pid %d on %s", os.Getpid(), host) || w.StaleLock {
		t.Errorf("held lock: %+v", w)
	}
	lock.Release()

	// A process that has ended leaves its lock file behind, as kill -9 does.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	holder := fmt.Sprintf("pid %d on %s", dead.Process.Pid, host)
	if err := os.WriteFile(hdf5io.LockPath(path), []byte(holder), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".reserve", make([]byte, 10), 0o644); err != nil {
		t.Fatal(err)
	}
	w = WriterOf(path)
	if w.Alive || !w.StaleLock || !w.StaleReserve || w.Holder != holder ||
		!strings.Contains(w.Evidence, fmt.Sprintf("no process %d runs on %s", dead.Process.Pid, host)) {
		t.Errorf("stale lock: %+v", w)
	}
	if words := w.Words(); !strings.HasPrefix(words, "the writer is gone") || !strings.Contains(words, "stale .lock and .reserve") {
		t.Errorf("words: %s", words)
	}

	done := filepath.Join(dir, "done.h5")
	writeRun(t, done, nil, []hdf5io.Row{{Iteration: 0, F: 1}}, StatusCompleted)
	if s, err := SummarizeFile(done); err != nil || s.Writer != nil {
		t.Errorf("completed file: %v, writer %+v", err, s.Writer)
	}
}
