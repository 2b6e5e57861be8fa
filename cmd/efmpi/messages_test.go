package main

import (
	"strings"
	"testing"

	"github.com/efmpi/efmpi/collective/mpi"
)

// The messages of a mistaken config or flag, through the binary: exit 2 and
// one line naming the flag or the file's line, with the suggestion.
func TestConfigMessages(t *testing.T) {
	base := strings.Replace(small, `rule = "norm-theory"`, "rule = \"norm-theory\"\ngamma0 = 2.0", 1)
	for _, tc := range []struct {
		name, config string
		args         []string
		want         string
	}{
		{"bad value by -set", base, []string{"-set", "algorithm.compressor=topk"},
			`efmpi run: invalid configuration: -set algorithm.compressor=topk: unknown value "topk" (want top-k, rand-k, sign, identity); did you mean "top-k"?`},
		{"unknown key in the file", strings.Replace(base, "normalize = true", "normalise = true", 1), nil,
			`efmpi run: invalid configuration: config cfg.toml line 9: unknown key "normalise" in [algorithm]; did you mean "normalize"?`},
		{"unknown key by -set", base, []string{"-set", "algorithm.normalise=false"},
			`-set algorithm.normalise=false: unknown key "normalise" in [algorithm]; did you mean "normalize"?`},
		{"rule makes gamma0 inapplicable", base, []string{"-set", "stepsize.rule=ef21-theory"},
			`-set stepsize.rule=ef21-theory: key stepsize.gamma0 does not apply to rule ef21-theory (gamma0 is for norm-theory, decreasing and poly); config cfg.toml line 14 sets it: drop it with -unset stepsize.gamma0`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "cfg.toml", tc.config)
			code, stdout, stderr := efmpi(t, dir, append([]string{"run", "-config", "cfg.toml"}, tc.args...)...)
			if code != ExitBadInput || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Fatalf("exit %d, want %d and one line with\n%s\nstdout: %s\nstderr: %s", code, ExitBadInput, tc.want, stdout, stderr)
			}
		})
	}
	// the suggested fix runs
	dir := t.TempDir()
	write(t, dir, "cfg.toml", base)
	if code, _, stderr := efmpi(t, dir, "run", "-config", "cfg.toml", "-quiet", "-set", "stepsize.rule=ef21-theory", "-unset", "stepsize.gamma0"); code != 0 {
		t.Fatalf("with -unset stepsize.gamma0: exit %d\n%s", code, stderr)
	}
}

// Started by mpirun with a world size that differs from [run] ranks, a
// binary that cannot join (-transport mpi without MPI linked) prints the
// real error alone, without the world-size warning before it.
func TestWrongLauncherNoWarningFirst(t *testing.T) {
	if mpi.Linked() {
		t.Skip("this binary has MPI linked: -transport mpi is not the wrong start here")
	}
	dir := t.TempDir()
	write(t, dir, "cfg.toml", strings.Replace(small, "ranks = 2", "ranks = 4", 1))
	code, _, stderr := efmpiEnv(t, dir, []string{"OMPI_COMM_WORLD_RANK=0", "OMPI_COMM_WORLD_SIZE=2"}, "run", "-config", "cfg.toml", "-transport", "mpi")
	want := "efmpi run: -transport mpi: this efmpi is built without MPI"
	if code != ExitBadInput || !strings.HasPrefix(stderr, want) || strings.Contains(stderr, "warning") {
		t.Fatalf("exit %d, want %d and %q first and alone\nstderr: %s", code, ExitBadInput, want, stderr)
	}
}
