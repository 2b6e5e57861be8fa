package mpi

import (
	"fmt"
	"os"
	"strings"
)

// Flavours of MPI library, as Flavour reports them.
const (
	FlavourOpenMPI = "openmpi"
	FlavourMPICH   = "mpich"
)

// CheckLauncher reports, before MPI_Init is called, whether the process was
// started by a launcher that the linked MPI library (flavour) can talk to,
// by the environment variables each launcher sets: Open MPI's mpirun sets
// OMPI_COMM_WORLD_* and PMIX_*; srun --mpi=pmix sets PMIX_*; MPICH's Hydra
// (mpiexec.mpich, mpiexec.hydra) sets PMI_RANK, PMI_SIZE, PMI_FD and HYDRA_*
// or HYDI_*; srun --mpi=pmi2 sets PMI_FD, PMI_RANK and PMI_SIZE. A binary
// built for one library and started by the other's launcher would otherwise
// hang in MPI_Init or run n separate worlds of one rank; the error says
// which launcher it saw and what to use instead. environ is os.Environ() if
// nil.
func CheckLauncher(flavour string, environ []string) error {
	if environ == nil {
		environ = os.Environ()
	}
	env := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	getenv := func(k string) string { return env[k] }
	has := func(prefix string) bool {
		for k := range env {
			if strings.HasPrefix(k, prefix) {
				return true
			}
		}
		return false
	}
	ompi := getenv("OMPI_COMM_WORLD_SIZE") != "" || getenv("OMPI_COMM_WORLD_RANK") != ""
	pmix := getenv("PMIX_RANK") != ""
	pmi := getenv("PMI_RANK") != "" || getenv("PMI_FD") != "" || getenv("PMI_SIZE") != ""
	hydra := has("HYDRA_") || has("HYDI_") || getenv("MPI_LOCALNRANKS") != ""
	slurm := getenv("SLURM_PROCID") != "" && getenv("SLURM_STEP_ID") != ""
	switch flavour {
	case FlavourOpenMPI:
		switch {
		case ompi || pmix:
			return nil
		case pmi && hydra:
			return fmt.Errorf("this efmpi is linked against Open MPI but was started by MPICH's mpiexec (Hydra: PMI_RANK/PMI_FD are set, OMPI_COMM_WORLD_* is not): start it with Open MPI's mpirun, or use a binary built with `make build-mpi MPICC=mpicc.mpich`, or `-transport tcp`")
		case pmi:
			return fmt.Errorf("this efmpi is linked against Open MPI but was started with PMI-2 (PMI_FD/PMI_RANK set, as by srun --mpi=pmi2): use srun --mpi=pmix, or a binary built for MPICH, or `-transport tcp`")
		case slurm:
			return fmt.Errorf("this efmpi is linked against Open MPI but srun started it without PMIx (SLURM_PROCID is set, PMIX_RANK is not): use srun --mpi=pmix, or `-transport tcp`")
		}
		return fmt.Errorf("-transport mpi: not started by an MPI launcher (no OMPI_COMM_WORLD_* or PMIX_RANK): use mpirun, srun --mpi=pmix, or another transport")
	case FlavourMPICH:
		switch {
		case pmi:
			return nil
		case ompi:
			return fmt.Errorf("this efmpi is linked against MPICH but was started by Open MPI's mpirun (OMPI_COMM_WORLD_* is set, PMI_RANK is not): start it with MPICH's mpiexec, or use a binary built with `make build-mpi MPICC=mpicc.openmpi`, or `-transport tcp`")
		case pmix:
			return fmt.Errorf("this efmpi is linked against MPICH but was started with PMIx (PMIX_RANK set, PMI_RANK not, as by srun --mpi=pmix): use srun --mpi=pmi2, or a binary built for Open MPI, or `-transport tcp`")
		case slurm:
			return fmt.Errorf("this efmpi is linked against MPICH but srun started it without PMI-2 (SLURM_PROCID is set, PMI_FD is not): use srun --mpi=pmi2, or `-transport tcp`")
		}
		return fmt.Errorf("-transport mpi: not started by an MPI launcher (no PMI_RANK/PMI_FD): use mpiexec, srun --mpi=pmi2, or another transport")
	}
	return fmt.Errorf("-transport mpi: this efmpi is built without MPI (build it with `make build-mpi`)")
}
