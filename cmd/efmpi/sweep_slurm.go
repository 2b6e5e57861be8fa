package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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
//
// With throttle > 0 the array runs at most that many tasks at once
// (--array=LIST%N). Once the array is submitted, a second job that depends
// on it (--dependency=afterany:JOB, so it runs however the tasks ended)
// runs `efmpi summarize -allow-missing -o DIR/sweep.csv DIR`, so the
// folder gets its sweep.csv as a local sweep's does; its log lists the
// points that are missing or failed.
func submitSweep(sw *sweep.Sweep, points []sweep.Point, m sweep.Manifest, mode sweep.Mode, script string,
	userFlags []string, throttle int, stdout io.Writer) (int, error) {
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
			if f := sweep.FindPointFile(sw.Dir, p.Index); f != "" {
				if s, err := runfile.SummarizeFile(f); err == nil && runfile.Finished(s.Status) {
					continue
				}
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
	array := sweep.ArraySpec(todo)
	if throttle > 0 {
		array += fmt.Sprintf("%%%d", throttle)
	}
	args := sbatchArgs(array, userFlags, script, grid, m.Config, m.Sets)
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
	job := jobID(string(out))
	if job == "" {
		fmt.Fprintf(stdout, "sweep: no job id in sbatch's answer; when the array has run: efmpi summarize -o %s %s\n",
			filepath.Join(sw.Dir, "sweep.csv"), sw.Dir)
		return ExitOK, nil
	}
	sargs, err := summaryJobArgs(sw, job, userFlags)
	if err != nil {
		return ExitOther, err
	}
	fmt.Fprintf(stdout, "%s %s\n", sbatch, strings.Join(sargs, " "))
	out, err = exec.Command(sbatch, sargs...).CombinedOutput()
	stdout.Write(out)
	if err != nil {
		return ExitOther, fmt.Errorf("sbatch (the job that writes sweep.csv after array %s): %w", job, err)
	}
	fmt.Fprintf(stdout, "when array %s has ended, %s is written by job %s (its log: %s)\n",
		job, filepath.Join(sw.Dir, "sweep.csv"), jobID(string(out)), filepath.Join(sw.Dir, "summarize-<job>.out"))
	return ExitOK, nil
}

// jobIDPattern finds the job id in sbatch's answer: "Submitted batch job
// N", or N[;cluster] with --parsable.
var jobIDPattern = regexp.MustCompile(`(?m)(?:^Submitted batch job (\d+)|^(\d+)(?:;\S*)?\s*$)`)

// jobID is the job id sbatch printed ("" if none).
func jobID(out string) string {
	m := jobIDPattern.FindStringSubmatch(out)
	switch {
	case m == nil:
		return ""
	case m[1] != "":
		return m[1]
	}
	return m[2]
}

// summaryJobArgs is the sbatch command line of the job that writes
// DIR/sweep.csv once array job has ended (afterany: whatever its tasks'
// outcome): the user's sbatch flags (partition, account …), then one task
// and ten minutes, running this efmpi's summarize with the sweep's target.
func summaryJobArgs(sw *sweep.Sweep, job string, userFlags []string) ([]string, error) {
	exe := os.Getenv("EFMPI")
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	cmd := []string{shellQuote(exe), "summarize", "-allow-missing"}
	if sw.HasTarget() {
		crit := sw.Criterion
		if crit == "" {
			crit = runfile.First
		}
		cmd = append(cmd, "-target", strconv.FormatFloat(sw.Target, 'g', -1, 64), "-criterion", string(crit))
	}
	cmd = append(cmd, "-o", shellQuote(filepath.Join(sw.Dir, "sweep.csv")), shellQuote(sw.Dir))
	args := append([]string{"--dependency=afterany:" + job}, userFlags...)
	return append(args, "--job-name=efmpi-sweep-summary", "--ntasks=1", "--time=00:10:00",
		"--output="+filepath.Join(sw.Dir, "summarize-%j.out"), "--wrap="+strings.Join(cmd, " ")), nil
}

// shellQuote quotes s for sh when it holds anything but safe characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=+:,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
