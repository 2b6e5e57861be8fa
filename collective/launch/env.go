package launch

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Launcher names reported in Env.Launcher.
const (
	LauncherNone    = "inproc"  // not started by a launcher
	LauncherSpawned = "spawned" // started by Spawn (EFMPI_RANK, EFMPI_SIZE)
	LauncherOpenMPI = "mpirun"  // Open MPI's mpirun/mpiexec (OMPI_COMM_WORLD_*)
	LauncherMPICH   = "mpich"   // MPICH's mpiexec, Hydra (PMI_RANK, PMI_SIZE)
	LauncherPMIx    = "pmix"    // a PMIx launcher other than Open MPI or srun
	LauncherSrun    = "srun"    // a task of a Slurm job step
)

// Env describes how this process was launched.
type Env struct {
	// Launcher is one of the Launcher* constants; LauncherNone means this
	// process is not one rank of a multi-process job.
	Launcher string
	// Rank and Size are this process's rank and the number of ranks, with
	// 0 <= Rank < Size. Under LauncherNone they are 0 and 1.
	Rank, Size int
	// LocalSize is the number of ranks on this host when the launcher says so
	// (OMPI_COMM_WORLD_LOCAL_SIZE, MPI_LOCALNRANKS, a one-node Slurm step),
	// else 0.
	LocalSize int
	// NodeList is the Slurm node list of the step or job (hostlist syntax),
	// if any.
	NodeList string
	// JobID identifies the job among others running at the same time (the
	// PMIx namespace, the Open MPI job id, SLURM_JOB_ID.SLURM_STEP_ID, the PMI
	// job id); empty if the environment has none.
	JobID string
}

// AllLocal reports whether the launcher says every rank runs on this host.
func (e Env) AllLocal() bool { return e.LocalSize > 0 && e.LocalSize == e.Size }

