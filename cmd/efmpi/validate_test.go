package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/efmpi/efmpi/driver"
)

// run -validate prints every rank's rows, writes nothing (no output file,
// directory or lock), and exits 2 where the run itself would refuse.
func TestValidateWritesNothing(t *testing.T) {
	dir := t.TempDir()
	cfg := strings.Replace(small, `output = "out.h5"`, `output = "sub/out.h5"`, 1)
	cfg = strings.Replace(cfg, "ranks = 2", "ranks = 3", 1)
	write(t, dir, "c.toml", cfg)
	before := snapshot(t, dir)
	code, out, errOut := efmpi(t, dir, "run", "-validate", "-config", "c.toml")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	if after := snapshot(t, dir); after != before {
		t.Fatalf("-validate wrote something: before %s\nafter %s", before, after)
	}
	// 200 samples over 3 ranks, contiguous: 67, 67, 66 (or any split summing to 200)
	re := regexp.MustCompile(`(?m)^  rank +(\d+) +(\d+) +(\d+)$`)
	rows := 0
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[2])
		vals, _ := strconv.Atoi(m[3])
		if vals != 10*n { // dense synthetic rows: d = 10 values each
			t.Errorf("rank %s: %d values for %d rows of d = 10", m[1], vals, n)
		}
		rows += n
	}
	if len(re.FindAllString(out, -1)) != 3 || rows != 200 {
		t.Fatalf("want 3 ranks holding 200 rows, got %d rows:\n%s", rows, out)
	}
	for _, want := range []string{"d = 10", "step size gamma =", "per process under a launcher", "valid: nothing was written"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// the output exists: refused as the run refuses it, and left alone
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "sub/out.h5", "mine")
	before = snapshot(t, dir)
	code, out, errOut = efmpi(t, dir, "run", "-validate", "-config", "c.toml")
	if code != 2 || !strings.Contains(errOut, "exists") {
		t.Fatalf("existing output: exit %d, %s%s", code, out, errOut)
	}
	if after := snapshot(t, dir); after != before {
		t.Fatal("-validate touched an existing output")
	}

	// k > d: exit 2, the problem named
	code, _, errOut = efmpi(t, dir, "run", "-validate", "-config", "c.toml", "-out", "other.h5", "-set", "algorithm.k=11")
	if code != 2 || !strings.Contains(errOut, "k = 11") {
		t.Fatalf("k > d: exit %d, %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "other.h5")); err == nil {
		t.Fatal("-validate created the output")
	}
}

// The memory estimate bounds the peak RSS of the run it describes, within
// a factor 2: one rank of d = 10⁶ on 20 000 sparse rows, measured by the
// kernel (the child's ru_maxrss).
func TestValidateMemoryEstimate(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a run of d = 10^6")
	}
	dir := t.TempDir()
	sets := []string{"-set", "data.samples=20000", "-set", "data.features=1000000", "-set", "run.iterations=3", "-ranks", "1", "-out", "m.h5"}
	cfgPath, err := filepath.Abs("../../configs/synthetic_sparse.toml")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := efmpi(t, dir, append([]string{"run", "-validate", "-config", cfgPath}, sets...)...)
	if code != 0 {
		t.Fatalf("validate: exit %d %s%s", code, out, errOut)
	}
	f, err := parseRunFlags("run", append([]string{"-config", cfgPath}, sets...), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	sh, err := driver.Prepare(specFrom(cfg, false), 1)
	if err != nil {
		t.Fatal(err)
	}
	est := sh.EstimateMemory(0, 1).Total()
	if !strings.Contains(out, "inproc transport): "+driver.HumanBytes(est)) {
		t.Fatalf("validate does not print the estimate %s:\n%s", driver.HumanBytes(est), out)
	}

	cmd := exec.Command(efmpiBin, append([]string{"run", "-quiet", "-config", cfgPath}, sets...)...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("run: %v\n%s", err, b)
	}
	rss := float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) * 1024 // KiB on Linux
	t.Logf("estimate %s, peak RSS %s (ratio %.2f)", driver.HumanBytes(est), driver.HumanBytes(rss), est/rss)
	if est < rss || est > 2*rss {
		t.Fatalf("estimate %s against a peak RSS of %s: not within [1, 2]x", driver.HumanBytes(est), driver.HumanBytes(rss))
	}
}
