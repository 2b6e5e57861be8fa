package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/efmpi/efmpi/hdf5io"
)

// startAttrs describe this start of a run (driver.Options.Start): where and
// how it ran and which binary ran it. They go to the root attributes (the
// latest start) and to the start's segment in /segments:
//
//	launcher, hosts       the launcher (inproc, mpirun, srun, …) and the distinct hosts
//	mpi_library           `efmpi version`'s MPI line: linked library and version, or not linked
//	efmpi_version         the program's version
//	vcs_revision, vcs_time, vcs_modified, go_version   the binary's build (Go's build info)
//	command_line          the command as run, each argument quoted where needed
//	slurm_job_id, slurm_array_job_id, slurm_array_task_id, slurm_step_id,
//	slurm_job_nodelist, slurm_restart_count   where Slurm set them (else absent)
func startAttrs(launcher string, hosts []string) []hdf5io.Attr {
	uniq := map[string]bool{}
	for _, h := range hosts {
		uniq[h] = true
	}
	names := make([]string, 0, len(uniq))
	for h := range uniq {
		names = append(names, h)
	}
	sort.Strings(names)
	a := []hdf5io.Attr{
		{Name: "launcher", Value: launcher},
		{Name: "hosts", Value: strings.Join(names, ",")},
		{Name: "efmpi_version", Value: Version},
		{Name: "mpi_library", Value: mpiVersion()},
		{Name: "command_line", Value: commandLine(os.Args)},
	}
	a = append(a, buildAttrs(debug.ReadBuildInfo())...)
	return append(a, slurmAttrs(os.Getenv)...)
}

// buildAttrs are the binary's VCS revision, its time, whether the tree had
// local changes, and the Go version that built it.
func buildAttrs(bi *debug.BuildInfo, ok bool) []hdf5io.Attr {
	rev, at, modified := "unknown", "", ""
	goVersion := runtime.Version()
	if ok {
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
	}
	a := []hdf5io.Attr{{Name: "vcs_revision", Value: rev}, {Name: "go_version", Value: goVersion}}
	if at != "" {
		a = append(a, hdf5io.Attr{Name: "vcs_time", Value: at})
	}
	if modified != "" {
		a = append(a, hdf5io.Attr{Name: "vcs_modified", Value: modified == "true"})
	}
	return a
}

// slurmEnv maps Slurm's variables to the attributes that record them; the
// node list is the step's where it has one (srun), else the job's.
var slurmEnv = [...]struct{ attr, env, fallback string }{
	{"slurm_job_id", "SLURM_JOB_ID", "SLURM_JOBID"},
	{"slurm_array_job_id", "SLURM_ARRAY_JOB_ID", ""},
	{"slurm_array_task_id", "SLURM_ARRAY_TASK_ID", ""},
	{"slurm_step_id", "SLURM_STEP_ID", "SLURM_STEPID"},
	{"slurm_job_nodelist", "SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST"},
	{"slurm_restart_count", "SLURM_RESTART_COUNT", ""},
}

// slurmAttrs records the Slurm ids and node list that getenv gives (as
// strings, as Slurm writes them); none outside Slurm.
func slurmAttrs(getenv func(string) string) []hdf5io.Attr {
	var a []hdf5io.Attr
	for _, e := range slurmEnv {
		v := getenv(e.env)
		if v == "" && e.fallback != "" {
			v = getenv(e.fallback)
		}
		if v != "" {
			a = append(a, hdf5io.Attr{Name: e.attr, Value: v})
		}
	}
	return a
}

// commandLine joins args as a shell would read them back: an argument with
// characters a shell treats specially is single-quoted.
func commandLine(args []string) string {
	q := make([]string, len(args))
	for i, s := range args {
		if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./,:+@%") == "" {
			q[i] = s
			continue
		}
		q[i] = "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
