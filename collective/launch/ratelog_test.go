package launch

import (
	"context"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/efmpi/efmpi/collective"
)

// A flood of refused connections is logged: the first burst in full, the
// rest counted in one line when the next period begins.
func TestRateLog(t *testing.T) {
	var b strings.Builder
	now := time.Unix(1000, 0)
	l := newRateLog(&b, 3, 10*time.Second)
	l.now = func() time.Time { return now }
	for i := range 25 {
		l.Logf("refused a connection from 10.0.0.%d: %s", i, "authentication failed")
	}
	now = now.Add(11 * time.Second)
	l.Logf("refused a connection from 10.0.0.99: bad")
	got := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		"efmpi: refused a connection from 10.0.0.0: authentication failed",
		"efmpi: refused a connection from 10.0.0.1: authentication failed",
		"efmpi: refused a connection from 10.0.0.2: authentication failed",
		"efmpi: 22 more such events in the last 11s (not shown)",
		"efmpi: refused a connection from 10.0.0.99: bad",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Connections without the job's secret during a join are logged on rank
// 0's stderr (peer address and reason) when the caller gives no Logf, at
// most 10 lines per 10 s; the join carries on.
func TestJoinLogsRefusedConnections(t *testing.T) {
	coord := "127.0.0.1:" + strconv.Itoa(freePort(t))
	secret := "EFMPI_SECRET=" + strings.Repeat("5e", 32)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	defer func() { os.Stderr = stderr }()
	type joined struct {
		c   collective.Comm
		err error
	}
	rank0 := make(chan joined, 1)
	go func() {
		c, _, err := Join(context.Background(), Options{Timeout: 10 * time.Second,
			Getenv: envOf("EFMPI_RANK=0", "EFMPI_SIZE=2", "EFMPI_COORDINATOR="+coord, secret)})
		rank0 <- joined{c, err}
	}()
	const probes = 15
	for i := 0; i < probes; {
		conn, err := net.Dial("tcp", coord)
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		conn.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		io.Copy(io.Discard, conn) // until rank 0 refuses and closes
		conn.Close()
		i++
	}
	c1, _, err := Join(context.Background(), Options{Timeout: 10 * time.Second, Logf: t.Logf,
		Getenv: envOf("EFMPI_RANK=1", "EFMPI_SIZE=2", "EFMPI_COORDINATOR="+coord, secret)})
	if err != nil {
		t.Fatalf("rank 1: %v", err)
	}
	j0 := <-rank0
	if j0.err != nil {
		t.Fatalf("rank 0: %v", j0.err)
	}
	done := make(chan struct{})
	go func() { j0.c.Finalize(); close(done) }()
	c1.Finalize()
	<-done
	os.Stderr = stderr
	w.Close()
	out, _ := io.ReadAll(r)
	lines := strings.Count(string(out), "refused a connection from 127.0.0.1:")
	if lines != 10 || !strings.Contains(string(out), "efmpi: collective: tcp rank 0 refused") {
		t.Fatalf("%d refused-connection lines for %d probes, want 10 (rate limit):\n%s", lines, probes, out)
	}
}