// Detect reads the launcher's environment through getenv (os.Getenv if nil).
// The first of EFMPI_RANK/EFMPI_SIZE, OMPI_COMM_WORLD_RANK/SIZE,
// PMI_RANK/PMI_SIZE, PMIX_RANK and SLURM_PROCID (in a job step) that is set
// decides the launcher; with none of them Detect returns Launcher "inproc",
// rank 0 of 1. Non-numeric, missing or inconsistent values are errors naming
// the variable.
func Detect(getenv func(string) string) (Env, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	has := func(k string) bool { return getenv(k) != "" }
	switch {
	case has("EFMPI_RANK") || has("EFMPI_SIZE"):
		e, err := rankSize(getenv, LauncherSpawned, "EFMPI_RANK", "EFMPI_SIZE")
		if err != nil {
			return Env{}, err
		}
		e.JobID = getenv("EFMPI_JOB_KEY")
		return e, nil

	case has("OMPI_COMM_WORLD_RANK") || has("OMPI_COMM_WORLD_SIZE"):
		e, err := rankSize(getenv, LauncherOpenMPI, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE")
		if err != nil {
			return Env{}, err
		}
		if err := agree(getenv, "PMIX_RANK", "OMPI_COMM_WORLD_RANK", e.Rank); err != nil {
			return Env{}, err
		}
		if e.LocalSize, err = optInt(getenv, "OMPI_COMM_WORLD_LOCAL_SIZE"); err != nil {
			return Env{}, err
		}
		e.JobID = firstSet(getenv, "PMIX_NAMESPACE", "OMPI_MCA_ess_base_jobid")
		if e.JobID == "" {
			// "2048589824.0;tcp://…": the job family of this mpirun.
			e.JobID, _, _ = strings.Cut(getenv("OMPI_MCA_orte_hnp_uri"), ";")
		}
		e.NodeList = slurmNodeList(getenv)
		return e, nil

	case has("PMI_RANK") || has("PMI_SIZE"):
		e, err := rankSize(getenv, LauncherMPICH, "PMI_RANK", "PMI_SIZE")
		if err != nil {
			return Env{}, err
		}
		if e.LocalSize, err = optInt(getenv, "MPI_LOCALNRANKS"); err != nil {
			return Env{}, err
		}
		e.JobID = getenv("PMI_JOBID")
		e.NodeList = slurmNodeList(getenv)
		if !has("MPI_LOCALNRANKS") && isSlurmTask(getenv) {
			// srun --mpi=pmi2 also sets PMI_RANK/PMI_SIZE: a Slurm task,
			// not a Hydra one. Its PMI_FD speaks PMI-2, which we do not.
			s, err := detectSrun(getenv)
			if err != nil {
				return Env{}, err
			}
			if s.Rank != e.Rank || s.Size != e.Size {
				return Env{}, fmt.Errorf("launch: PMI_RANK/PMI_SIZE=%d/%d disagree with SLURM_PROCID/SLURM_STEP_NUM_TASKS=%d/%d",
					e.Rank, e.Size, s.Rank, s.Size)
			}
			return s, nil
		}
		return e, nil

	case has("PMIX_RANK"):
		if isSlurmTask(getenv) {
			e, err := detectSrun(getenv)
			if err != nil {
				return Env{}, err
			}
			if err := agree(getenv, "PMIX_RANK", "SLURM_PROCID", e.Rank); err != nil {
				return Env{}, err
			}
			return e, nil
		}
		if !has("PMIX_SIZE") {
			return Env{}, fmt.Errorf("launch: PMIX_RANK=%q is set but not the world size (no OMPI_COMM_WORLD_SIZE, PMIX_SIZE or Slurm job step)", getenv("PMIX_RANK"))
		}
		e, err := rankSize(getenv, LauncherPMIx, "PMIX_RANK", "PMIX_SIZE")
		if err != nil {
			return Env{}, err
		}
		e.JobID = getenv("PMIX_NAMESPACE")
		e.NodeList = slurmNodeList(getenv)
		return e, nil

	case isSlurmTask(getenv):
		return detectSrun(getenv)
	}
	return Env{Launcher: LauncherNone, Rank: 0, Size: 1, LocalSize: 1}, nil
}

// isSlurmTask reports whether this process is a task of a Slurm job step (as
// started by srun). A batch script also has SLURM_PROCID=0 but no step.
func isSlurmTask(getenv func(string) string) bool {
	return getenv("SLURM_PROCID") != "" && (getenv("SLURM_STEP_NUM_TASKS") != "" || getenv("SLURM_STEP_ID") != "" || getenv("SLURM_STEPID") != "")
}

func detectSrun(getenv func(string) string) (Env, error) {
	sizeVar := "SLURM_STEP_NUM_TASKS"
	if getenv(sizeVar) == "" {
		sizeVar = "SLURM_NTASKS"
		if getenv(sizeVar) == "" {
			sizeVar = "SLURM_NPROCS"
		}
	}
	e, err := rankSize(getenv, LauncherSrun, "SLURM_PROCID", sizeVar)
	if err != nil {
		return Env{}, err
	}
	e.NodeList = slurmNodeList(getenv)
	nodes, err := optInt(getenv, "SLURM_STEP_NUM_NODES")
	if err != nil {
		return Env{}, err
	}
	if nodes == 1 {
		e.LocalSize = e.Size
	}
	if job := getenv("SLURM_JOB_ID"); job != "" {
		e.JobID = job + "." + firstSet(getenv, "SLURM_STEP_ID", "SLURM_STEPID")
	} else if job := getenv("SLURM_JOBID"); job != "" {
		e.JobID = job + "." + firstSet(getenv, "SLURM_STEP_ID", "SLURM_STEPID")
	}
	return e, nil
}

func slurmNodeList(getenv func(string) string) string {
	return firstSet(getenv, "SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST", "SLURM_NODELIST")
}

func firstSet(getenv func(string) string, keys ...string) string {
	for _, k := range keys {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// rankSize parses a rank and size variable pair; both must be set.
func rankSize(getenv func(string) string, launcher, rankVar, sizeVar string) (Env, error) {
	rank, err := needInt(getenv, rankVar)
	if err != nil {
		return Env{}, err
	}
	size, err := needInt(getenv, sizeVar)
	if err != nil {
		return Env{}, err
	}
	if size < 1 {
		return Env{}, fmt.Errorf("launch: %s=%d: the world size must be at least 1", sizeVar, size)
	}
	if rank < 0 || rank >= size {
		return Env{}, fmt.Errorf("launch: %s=%d is not a rank of a world of %s=%d", rankVar, rank, sizeVar, size)
	}
	return Env{Launcher: launcher, Rank: rank, Size: size}, nil
}

func needInt(getenv func(string) string, key string) (int, error) {
	s := getenv(key)
	if s == "" {
		return 0, fmt.Errorf("launch: %s is not set", key)
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("launch: %s=%q is not an integer", key, s)
	}
	return n, nil
}

func optInt(getenv func(string) string, key string) (int, error) {
	if getenv(key) == "" {
		return 0, nil
	}
	n, err := needInt(getenv, key)
	if err == nil && n < 0 {
		err = fmt.Errorf("launch: %s=%d is negative", key, n)
	}
	return n, err
}

// agree checks that the optional variable key, if set, equals want (the value
// of ref).
func agree(getenv func(string) string, key, ref string, want int) error {
	if getenv(key) == "" {
		return nil
	}
	n, err := needInt(getenv, key)
	if err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("launch: %s=%d disagrees with %s=%d", key, n, ref, want)
	}
	return nil
}
