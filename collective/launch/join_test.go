package launch

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/efmpi/efmpi/collective"
)

// joinWorld runs Join for n goroutine ranks whose environments envFor gives,
// checks a message from every rank reaches rank 0 and an answer comes back,
// and finalizes them. It returns each rank's Join error.
func joinWorld(t *testing.T, n int, dir string, envFor func(r int) []string) []error {
	t.Helper()
	comms := make([]collective.Comm, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for r := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			comms[r], _, errs[r] = Join(context.Background(), Options{
				SharedDir: dir,
				Timeout:   5 * time.Second,
				Getenv:    envOf(envFor(r)...),
				Logf:      t.Logf,
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			for _, c := range comms {
				if c != nil {
					c.Finalize()
				}
			}
			return errs
		}
	}
	for r, c := range comms {
		if c.Rank() != r || c.Size() != n || c.Transport() != "tcp" {
			t.Errorf("rank %d: Comm says rank %d of %d over %s", r, c.Rank(), c.Size(), c.Transport())
		}
	}
	// Every rank sends r+0.5 to rank 0, which answers with twice the value.
	msgErrs := make([]error, n)
	for r := 1; r < n; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := comms[r]
			if err := c.Send([]float64{float64(r) + 0.5}, 0, 7); err != nil {
				msgErrs[r] = err
				return
			}
			got := make([]float64, 1)
			if err := c.Receive(got, 0, 8); err != nil {
				msgErrs[r] = err
				return
			}
			if got[0] != 2*(float64(r)+0.5) {
				msgErrs[r] = fmt.Errorf("rank %d got %v back", r, got[0])
			}
		}()
	}
	for src := 1; src < n; src++ {
		got := make([]float64, 1)
		if err := comms[0].Receive(got, src, 7); err != nil {
			msgErrs[0] = err
			break
		}
		if got[0] != float64(src)+0.5 {
			msgErrs[0] = fmt.Errorf("rank 0 got %v from rank %d", got[0], src)
			break
		}
		if err := comms[0].Send([]float64{2 * got[0]}, src, 8); err != nil {
			msgErrs[0] = err
			break
		}
	}
	wg.Wait()
	for r, err := range msgErrs {
		if err != nil {
			t.Errorf("rank %d: %v", r, err)
		}
	}
	for _, c := range comms {
		wg.Add(1)
		go func() { defer wg.Done(); c.Finalize() }()
	}
	wg.Wait()
	return errs
}

func mustJoin(t *testing.T, errs []error) {
	t.Helper()
	for r, err := range errs {
		if err != nil {
			t.Errorf("rank %d: Join: %v", r, err)
		}
	}
}

// freePort returns a loopback port that was free a moment ago (good enough
// for a test of the fixed-port methods).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func ompiRank(r, n, local int, ns string) []string {
	return []string{
		"OMPI_COMM_WORLD_RANK=" + strconv.Itoa(r), "OMPI_COMM_WORLD_SIZE=" + strconv.Itoa(n),
		"OMPI_COMM_WORLD_LOCAL_SIZE=" + strconv.Itoa(local), "PMIX_RANK=" + strconv.Itoa(r), "PMIX_NAMESPACE=" + ns,
	}
}

func TestJoinRendezvousFile(t *testing.T) {
	dir := t.TempDir()
	mustJoin(t, joinWorld(t, 4, dir, func(r int) []string { return ompiRank(r, 4, 4, "ns1") }))
	noRendezvousLeft(t, dir)
}

func TestJoinRendezvousFileManyHosts(t *testing.T) {
	// The launcher does not say every rank is local: rank 0 binds every
	// interface and publishes EFMPI_HOST (here a loopback address).
	dir := t.TempDir()
	mustJoin(t, joinWorld(t, 3, dir, func(r int) []string {
		return append(ompiRank(r, 3, 1, "ns2"), "EFMPI_HOST=127.0.0.1")
	}))
	noRendezvousLeft(t, dir)
}

func TestJoinIgnoresStaleFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, RendezvousPrefix+"ns3")
	// An earlier job with the same key left a file pointing at a dead port.
	if err := writeRendezvous(path, rendezvous{Job: "ns3", Addr: "127.0.0.1:1", Secret: encodeSecret(make([]byte, 32))}); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-24 * time.Hour)
	os.Chtimes(path, old, old)
	mustJoin(t, joinWorld(t, 3, dir, func(r int) []string { return ompiRank(r, 3, 3, "ns3") }))
}

