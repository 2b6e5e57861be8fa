// Package testworld builds worlds of every transport for the tests of
// collective and its transports.
package testworld

import (
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/btracey"
	"github.com/efmpi/efmpi/collective/inproc"
	"github.com/efmpi/efmpi/collective/tcp"
)

// Secret is the shared secret of the test worlds.
var Secret = []byte("test-secret-7f3a9c")

// Opts tunes New.
type Opts struct {
	Timeout time.Duration
	Logf    func(string, ...any)
}

// TCPRanks creates (but does not Init) n TCP ranks on loopback.
func TCPRanks(tb testing.TB, n int, o Opts) []*tcp.Comm {
	tb.Helper()
	ts := make([]*tcp.Comm, n)
	logf := o.Logf
	if logf == nil {
		logf = tb.Logf
	}
	cfg := tcp.Config{Rank: 0, Size: n, Coordinator: "127.0.0.1:0", Secret: Secret, Timeout: o.Timeout, Logf: logf}
	var err error
	if ts[0], err = tcp.New(cfg); err != nil {
		tb.Fatal(err)
	}
	for r := 1; r < n; r++ {
		cfg.Rank = r
		cfg.Coordinator = ts[0].Addr()
		cfg.Host = fmt.Sprintf("host%d", r)
		if ts[r], err = tcp.New(cfg); err != nil {
			tb.Fatal(err)
		}
	}
	return ts
}

// FreeAddrs returns n loopback addresses with ports that were free a moment ago.
func FreeAddrs(tb testing.TB, n int) []string {
	tb.Helper()
	addrs := make([]string, n)
	lns := make([]net.Listener, n)
	for i := range lns {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		lns[i] = ln
		addrs[i] = ln.Addr().String()
	}
	for _, ln := range lns {
		ln.Close()
	}
	return addrs
}

// New returns n initialized ranks of the named transport.
func New(tb testing.TB, transport string, n int, o Opts) []collective.Comm {
	tb.Helper()
	var comms []collective.Comm
	switch transport {
	case "inproc":
		var err error
		if comms, err = inproc.NewWorld(n); err != nil {
			tb.Fatal(err)
		}
	case "tcp":
		for _, t := range TCPRanks(tb, n, o) {
			comms = append(comms, t)
		}
	case "btracey":
		addrs := FreeAddrs(tb, n)
		for r := range n {
			b, err := btracey.New(addrs, r, Secret, 10*time.Second)
			if err != nil {
				tb.Fatal(err)
			}
			comms = append(comms, b)
		}
	default:
		tb.Fatalf("unknown transport %q", transport)
	}
	if err := ForEach(comms, func(c collective.Comm) error { return c.Init() }); err != nil {
		tb.Fatal(err)
	}
	return comms
}

// ForEach runs f for every rank in its own goroutine and returns the first
// error (by rank).
func ForEach(comms []collective.Comm, f func(c collective.Comm) error) error {
	errs := RunAll(comms, f)
	for r, err := range errs {
		if err != nil {
			return fmt.Errorf("rank %d: %w", r, err)
		}
	}
	return nil
}

// RunAll runs f for every rank concurrently and returns each rank's error.
func RunAll(comms []collective.Comm, f func(c collective.Comm) error) []error {
	errs := make([]error, len(comms))
	var wg sync.WaitGroup
	for r, c := range comms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[r] = f(c)
			if errs[r] != nil {
				// A failing rank ends, as its process would, so that the
				// others are not left waiting on a live but idle peer.
				c.Finalize()
			}
		}()
	}
	wg.Wait()
	return errs
}

// FinalizeAll finalizes every rank concurrently, as separate processes would.
func FinalizeAll(comms []collective.Comm) {
	ForEach(comms, func(c collective.Comm) error { c.Finalize(); return nil })
}

// WaitGoroutines waits until the number of goroutines drops to at most base.
func WaitGoroutines(tb testing.TB, base int) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			tb.Fatalf("goroutines: %d, baseline %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}
