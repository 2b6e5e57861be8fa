package x86

import (
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestHasAVX2MatchesKernel checks the CPUID answers (AVX2, FMA, AVX-512F) against the flags the
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
		fields := strings.Fields(flags)
		for _, f := range []struct {
			flag string
			has  bool
		}{{"avx2", HasAVX2}, {"fma", HasFMA}, {"avx512f", HasAVX512}} {
			if want := slices.Contains(fields, f.flag); f.has != want {
				t.Fatalf("CPUID says %s: %v, /proc/cpuinfo lists it: %v", f.flag, f.has, want)
			}
		}
		return
	}
	t.Skip("no flags line in /proc/cpuinfo")
}
