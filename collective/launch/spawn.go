package launch

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SpawnOptions configures Spawn. The zero value is usable.
type SpawnOptions struct {
	// Stdout and Stderr receive the children's output, line by line: rank 0
	// unprefixed, rank r prefixed "[rank r] ". Default os.Stdout, os.Stderr.
	Stdout, Stderr io.Writer
	// Env holds extra KEY=VALUE entries for every child, after this
	// process's environment.
	Env []string
	// Dir is the children's working directory (default: this process's).
	Dir string
	// Grace is how long the other ranks may take to exit on their own after
	// one fails or the context ends, before they are killed. Default 10 s.
	Grace time.Duration
	// Timeout bounds the wait for rank 0 to report its address. Default 30 s.
	Timeout time.Duration
	// Started, if set, is called with each child's pid once it runs.
	Started func(rank, pid int)
	// Exited, if set, is called with each child's state when it ends.
	Exited func(rank int, state *os.ProcessState)
}

// RankExitError reports a rank that failed under Spawn.
type RankExitError struct {
	Rank     int
	ExitCode int   // the exit status, or -1 if the rank was killed by a signal or did not start
	Killed   bool  // Spawn killed it (after the grace period, or when the context ended)
	Err      error // the underlying *exec.ExitError or start error
}

func (e *RankExitError) Error() string {
	var ee *exec.ExitError
	if !errors.As(e.Err, &ee) {
		return fmt.Sprintf("rank %d: %v", e.Rank, e.Err)
	}
	if e.ExitCode == -1 {
		by := ""
		if e.Killed {
			by = " (by spawn)"
		}
		return fmt.Sprintf("rank %d killed by signal %s%s", e.Rank, strings.TrimPrefix(ee.ProcessState.String(), "signal: "), by)
	}
	return fmt.Sprintf("rank %d exited with status %d", e.Rank, e.ExitCode)
}

func (e *RankExitError) Unwrap() error { return e.Err }

// signaled reports whether the rank died of a signal Spawn did not send.
func (e *RankExitError) signaled() bool {
	var ee *exec.ExitError
	return errors.As(e.Err, &ee) && e.ExitCode == -1 && !e.Killed
}

// SpawnError lists the ranks that failed under Spawn, the likeliest cause
// first: a rank killed by a signal from outside, then ranks that exited
// non-zero in the order they ended (usually because they lost a peer), then
// ranks Spawn killed. errors.As with a *RankExitError finds the first.
type SpawnError struct {
	Failed []*RankExitError
}

