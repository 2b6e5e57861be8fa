package launch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// conformanceExe is the test program, built once by TestMain.
var conformanceExe string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "efmpi-launch-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	conformanceExe = filepath.Join(dir, "conformance")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var buildOnce struct {
	sync.Once
	err error
}

// conformance builds ./internal/conformance (once per test binary) and
// returns the executable.
func conformance(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			gobin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		}
		cmd := exec.Command(gobin, "build", "-o", conformanceExe, "./internal/conformance")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build ./internal/conformance: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return conformanceExe
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var okLine = regexp.MustCompile(`^(?:\[rank (\d+)\] )?rank (\d+)/(\d+) ok bytes_sent=(\d+) bytes_recv=(\d+)$`)

// checkOK checks that out holds one "ok" line per rank of n with nonzero
// byte counts; prefixed says whether Spawn's "[rank r] " prefixes are
// expected (rank 0 has none).
func checkOK(t *testing.T, out string, n int, prefixed bool) {
	t.Helper()
	seen := make(map[int]bool)
	for _, line := range strings.Split(out, "\n") {
		m := okLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		r, _ := strconv.Atoi(m[2])
		if size, _ := strconv.Atoi(m[3]); size != n {
			t.Errorf("line %q: size %d, want %d", line, size, n)
		}
		if prefixed {
			want := ""
			if r > 0 {
				want = strconv.Itoa(r)
			}
			if m[1] != want {
				t.Errorf("line %q: prefix for rank %q, want %q", line, m[1], want)
			}
		}
		if m[4] == "0" || m[5] == "0" {
			t.Errorf("line %q: zero byte count", line)
		}
		if seen[r] {
			t.Errorf("rank %d reported twice", r)
		}
		seen[r] = true
	}
	if len(seen) != n {
		t.Errorf("%d of %d ranks reported ok; output:\n%s", len(seen), n, out)
	}
}

// cleanEnv is this process's environment without launcher variables, so
// that the test's own environment cannot confuse a launched rank.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "EFMPI_") || strings.HasPrefix(k, "OMPI_") || strings.HasPrefix(k, "PMI") || strings.HasPrefix(k, "SLURM_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

func noRendezvousLeft(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), RendezvousPrefix) {
			t.Errorf("rendezvous file %s left behind", e.Name())
		}
	}
}

func TestSpawnConformance(t *testing.T) {
	exe := conformance(t)
	var out syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := Spawn(ctx, 4, exe, []string{"-rounds", "5"}, SpawnOptions{Stdout: &out, Stderr: &out, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("Spawn: %v\noutput:\n%s", err, out.String())
	}
	checkOK(t, out.String(), 4, true)
}

func TestSpawnBtracey(t *testing.T) {
	exe := conformance(t)
	var out syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := Spawn(ctx, 4, exe, []string{"-transport", "btracey", "-rounds", "2"}, SpawnOptions{Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatalf("Spawn: %v\noutput:\n%s", err, out.String())
	}
	checkOK(t, out.String(), 4, true)
}

func TestSpawnCycles(t *testing.T) {
	if testing.Short() {
		t.Skip("20 process worlds in -short mode")
	}
	exe := conformance(t)
	for i := range 20 {
		var out syncBuffer
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := Spawn(ctx, 4, exe, []string{"-rounds", "1"}, SpawnOptions{Stdout: &out, Stderr: &out})
		cancel()
		if err != nil {
			t.Fatalf("cycle %d: %v\noutput:\n%s", i, err, out.String())
		}
		checkOK(t, out.String(), 4, true)
		if strings.Contains(out.String(), "panic") {
			t.Fatalf("cycle %d: panic in output:\n%s", i, out.String())
		}
	}
}

func TestSpawnRankFailsEarly(t *testing.T) {
	exe := conformance(t)
	var out syncBuffer
	// A bad flag: every rank exits 2 before joining, rank 0 first of all.
	err := Spawn(context.Background(), 3, exe, []string{"-rounds", "x"}, SpawnOptions{Stdout: &out, Stderr: &out})
	var re *RankExitError
	if !errors.As(err, &re) || re.Rank != 0 || re.ExitCode != 2 || err.Error() != "launch: spawn: rank 0 exited with status 2" {
		t.Fatalf("err = %v, want rank 0 exited with status 2", err)
	}
	if !strings.Contains(out.String(), "invalid value") {
		t.Errorf("rank 0's stderr not forwarded:\n%s", out.String())
	}
}

func TestSpawnNotJoining(t *testing.T) {
	for _, tc := range []struct {
		prog string
		args []string
		want string
	}{
		{"true", nil, "exited without reporting its address"},
		{"sleep", []string{"60"}, "no address reported within"},
	} {
		exe, err := exec.LookPath(tc.prog)
		if err != nil {
			t.Logf("%s not found", tc.prog)
			continue
		}
		start := time.Now()
		err = Spawn(context.Background(), 2, exe, tc.args, SpawnOptions{Timeout: 300 * time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", tc.prog, err, tc.want)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: took %v", tc.prog, d)
		}
	}
}

func TestSpawnContextCancel(t *testing.T) {
	exe := conformance(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	errc := make(chan error, 1)
	go func() {
		errc <- Spawn(ctx, 2, exe, nil, SpawnOptions{
			Stdout: &out, Stderr: &out, Grace: time.Second,
			Env: []string{"EFMPI_TEST_HANG_RANK=1"},
		})
	}()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(out.String(), "hanging") {
		select {
		case <-deadline:
			t.Fatalf("rank 1 never hung:\n%s", out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-errc:
		var se *SpawnError
		if !errors.Is(err, context.Canceled) || !errors.As(err, &se) {
			t.Errorf("Spawn: err = %v, want cancellation and the killed ranks", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Spawn did not return after cancellation")
	}
}

func TestLineWriter(t *testing.T) {
	var mu sync.Mutex
	var b bytes.Buffer
	w := &lineWriter{mu: &mu, w: &b, prefix: "[rank 3] "}
	w.Write([]byte("ab"))
	w.Write([]byte("c\nde\nf"))
	w.Write([]byte("g\n"))
	w.Write([]byte("tail"))
	w.Flush()
	want := "[rank 3] abc\n[rank 3] de\n[rank 3] fg\n[rank 3] tail\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// launcherBinary returns the path of a launcher, or skips the test when it
// is not installed.
func launcherBinary(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Skipf("launcher not installed (none of %v on PATH); CI installs openmpi-bin and mpich", names)
	return ""
}

func runLauncher(t *testing.T, name string, args []string, env []string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\noutput:\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestOpenMPI(t *testing.T) {
	mpirun := launcherBinary(t, "mpirun.openmpi", "orterun")
	exe := conformance(t)
	dir := t.TempDir()
	out := runLauncher(t, mpirun, []string{"-np", "4", "--oversubscribe", exe, "-dir", dir},
		cleanEnv("OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"))
	checkOK(t, out, 4, false)
	noRendezvousLeft(t, dir)
}

func TestMPICH(t *testing.T) {
	mpiexec := launcherBinary(t, "mpiexec.mpich", "mpiexec.hydra")
	exe := conformance(t)
	dir := t.TempDir()
	out := runLauncher(t, mpiexec, []string{"-n", "4", exe, "-dir", dir}, cleanEnv())
	checkOK(t, out, 4, false)
	noRendezvousLeft(t, dir)
}
