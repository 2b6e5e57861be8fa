package x86

import (
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestHasAVX2MatchesKernel checks the CPUID answer against the flags the
// Linux kernel reports for the first CPU (its "avx2" needs the OS to save
// the YMM state too, as HasAVX2 requires).
func TestHasAVX2MatchesKernel(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the kernel's flags are read from /proc/cpuinfo on linux/amd64")
	}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		name, flags, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) != "flags" {
			continue
		}
		want := slices.Contains(strings.Fields(flags), "avx2")
		if HasAVX2 != want {
			t.Fatalf("HasAVX2 = %v, /proc/cpuinfo lists avx2: %v", HasAVX2, want)
		}
		return
	}
	t.Skip("no flags line in /proc/cpuinfo")
}