func (e *SpawnError) Error() string {
	var b strings.Builder
	b.WriteString("launch: spawn: ")
	for i, f := range e.Failed {
		switch i {
		case 0:
		case 1:
			b.WriteString("; then ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(f.Error())
	}
	return b.String()
}

// Unwrap returns the failures, first the likeliest cause.
func (e *SpawnError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f
	}
	return errs
}

// spawnAddrFD is the descriptor number of the address pipe in rank 0: the
// first of exec.Cmd.ExtraFiles.
const spawnAddrFD = 3

// Spawn runs n processes of exe with args as the ranks of one TCP world on
// loopback, for users without an MPI launcher, and waits for all of them.
//
// It generates a secret and starts rank 0 with EFMPI_RANK=0, EFMPI_SIZE=n,
// EFMPI_SECRET and EFMPI_ADDR_FD, a pipe on which Join in rank 0 reports the
// loopback address it bound (port 0, so no port can be taken in between);
// then it starts ranks 1..n-1 with EFMPI_COORDINATOR set to that address.
// If a rank exits non-zero (or is killed), the others get opts.Grace to exit
// on their own and are then killed; the error is then a *SpawnError listing
// the failed ranks, the likeliest cause first. When ctx ends, every child
// gets SIGTERM, then SIGKILL after the grace period, and the error wraps
// ctx.Err(). Spawn needs a Unix system (rank 0's pipe is an inherited
// descriptor).
func Spawn(ctx context.Context, n int, exe string, args []string, opts SpawnOptions) error {
	if n < 1 {
		return fmt.Errorf("launch: spawn: %d ranks", n)
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Grace <= 0 {
		opts.Grace = 10 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	secret, err := newSecret()
	if err != nil {
		return err
	}
	base := childEnv(os.Environ(), opts.Env, n, encodeSecret(secret))

	s := &spawner{opts: opts, exits: make(chan rankExit, n), cmds: make([]*exec.Cmd, n), killed: make([]bool, n)}
	defer s.flush()

	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("launch: spawn: %w", err)
	}
	env0 := append(base[:len(base):len(base)], "EFMPI_RANK=0", "EFMPI_ADDR_FD="+strconv.Itoa(spawnAddrFD))
	err = s.start(0, exe, args, env0, []*os.File{pw})
	pw.Close() // rank 0 holds the only write end now
	if err != nil {
		pr.Close()
		return err
	}
	addr, err := readAddr(ctx, pr, opts.Timeout)
	pr.Close()
	if err != nil {
		if errors.Is(err, io.EOF) {
			// Rank 0 closed the pipe, normally by exiting: its status says more.
			if err := s.waitAll(ctx, 1); err != nil {
				return err
			}
			return fmt.Errorf("launch: spawn: rank 0 (%s) exited without reporting its address (does it call launch.Join?)", exe)
		}
		s.killAll(syscall.SIGKILL)
		s.waitAll(ctx, 1)
		return fmt.Errorf("launch: spawn: rank 0 (%s): %w", exe, err)
	}
	for r := 1; r < n; r++ {
		envR := append(base[:len(base):len(base)], "EFMPI_RANK="+strconv.Itoa(r), "EFMPI_COORDINATOR="+addr)
		if err := s.start(r, exe, args, envR, nil); err != nil {
			s.killAll(syscall.SIGKILL)
			s.waitAll(ctx, r)
			return err
		}
	}
	err = s.waitAll(ctx, n)
	if ctx.Err() != nil {
		if err != nil {
			return fmt.Errorf("launch: spawn: %w: %w", ctx.Err(), err)
		}
		return fmt.Errorf("launch: spawn: %w", ctx.Err())
	}
	return err
}

// childEnv is this process's environment without our own variables, plus
// extra, plus the world size and the secret.
func childEnv(environ, extra []string, n int, secretHex string) []string {
	ours := []string{"EFMPI_RANK=", "EFMPI_SIZE=", "EFMPI_COORDINATOR=", "EFMPI_SECRET=", "EFMPI_SECRET_FILE=", "EFMPI_ADDR_FD="}
	env := make([]string, 0, len(environ)+len(extra)+4)
outer:
	for _, kv := range environ {
		for _, p := range ours {
			if strings.HasPrefix(kv, p) {
				continue outer
			}
		}
		env = append(env, kv)
	}
	env = append(env, extra...)
	return append(env, "EFMPI_SIZE="+strconv.Itoa(n), "EFMPI_SECRET="+secretHex)
}

// readAddr reads rank 0's "host:port\n" from the pipe.
func readAddr(ctx context.Context, pr *os.File, timeout time.Duration) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	if err := pr.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	go func() {
		line, err := bufio.NewReader(io.LimitReader(pr, 512)).ReadString('\n')
		ch <- result{line, err}
	}()
	var res result
	select {
	case res = <-ch:
	case <-ctx.Done():
		pr.SetReadDeadline(time.Now()) // unblock the reader
		<-ch
		return "", ctx.Err()
	}
	if errors.Is(res.err, os.ErrDeadlineExceeded) {
		return "", fmt.Errorf("no address reported within %v (does it call launch.Join?)", timeout)
	}
	if res.err != nil {
		return "", fmt.Errorf("no address reported: %w", res.err)
	}
	addr := strings.TrimSpace(res.line)
	host, _, err := splitFixedPort(addr)
	if err != nil || !isLoopback(host) {
		return "", fmt.Errorf("reported address %q is not a loopback host:port", addr)
	}
	return addr, nil
}

type rankExit struct {
	rank  int
	state *os.ProcessState
	err   error
}

// spawner holds the children of one Spawn call.
type spawner struct {
	opts    SpawnOptions
	mu      sync.Mutex  // serialises output lines and cmds
	cmds    []*exec.Cmd // running children by rank
	killed  []bool      // children Spawn signalled
	writers []*lineWriter
	exits   chan rankExit
}

func (s *spawner) start(rank int, exe string, args, env []string, extra []*os.File) error {
	prefix := ""
	if rank > 0 {
		prefix = fmt.Sprintf("[rank %d] ", rank)
	}
	out := &lineWriter{mu: &s.mu, w: s.opts.Stdout, prefix: prefix}
	errw := &lineWriter{mu: &s.mu, w: s.opts.Stderr, prefix: prefix}
	cmd := exec.Command(exe, args...)
	cmd.Env, cmd.Dir = env, s.opts.Dir
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = out, errw
	cmd.ExtraFiles = extra
	cmd.WaitDelay = 2 * time.Second // do not hang on grandchildren holding the output pipes
	superviseChild(cmd)
	if err := cmd.Start(); err != nil {
		return &SpawnError{Failed: []*RankExitError{{Rank: rank, ExitCode: -1, Err: fmt.Errorf("starting %s: %w", exe, err)}}}
	}
	s.mu.Lock()
	s.cmds[rank] = cmd
	s.writers = append(s.writers, out, errw)
	s.mu.Unlock()
	if s.opts.Started != nil {
		s.opts.Started(rank, cmd.Process.Pid)
	}
	go func() {
		err := cmd.Wait()
		s.exits <- rankExit{rank: rank, state: cmd.ProcessState, err: err}
	}()
	return nil
}

// waitAll collects count exits. After the first failure, or when ctx ends,
// the others get the grace period and are then killed. It returns a
// *SpawnError if any rank failed, else nil.
func (s *spawner) waitAll(ctx context.Context, count int) error {
	var failed []*RankExitError
	var grace <-chan time.Time
	done := ctx.Done()
	for count > 0 {
		select {
		case e := <-s.exits:
			count--
			s.mu.Lock()
			s.cmds[e.rank] = nil
			killed := s.killed[e.rank]
			s.mu.Unlock()
			if e.state != nil && s.opts.Exited != nil {
				s.opts.Exited(e.rank, e.state)
			}
			if e.err == nil {
				continue
			}
			code := -1
			if e.state != nil {
				code = e.state.ExitCode()
			}
			failed = append(failed, &RankExitError{Rank: e.rank, ExitCode: code, Killed: killed, Err: e.err})
			if grace == nil {
				grace = time.After(s.opts.Grace)
			}
		case <-done:
			done = nil
			s.killAll(syscall.SIGTERM)
			if grace == nil {
				grace = time.After(s.opts.Grace)
			}
		case <-grace:
			s.killAll(syscall.SIGKILL)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	class := func(f *RankExitError) int {
		switch {
		case f.signaled():
			return 0
		case !f.Killed:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(failed, func(a, b *RankExitError) int { return class(a) - class(b) })
	return &SpawnError{Failed: failed}
}

// killAll sends sig to every child still running.
func (s *spawner) killAll(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for r, c := range s.cmds {
		if c != nil && c.Process != nil {
			s.killed[r] = true
			if c.Process.Signal(sig) != nil {
				c.Process.Kill() // where sig is not supported
			}
		}
	}
}

// flush writes out any unterminated last lines.
func (s *spawner) flush() {
	for _, w := range s.writers {
		w.Flush()
	}
}

// lineWriter forwards whole lines to w with a prefix, holding mu for each
// line so that lines of different ranks do not interleave.
type lineWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	start := 0
	for {
		i := bytes.IndexByte(l.buf[start:], '\n')
		if i < 0 {
			break
		}
		l.emit(l.buf[start : start+i+1]) // errors ignored: a child must not fail because our output did
		start += i + 1
	}
	l.buf = l.buf[:copy(l.buf, l.buf[start:])]
	if len(l.buf) > 64<<10 { // a very long line: pass it on in pieces
		l.emit(append(l.buf, '\n'))
		l.buf = l.buf[:0]
	}
	return len(p), nil
}

func (l *lineWriter) emit(line []byte) {
	l.w.Write(append([]byte(l.prefix), line...))
}

// Flush writes a pending partial line, ending it with a newline.
func (l *lineWriter) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.emit(append(l.buf, '\n'))
		l.buf = nil
	}
}
