package collective

import (
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"
)

var testSecret = []byte("test-secret-7f3a9c")

// worldOpts tunes newWorld.
type worldOpts struct {
	timeout time.Duration
	logf    func(string, ...any)
}

// newTCPRanks creates (but does not Init) n TCP ranks on loopback.
func newTCPRanks(tb testing.TB, n int, o worldOpts) []*TCP {
	tb.Helper()
	ts := make([]*TCP, n)
	logf := o.logf
	if logf == nil {
		logf = tb.Logf
	}
	cfg := TCPConfig{Rank: 0, Size: n, Coordinator: "127.0.0.1:0", Secret: testSecret, Timeout: o.timeout, Logf: logf}
	var err error
	if ts[0], err = NewTCP(cfg); err != nil {
		tb.Fatal(err)
	}
	for r := 1; r < n; r++ {
		cfg.Rank = r
		cfg.Coordinator = ts[0].Addr()
		cfg.Host = fmt.Sprintf("host%d", r)
		if ts[r], err = NewTCP(cfg); err != nil {
			tb.Fatal(err)
		}
	}
	return ts
}

// freeAddrs returns n loopback addresses with ports that were free a moment ago.
func freeAddrs(tb testing.TB, n int) []string {
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

// newWorld returns n initialized ranks of the named transport.
func newWorld(tb testing.TB, transport string, n int, o worldOpts) []Comm {
	tb.Helper()
	var comms []Comm
	switch transport {
	case "inproc":
		var err error
		if comms, err = NewInprocWorld(n); err != nil {
			tb.Fatal(err)
		}
	case "tcp":
		for _, t := range newTCPRanks(tb, n, o) {
			comms = append(comms, t)
		}
	case "btracey":
		addrs := freeAddrs(tb, n)
		for r := range n {
			b, err := NewBtracey(addrs, r, testSecret, 10*time.Second)
			if err != nil {
				tb.Fatal(err)
			}
			comms = append(comms, b)
		}
	default:
		tb.Fatalf("unknown transport %q", transport)
	}
	if err := forEach(comms, func(c Comm) error { return c.Init() }); err != nil {
		tb.Fatal(err)
	}
	return comms
}

// forEach runs f for every rank in its own goroutine and returns the first
// error (by rank).
func forEach(comms []Comm, f func(c Comm) error) error {
	errs := runAll(comms, f)
	for r, err := range errs {
		if err != nil {
			return fmt.Errorf("rank %d: %w", r, err)
		}
	}
	return nil
}

// runAll runs f for every rank concurrently and returns each rank's error.
func runAll(comms []Comm, f func(c Comm) error) []error {
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

// finalizeAll finalizes every rank concurrently, as separate processes would.
func finalizeAll(comms []Comm) {
	forEach(comms, func(c Comm) error { c.Finalize(); return nil })
}

// waitGoroutines waits until the number of goroutines drops to at most base.
func waitGoroutines(tb testing.TB, base int) {
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
