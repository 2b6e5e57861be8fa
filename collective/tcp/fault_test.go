package tcp_test

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/internal/testworld"
	"github.com/efmpi/efmpi/collective/tcp"
	"github.com/efmpi/efmpi/collective/wire"
	"github.com/efmpi/efmpi/sparse"
)

// tagGatherSparse is the tag of collective's gather.
const tagGatherSparse = collective.TagBase + 1

// logBuffer collects Logf output.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuffer) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logBuffer) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func tcpComms(ts []*tcp.Comm) []collective.Comm {
	cs := make([]collective.Comm, len(ts))
	for i, t := range ts {
		cs[i] = t
	}
	return cs
}

// gatherBcast runs one gather and one sparse broadcast on c.
func gatherBcast(c collective.Comm) error {
	msg := sparse.NewVector(c.Size(), 1)
	msg.Append(int32(c.Rank()), float64(c.Rank()))
	out := make([]sparse.Vector, c.Size())
	if err := collective.GatherSparse(c, msg, out); err != nil {
		return err
	}
	return collective.BroadcastSparse(c, msg)
}

func TestTCPRefusesBadPeersAndCarriesOn(t *testing.T) {
	var logs logBuffer
	ts := testworld.TCPRanks(t, 3, testworld.Opts{Timeout: 5 * time.Second, Logf: logs.logf})
	root := make(chan error, 1)
	go func() { root <- ts[0].Init() }()

	try := func(rank int, secret []byte) error {
		bad, err := tcp.New(tcp.Config{Rank: rank, Size: 3, Coordinator: ts[0].Addr(), Secret: secret, Timeout: 5 * time.Second, Host: "intruder"})
		if err != nil {
			t.Fatal(err)
		}
		defer bad.Finalize()
		return bad.Init()
	}
	// Wrong secret, claiming a real rank.
	if err := try(1, []byte("not-the-secret")); err == nil || !strings.Contains(err.Error(), "authentication failed") {
		t.Fatalf("wrong secret: Init error = %v, want authentication failure", err)
	}
	// A client that speaks no efmpi at all.
	conn, err := net.Dial("tcp", ts[0].Addr())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET / HTTP/1.0\r\n\r\n")
	conn.Close()
	// The right peers join; a second rank 1 with the right secret is a duplicate.
	inits := testworld.RunAll(tcpComms(ts[1:]), func(c collective.Comm) error { return c.Init() })
	for _, err := range inits {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := <-root; err != nil {
		t.Fatal(err)
	}
	comms := tcpComms(ts)
	defer testworld.FinalizeAll(comms)
	if err := testworld.ForEach(comms, gatherBcast); err != nil {
		t.Fatal(err)
	}
	text := logs.text()
	if got := strings.Count(text, "refused a connection"); got < 2 {
		t.Errorf("%d refusals logged, want at least 2:\n%s", got, text)
	}
	if !strings.Contains(text, `claims rank 1, host "intruder"`) || !strings.Contains(text, "authentication failed") {
		t.Errorf("refusal log lacks the claimed rank or reason:\n%s", text)
	}
	for _, s := range []string{string(testworld.Secret), hex.EncodeToString(testworld.Secret)} {
		if strings.Contains(text, s) {
			t.Errorf("log reveals the secret:\n%s", text)
		}
	}
}

func TestTCPRefusesDuplicateAndOutOfRange(t *testing.T) {
	var logs logBuffer
	ts := testworld.TCPRanks(t, 3, testworld.Opts{Timeout: 5 * time.Second, Logf: logs.logf})
	root := make(chan error, 1)
	go func() { root <- ts[0].Init() }()
	if err := ts[1].Init(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		rank, size int
		want       string
	}{
		{1, 3, "duplicate rank 1"},
		{5, 3, "rank 5 out of range"},
		{2, 4, "world size mismatch"},
	} {
		bad, err := tcp.New(tcp.Config{Rank: 1, Size: 3, Coordinator: ts[0].Addr(), Secret: testworld.Secret, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		tcp.SetWorld(bad, c.rank, c.size) // what tcp.New would not allow
		if c.size == 4 {
			// the joining rank notices the mismatch in rank 0's challenge
			c.want = "runs a world of 3 ranks"
		}
		if err := bad.Init(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("rank %d of %d: Init = %v, want %q", c.rank, c.size, err, c.want)
		}
	}
	if err := ts[2].Init(); err != nil {
		t.Fatal(err)
	}
	if err := <-root; err != nil {
		t.Fatal(err)
	}
	comms := tcpComms(ts)
	defer testworld.FinalizeAll(comms)
	if err := testworld.ForEach(comms, gatherBcast); err != nil {
		t.Fatal(err)
	}
	text := logs.text()
	for _, want := range []string{"duplicate rank 1", "rank 5 out of range"} {
		if !strings.Contains(text, want) {
			t.Errorf("log lacks %q:\n%s", want, text)
		}
	}
	// Joining is over: a late peer finds no listener and gives up.
	late, _ := tcp.New(tcp.Config{Rank: 1, Size: 3, Coordinator: ts[0].Addr(), Secret: testworld.Secret, Timeout: 300 * time.Millisecond})
	if err := late.Init(); err == nil {
		t.Fatal("late rank joined a running world")
	}
}

func TestTCPPeerClosesAbruptly(t *testing.T) {
	for _, how := range []string{"close", "mid-frame", "garbage"} {
		t.Run(how, func(t *testing.T) {
			const timeout = 2 * time.Second
			comms := testworld.New(t, "tcp", 3, testworld.Opts{Timeout: timeout})
			defer testworld.FinalizeAll(comms)
			ts := []*tcp.Comm{comms[0].(*tcp.Comm), comms[1].(*tcp.Comm), comms[2].(*tcp.Comm)}
			start := time.Now()
			errs := testworld.RunAll(comms, func(c collective.Comm) error {
				if c.Rank() == 2 {
					conn := tcp.PeerConn(ts[2], 0)
					switch how {
					case "mid-frame":
						var h [wire.HeaderSize]byte
						wire.PutHeader(h[:], wire.KindSparse, tagGatherSparse, 100)
						conn.Write(append(h[:], 1, 2, 3))
					case "garbage":
						conn.Write([]byte("this is not a frame at all"))
						time.Sleep(50 * time.Millisecond)
					}
					conn.Close()
					return nil
				}
				return gatherBcast(c)
			})
			elapsed := time.Since(start)
			for r := range 2 {
				var lost *collective.RankLostError
				if !errors.As(errs[r], &lost) || lost.Rank != 2 || lost.Host != "host2" {
					t.Errorf("rank %d: error %v, want rank 2 (host host2) lost", r, errs[r])
				}
				if !strings.Contains(errs[r].Error(), "rank 2 (host host2) lost: ") {
					t.Errorf("rank %d: message %q", r, errs[r])
				}
			}
			if elapsed > timeout {
				t.Errorf("loss detected after %v, timeout %v", elapsed, timeout)
			}
			t.Logf("rank 0: %v\nrank 1: %v (after %v)", errs[0], errs[1], elapsed)
			want := map[string]string{"close": "without goodbye", "mid-frame": "middle of a frame", "garbage": "bad frame"}[how]
			if !strings.Contains(errs[0].Error(), want) {
				t.Errorf("rank 0 cause %q, want it to mention %q", errs[0], want)
			}
		})
	}
}

func TestTCPSilentPeerIsLost(t *testing.T) {
	const timeout = 2 * time.Second
	ts := testworld.TCPRanks(t, 3, testworld.Opts{Timeout: timeout})
	tcp.SetSilent(ts[2]) // hung process: connected, but sends nothing, not even heartbeats
	comms := tcpComms(ts)
	if err := testworld.ForEach(comms, func(c collective.Comm) error { return c.Init() }); err != nil {
		t.Fatal(err)
	}
	defer testworld.FinalizeAll(comms)
	start := time.Now()
	errs := testworld.RunAll(comms[:2], gatherBcast)
	elapsed := time.Since(start)
	for r, err := range errs {
		var lost *collective.RankLostError
		if !errors.As(err, &lost) || lost.Rank != 2 {
			t.Errorf("rank %d: %v, want rank 2 lost", r, err)
		}
	}
	if !strings.Contains(errs[0].Error(), "silent for more than 2s") {
		t.Errorf("rank 0 cause: %v", errs[0])
	}
	if elapsed < timeout || elapsed > timeout+time.Second {
		t.Errorf("silent peer reported after %v, want about %v", elapsed, timeout)
	}
}

func TestTCPBusyPeerIsNotLost(t *testing.T) {
	// Heartbeats keep a rank that computes for longer than the timeout alive.
	const timeout = 600 * time.Millisecond
	comms := testworld.New(t, "tcp", 3, testworld.Opts{Timeout: timeout})
	defer testworld.FinalizeAll(comms)
	err := testworld.ForEach(comms, func(c collective.Comm) error {
		if c.Rank() == 2 {
			time.Sleep(3 * timeout)
		}
		return gatherBcast(c)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPeerFinalizesEarly(t *testing.T) {
	for _, tr := range []string{"inproc", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			comms := testworld.New(t, tr, 3, testworld.Opts{Timeout: 2 * time.Second})
			defer testworld.FinalizeAll(comms)
			errs := testworld.RunAll(comms, func(c collective.Comm) error {
				if c.Rank() == 2 {
					c.Finalize()
					return nil
				}
				return gatherBcast(c)
			})
			for r := range 2 {
				var lost *collective.RankLostError
				if !errors.As(errs[r], &lost) || lost.Rank != 2 || !errors.Is(errs[r], collective.ErrPeerLeft) && r == 0 {
					t.Errorf("rank %d: %v, want rank 2 lost (left)", r, errs[r])
				}
			}
			if err := comms[2].Send([]float64{1}, 0, 1); !errors.Is(err, collective.ErrFinalized) {
				t.Errorf("send after Finalize: %v", err)
			}
		})
	}
}

func TestTCPInitErrors(t *testing.T) {
	if _, err := tcp.New(tcp.Config{Rank: 0, Size: 2, Coordinator: "127.0.0.1:0"}); err == nil {
		t.Error("tcp.New without a secret succeeded")
	}
	if _, err := tcp.New(tcp.Config{Rank: 2, Size: 2, Coordinator: "127.0.0.1:0", Secret: testworld.Secret}); err == nil {
		t.Error("tcp.New with rank out of range succeeded")
	}
	// Rank 0 names the ranks that never came.
	ts := testworld.TCPRanks(t, 3, testworld.Opts{Timeout: 300 * time.Millisecond})
	go ts[1].Init()
	err := ts[0].Init()
	if err == nil || !strings.Contains(err.Error(), "ranks [2] did not join") {
		t.Errorf("rank 0 Init = %v, want rank 2 missing", err)
	}
	ts[1].Finalize()
	// A rank with no coordinator gives up after the timeout.
	lone, _ := tcp.New(tcp.Config{Rank: 1, Size: 2, Coordinator: ts[0].Addr(), Secret: testworld.Secret, Timeout: 200 * time.Millisecond})
	start := time.Now()
	if err := lone.Init(); err == nil || time.Since(start) > time.Second {
		t.Errorf("Init without coordinator = %v after %v", err, time.Since(start))
	}
	if err := lone.Send([]float64{1}, 0, 0); !errors.Is(err, collective.ErrFinalized) {
		t.Errorf("send after failed Init: %v", err)
	}
}

func TestTCPImpostorCoordinator(t *testing.T) {
	// A listener that answers the challenge without knowing the secret.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		tcp.WriteControl(conn, wire.KindHello, wire.AppendHello(nil, make([]byte, wire.NonceSize), 2))
		if _, _, err := tcp.ReadControl(bufio.NewReader(conn), wire.KindJoin); err != nil {
			return
		}
		tcp.WriteControl(conn, wire.KindWelcome, wire.AppendWelcome(nil, make([]byte, wire.MACSize), "evil"))
		time.Sleep(time.Second)
	}()
	c, _ := tcp.New(tcp.Config{Rank: 1, Size: 2, Coordinator: ln.Addr().String(), Secret: testworld.Secret, Timeout: 2 * time.Second})
	if err := c.Init(); err == nil || !strings.Contains(err.Error(), "coordinator failed authentication") {
		t.Errorf("Init against an impostor = %v", err)
	}
}

func TestTCPStartStopCycles(t *testing.T) {
	cycles := 200
	if testing.Short() {
		cycles = 20
	}
	base := runtime.NumGoroutine()
	for i := range cycles {
		comms := testworld.New(t, "tcp", 4, testworld.Opts{Timeout: 5 * time.Second})
		if err := testworld.ForEach(comms, gatherBcast); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		testworld.FinalizeAll(comms)
	}
	testworld.WaitGoroutines(t, base)
}

func TestTCP64Ranks(t *testing.T) {
	base := runtime.NumGoroutine()
	comms := testworld.New(t, "tcp", 64, testworld.Opts{Timeout: 10 * time.Second})
	if err := testworld.ForEach(comms, func(c collective.Comm) error {
		if err := gatherBcast(c); err != nil {
			return err
		}
		src := []float64{float64(c.Rank()), 1}
		dst := make([]float64, 2)
		if err := collective.Allreduce(c, src, dst); err != nil {
			return err
		}
		if dst[0] != 64*63/2 || dst[1] != 64 {
			return fmt.Errorf("allreduce = %v", dst)
		}
		return collective.Barrier(c)
	}); err != nil {
		t.Fatal(err)
	}
	testworld.FinalizeAll(comms)
	testworld.WaitGoroutines(t, base)
}
