package main

import (
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/efmpi/efmpi/collective/launch"
	"github.com/efmpi/efmpi/collective/mpi"
	"github.com/efmpi/efmpi/config"
	"github.com/efmpi/efmpi/driver"
)

// cmdValidate is `efmpi run -validate`: everything a run does before its
// first iteration that writes nothing — the config, the output path's
// checks, the data (loaded and split as the run would), the constants of
// the step size, and the memory per process with its parts — printed, then
// exit 0, or 2 with the first problem. No output file, lock, checkpoint or
// directory is created. Under a launcher only rank 0 prints; every rank
// checks the whole world in its own process.
func cmdValidate(cfg *config.Config, spec driver.Spec, f *runFlags, env launch.Env, stdout io.Writer) (int, error) {
	n := cfg.Run.Ranks
	if env.Launcher != launch.LauncherNone {
		n = env.Size
	}
	w := stdout
	if env.Rank != 0 {
		w = io.Discard
	}
	src := f.config
	if src == "" {
		src = "(the embedded default)"
	}
	a, s := cfg.Algorithm, cfg.Stepsize
	fmt.Fprintf(w, "config     %s\n", src)
	fmt.Fprintf(w, "  problem %s, method %s (normalize=%v), compressor %s k=%d, step-size rule %s, %d iterations, seed %d\n",
		cfg.Problem.Kind, a.Method, a.Normalize, a.Compressor, a.K, s.Rule, cfg.Run.Iterations, cfg.Run.Seed)
	launcher := env.Launcher
	if launcher == launch.LauncherNone {
		launcher = "none"
	}
	transport := cfg.Run.Transport
	if transport == "inproc" && env.Launcher != launch.LauncherNone {
		transport = "tcp" // as runJoined decides
		if mpi.Linked() && env.Launcher != launch.LauncherSpawned {
			transport = "mpi"
		}
	}
	fmt.Fprintf(w, "  %d ranks, transport %s, launcher %s\n", n, transport, launcher)
	if warn := worldSizeWarning(cfg, f, env); warn != "" {
		fmt.Fprintln(w, "  "+warn)
	}
	fmt.Fprintf(w, "output     %s", spec.Output)
	if env.Rank == 0 {
		if err := checkOutput(spec.Output, f.overwrite, spec.Resume, runInputs(cfg)); err != nil {
			fmt.Fprintln(w)
			return ExitBadInput, err
		}
	}
	switch {
	case spec.Resume:
		fmt.Fprintln(w, " (exists; -resume continues it)")
	case f.overwrite:
		fmt.Fprintln(w, " (-overwrite: replaced if it exists)")
	default:
		fmt.Fprintln(w, " (free)")
	}
	if err := requireRegular(runInputs(cfg)); err != nil {
		return ExitBadInput, err
	}
	sh, err := driver.Prepare(spec, n)
	if err != nil {
		return ExitBadInput, err
	}
	fmt.Fprintf(w, "data       %s: d = %d\n", sh.Source(), sh.Dim)
	printShards(w, sh)
	printConstants(w, sh)
	code := printMemory(w, sh, env.Launcher != launch.LauncherNone || cfg.Run.Transport != "inproc")
	if code != ExitOK {
		return code, fmt.Errorf("%w: the in-process run of %d ranks needs more memory than is available here (see above)", driver.ErrMemory, n)
	}
	fmt.Fprintln(w, "valid: nothing was written")
	return ExitOK, nil
}

// printShards prints the rows and stored values of every rank, all of them
// for up to 16 ranks, else the first, the smallest, the largest and the last.
func printShards(w io.Writer, sh *driver.Shared) {
	if _, _, ok := sh.RankRows(0); !ok {
		return
	}
	rows := make([]int64, sh.Ranks)
	vals := make([]int64, sh.Ranks)
	for r := range sh.Ranks {
		rows[r], vals[r], _ = sh.RankRows(r)
	}
	show := make([]int, 0, sh.Ranks)
	if sh.Ranks <= 16 {
		for r := range sh.Ranks {
			show = append(show, r)
		}
	} else {
		lo, hi := 0, 0
		for r := range rows {
			if rows[r] < rows[lo] {
				lo = r
			}
			if rows[r] > rows[hi] {
				hi = r
			}
		}
		show = append(show, 0, lo, hi, sh.Ranks-1)
		slices.Sort(show)
		show = slices.Compact(show)
	}
	total := int64(0)
	for _, v := range rows {
		total += v
	}
	fmt.Fprintf(w, "  %d samples; per rank (samples, stored values):\n", total)
	for _, r := range show {
		fmt.Fprintf(w, "  rank %4d  %10d  %12d\n", r, rows[r], vals[r])
	}
}

// printConstants prints the step size and the constants behind it.
func printConstants(w io.Writer, sh *driver.Shared) {
	fmt.Fprintf(w, "constants  alpha = %.6g", sh.Alpha)
	if sh.Theory != nil {
		th := sh.Theory
		fmt.Fprintf(w, ", L = %.6g, L~ = %.6g, theta = %.6g, beta = %.6g", th.L, th.LTilde, th.Theta, th.Beta)
	}
	if len(sh.LI) > 0 {
		fmt.Fprintf(w, ", L_i in [%.6g, %.6g]", slices.Min(sh.LI), slices.Max(sh.LI))
	}
	if sh.Traits.Stochastic {
		fmt.Fprintf(w, ", eta = %.6g", sh.Eta)
	}
	fmt.Fprintln(w)
	g := sh.Schedule.Gamma
	switch {
	case sh.Schedule.Decreasing:
		fmt.Fprintf(w, "  step size gamma_t = %.6g / sqrt(t+1)\n", g)
	case g > 0 && !math.IsInf(g, 0):
		fmt.Fprintf(w, "  step size gamma = %.6g\n", g)
	}
}

// printMemory prints the estimate of one process under a launcher (one
// rank; the largest of the ranks) and of the in-process run (every rank),
// next to the memory available here. It returns ExitBadInput when the run
// this command would start here (in-process, unless perProcess) does not
// fit.
func printMemory(w io.Writer, sh *driver.Shared, perProcess bool) int {
	big := 0
	for r := range sh.Ranks {
		if sh.EstimateMemory(r, 1).Total() > sh.EstimateMemory(big, 1).Total() {
			big = r
		}
	}
	one := sh.EstimateMemory(big, 1)
	all := sh.EstimateMemory(0, sh.Ranks)
	part := func(m driver.MemoryEstimate) {
		for _, it := range m.Items {
			fmt.Fprintf(w, "    %10s  %s\n", driver.HumanBytes(it.Bytes), it.What)
		}
	}
	fmt.Fprintf(w, "memory     per process under a launcher (one rank each; rank %d, the largest): %s\n", big, driver.HumanBytes(one.Total()))
	part(one)
	fmt.Fprintf(w, "           in one process (all %d ranks, the inproc transport): %s\n", sh.Ranks, driver.HumanBytes(all.Total()))
	part(all)
	avail, ok := driver.AvailableMemory()
	if !ok {
		fmt.Fprintln(w, "           available here: unknown")
		return ExitOK
	}
	fmt.Fprintf(w, "           available here: %s\n", driver.HumanBytes(float64(avail)))
	need := all.Total()
	if perProcess {
		need = one.Total()
	}
	if need > float64(avail) {
		return ExitBadInput
	}
	return ExitOK
}
