package launch

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// rateLog writes event lines (refused connections and the like) to w, at most
// burst lines per period; lines beyond that are counted and reported as one
// summary line when the next period begins, so a flood of probes cannot fill
// a log but is never silent either. Safe for concurrent use.
type rateLog struct {
	mu         sync.Mutex
	w          io.Writer
	burst      int
	period     time.Duration
	start      time.Time
	n, dropped int
	now        func() time.Time
}

func newRateLog(w io.Writer, burst int, period time.Duration) *rateLog {
	return &rateLog{w: w, burst: burst, period: period, now: time.Now}
}

// Logf is the logging function handed to the TCP transport.
func (l *rateLog) Logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.start) >= l.period {
		if l.dropped > 0 {
			fmt.Fprintf(l.w, "efmpi: %d more such events in the last %v (not shown)\n", l.dropped, now.Sub(l.start).Round(time.Second))
		}
		l.start, l.n, l.dropped = now, 0, 0
	}
	if l.n >= l.burst {
		l.dropped++
		return
	}
	l.n++
	fmt.Fprintf(l.w, "efmpi: "+format+"\n", args...)
}

// eventLogf is where the transport reports refused connections: the
// caller's Logf if it gave one, else stderr, rate-limited to 10 lines per
// 10 s.
func eventLogf(opts Options) func(string, ...any) {
	if opts.Logf != nil {
		return opts.Logf
	}
	return newRateLog(os.Stderr, 10, 10*time.Second).Logf
}
