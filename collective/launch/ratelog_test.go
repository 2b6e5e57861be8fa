package launch

import (
	"strings"
	"testing"
	"time"
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
