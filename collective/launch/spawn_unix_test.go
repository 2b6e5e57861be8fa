//go:build unix

package launch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lineWatcher is an output sink that signals when a line matching a
// substring appears.
type lineWatcher struct {
	syncBuffer
	substr string
	once   sync.Once
	seen   chan string
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	n, err := w.syncBuffer.Write(p)
	if i := bytes.Index(p, []byte(w.substr)); i >= 0 {
		w.once.Do(func() { w.seen <- string(p) })
	}
	return n, err
}

// TestSpawnKillRank kills one rank with SIGKILL while the others wait for it
// inside a gather: every other rank must exit non-zero by itself within the
// timeout, naming the lost rank.
func TestSpawnKillRank(t *testing.T) { testSpawnLoseRank(t, syscall.SIGKILL) }

// TestSpawnStopRank stops one rank with SIGSTOP: its sockets stay open but
// it falls silent, and every other rank must give up on it within the
// timeout. Spawn then kills the stopped rank after the grace period.
func TestSpawnStopRank(t *testing.T) { testSpawnLoseRank(t, syscall.SIGSTOP) }

func testSpawnLoseRank(t *testing.T, sig syscall.Signal) {
	exe := conformance(t)
	const n, victim, timeout = 4, 2, 3 * time.Second
	w := &lineWatcher{substr: fmt.Sprintf("rank %d hanging pid=", victim), seen: make(chan string, 1)}
	var mu sync.Mutex
	pids := make(map[int]int)
	states := make(map[int]*os.ProcessState)
	exitAt := make(map[int]time.Time)
	opts := SpawnOptions{
		Stdout: w, Stderr: w,
		Env:   []string{"EFMPI_TEST_HANG_RANK=" + strconv.Itoa(victim), "EFMPI_TIMEOUT=" + timeout.String()},
		Grace: 8 * time.Second, // longer than the timeout: the survivors must exit on their own
		Started: func(rank, pid int) {
			mu.Lock()
			pids[rank] = pid
			mu.Unlock()
		},
		Exited: func(rank int, s *os.ProcessState) {
			mu.Lock()
			states[rank], exitAt[rank] = s, time.Now()
			mu.Unlock()
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- Spawn(ctx, n, exe, []string{"-rounds", "3"}, opts) }()

	var killedAt time.Time
	select {
	case <-w.seen:
		time.Sleep(300 * time.Millisecond) // let the others block on the victim
		mu.Lock()
		pid := pids[victim]
		mu.Unlock()
		killedAt = time.Now()
		if err := syscall.Kill(pid, sig); err != nil {
			t.Fatalf("kill -%v rank %d (pid %d): %v", sig, victim, pid, err)
		}
	case err := <-errc:
		t.Fatalf("Spawn returned before rank %d hung: %v\noutput:\n%s", victim, err, w.String())
	case <-time.After(time.Minute):
		t.Fatalf("rank %d never hung; output:\n%s", victim, w.String())
	}
	err := <-errc
	out := w.String()
	t.Logf("Spawn: %v; output:\n%s", err, out)
	var re *RankExitError
	if sig == syscall.SIGKILL {
		// The victim is reported first, as the likeliest cause.
		if !errors.As(err, &re) || re.Rank != victim || re.ExitCode != -1 || re.Killed || !strings.Contains(err.Error(), "killed by signal killed") {
			t.Errorf("Spawn: err = %v, want rank %d killed first", err, victim)
		}
	} else if !errors.As(err, &re) || re.Rank == victim {
		// The survivors exited first; Spawn killed the stopped victim.
		t.Errorf("Spawn: err = %v, want a survivor first", err)
	}
	var se *SpawnError
	if !errors.As(err, &se) || len(se.Failed) != n {
		t.Errorf("Spawn: err = %v, want all %d ranks failed", err, n)
	}
	mu.Lock()
	defer mu.Unlock()
	for r := range n {
		if r == victim {
			continue
		}
		s := states[r]
		if s == nil {
			t.Errorf("rank %d: no exit state", r)
			continue
		}
		if ws, ok := s.Sys().(syscall.WaitStatus); !ok || !ws.Exited() || ws.ExitStatus() == 0 {
			t.Errorf("rank %d: %v, want a non-zero exit of its own", r, s)
		}
		if d := exitAt[r].Sub(killedAt); d > timeout+5*time.Second {
			t.Errorf("rank %d exited %v after the kill, want within the %v timeout", r, d, timeout)
		}
		// Its error line names the lost rank.
		prefix := ""
		if r > 0 {
			prefix = fmt.Sprintf("[rank %d] ", r)
		}
		lost := fmt.Sprintf("rank %d (host ", victim)
		found := false
		for _, line := range strings.Split(out, "\n") {
			rest, ok := strings.CutPrefix(line, prefix)
			if ok && (r > 0 || !strings.HasPrefix(line, "[rank ")) && strings.Contains(rest, lost) && strings.Contains(rest, "lost") {
				found = true
			}
		}
		if !found {
			t.Errorf("rank %d: no error naming %q in the output:\n%s", r, lost, out)
		}
	}
}
