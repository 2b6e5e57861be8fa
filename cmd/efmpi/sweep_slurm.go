package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/efmpi/efmpi/runfile"
	"github.com/efmpi/efmpi/sweep"
)

// sbatchArgs is the sbatch command line of a Slurm sweep: the array of the
// points to run, the user's sbatch flags, the array script, the grid file,
// the base config and the overrides common to every point (the grid line
// of a point comes after them in the script, so it wins).
func sbatchArgs(array string, userFlags []string, script, grid, config string, sets []string) []string {
	args := append([]string{"--array=" + array}, userFlags...)
	args = append(args, script, grid, config)
	for _, s := range sets {
		args = append(args, "-set", s)
	}
	return append(args, "-quiet")
}

// submitSweep submits the points of a sweep as one Slurm job array: it
// prepares DIR as a local sweep would (refusing a non-empty folder unless
// -overwrite or -resume), writes DIR/grid.txt, and runs sbatch ($EFMPI_SBATCH
// if set) with EFMPI_SWEEP_DIR=DIR, under which slurm/sweep.sbatch writes
// point i to DIR/point-NNN.h5, the same file a local sweep writes.
func submitSweep(sw *sweep.Sweep, points []sweep.Point, m sweep.Manifest, mode sweep.Mode, script string,
	userFlags []string, stdout io.Writer) (int, error) {
	if sw.KSearch != nil {
		return ExitBadInput, usageError{"sweep -slurm: -choose-k runs its Ks one after another and cannot be a job array"}
	}
	if m.Config == "" {
		return ExitBadInput, usageError{"sweep -slurm: name the base config with -config FILE (the array tasks read it)"}
	}
	if _, err := os.Stat(script); err != nil {
		return ExitBadInput, usageError{fmt.Sprintf("sweep -slurm: array script %s: %v (run from the repository, or give -slurm-script)", script, err)}
	}
	if err := sweep.PrepareDir(sw.Dir, mode, m); err != nil {
		if errors.Is(err, sweep.ErrNotEmpty) {
			return ExitBadInput, usageError{err.Error()}
		}
		return ExitBadInput, fmt.Errorf("%w: %v", errOutput, err)
	}
	grid, err := sweep.WriteGridFile(sw.Dir, points)
	if err != nil {
		return ExitBadInput, usageError{err.Error()}
	}
	var todo []int
	for _, p := range points {
		if mode == sweep.Resume {
			if s, err := runfile.SummarizeFile(filepath.Join(sw.Dir, sweep.PointFileName(p.Index))); err == nil && runfile.Finished(s.Status) {
				continue
			}
		}
		todo = append(todo, p.Index)
	}
	if len(todo) == 0 {
		fmt.Fprintf(stdout, "sweep: all %d points of %s are finished; nothing to submit\n", len(points), sw.Dir)
		return ExitOK, nil
	}
	sbatch := os.Getenv("EFMPI_SBATCH")
	if sbatch == "" {
		sbatch = "sbatch"
	}
	args := sbatchArgs(sweep.ArraySpec(todo), userFlags, script, grid, m.Config, m.Sets)
	fmt.Fprintf(stdout, "sweep: %d points (%d to run) → %s\n%s %s\n", len(points), len(todo), sw.Dir, sbatch, strings.Join(args, " "))
	// slurm/sweep.sbatch logs into logs/ (#SBATCH --output), a folder
	// Slurm does not create: make it where sbatch runs.
	if err := os.MkdirAll("logs", 0o755); err != nil {
		return ExitOther, fmt.Errorf("sweep -slurm: the job logs' folder: %w", err)
	}
	cmd := exec.Command(sbatch, args...)
	cmd.Env = append(os.Environ(), "EFMPI_SWEEP_DIR="+sw.Dir)
	out, err := cmd.CombinedOutput()
	stdout.Write(out)
	if err != nil {
		return ExitOther, fmt.Errorf("sbatch: %w", err)
	}
	fmt.Fprintf(stdout, "when the array has run: efmpi summarize -target T %s\n", sw.Dir)
	return ExitOK, nil
}