func TestJoinExplicitSecretFile(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte(encodeSecret(make([]byte, 32))), 0o600); err != nil {
		t.Fatal(err)
	}
	coord := "127.0.0.1:" + strconv.Itoa(freePort(t))
	mustJoin(t, joinWorld(t, 3, "", func(r int) []string {
		return []string{"EFMPI_RANK=" + strconv.Itoa(r), "EFMPI_SIZE=3", "EFMPI_COORDINATOR=" + coord, "EFMPI_SECRET_FILE=" + secretFile}
	}))
}

func TestJoinExplicitSecretPublished(t *testing.T) {
	// An explicit coordinator under mpirun with no secret in the
	// environment: rank 0 writes one into the rendezvous file.
	dir := t.TempDir()
	coord := "127.0.0.1:" + strconv.Itoa(freePort(t))
	mustJoin(t, joinWorld(t, 3, dir, func(r int) []string {
		return append(ompiRank(r, 3, 3, "ns4"), "EFMPI_COORDINATOR="+coord)
	}))
	noRendezvousLeft(t, dir)
}

func TestJoinSlurm(t *testing.T) {
	dir := t.TempDir()
	port := strconv.Itoa(freePort(t))
	mustJoin(t, joinWorld(t, 4, dir, func(r int) []string {
		return []string{"SLURM_PROCID=" + strconv.Itoa(r), "SLURM_STEP_NUM_TASKS=4", "SLURM_STEP_ID=0",
			"SLURM_JOB_ID=99", "SLURM_STEP_NUM_NODES=1", "SLURM_STEP_NODELIST=localhost", "EFMPI_PORT=" + port}
	}))
	noRendezvousLeft(t, dir)
}

func TestJoinSolo(t *testing.T) {
	c, env, err := Join(context.Background(), Options{Getenv: envOf("EFMPI_RANK=0", "EFMPI_SIZE=1")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Finalize()
	if env.Launcher != LauncherSpawned || c.Rank() != 0 || c.Size() != 1 {
		t.Errorf("env %+v, comm rank %d of %d", env, c.Rank(), c.Size())
	}
}

func TestJoinErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"no launcher", Options{Getenv: envOf()}, "not started by a launcher"},
		{"inproc", Options{Transport: "inproc", Getenv: envOf(ompiRank(1, 2, 2, "x")...), SharedDir: "."}, "transport inproc"},
		{"unknown transport", Options{Transport: "udp", Getenv: envOf(ompiRank(1, 2, 2, "x")...), SharedDir: "."}, `unknown transport "udp"`},
		{"no secret anywhere", Options{Getenv: envOf("EFMPI_RANK=1", "EFMPI_SIZE=2", "EFMPI_COORDINATOR=127.0.0.1:9")}, "EFMPI_SECRET"},
		{"bad timeout", Options{Getenv: envOf(append(ompiRank(1, 2, 2, "x"), "EFMPI_TIMEOUT=soon")...)}, "EFMPI_TIMEOUT"},
		{"file never written", Options{Getenv: envOf(ompiRank(1, 2, 2, "never")...), SharedDir: os.TempDir(), Timeout: 200 * time.Millisecond},
			RendezvousPrefix + "never"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := Join(context.Background(), tc.opts)
			if c != nil {
				c.Finalize()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestEnvTimeout(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{{"", DefaultTimeout}, {"3s", 3 * time.Second}, {"1.5", 1500 * time.Millisecond}, {"2m", 2 * time.Minute}} {
		got, err := envTimeout(envOf("EFMPI_TIMEOUT=" + tc.v))
		if err != nil || got != tc.want {
			t.Errorf("EFMPI_TIMEOUT=%q: %v, %v; want %v", tc.v, got, err, tc.want)
		}
	}
	for _, v := range []string{"-1s", "0", "x"} {
		if _, err := envTimeout(envOf("EFMPI_TIMEOUT=" + v)); err == nil {
			t.Errorf("EFMPI_TIMEOUT=%q accepted", v)
		}
	}
}
