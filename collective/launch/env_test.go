package launch

import (
	"strings"
	"testing"
)

// envOf turns "K=V" pairs into a getenv function.
func envOf(kv ...string) func(string) string {
	m := make(map[string]string)
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

// ompiEnv is what Open MPI 4.1's mpirun sets for rank 1 of 2 (abridged).
var ompiEnv = []string{
	"OMPI_COMM_WORLD_RANK=1", "OMPI_COMM_WORLD_SIZE=2", "OMPI_COMM_WORLD_LOCAL_SIZE=2",
	"OMPI_COMM_WORLD_LOCAL_RANK=1", "OMPI_MCA_ess_base_jobid=2048589825",
	"OMPI_MCA_orte_hnp_uri=2048589824.0;tcp://192.0.2.2:42739",
	"PMIX_RANK=1", "PMIX_NAMESPACE=2048589825",
}

// srunEnv is what srun sets for task 3 of a 4-task step on two nodes.
var srunEnv = []string{
	"SLURM_PROCID=3", "SLURM_NTASKS=8", "SLURM_STEP_NUM_TASKS=4", "SLURM_STEP_ID=2",
	"SLURM_JOB_ID=4711", "SLURM_STEP_NUM_NODES=2", "SLURM_STEP_NODELIST=node[07-08]",
	"SLURM_JOB_NODELIST=node[07-09]",
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want Env
		err  string // substring of the error, "" for none
	}{
		{name: "none", want: Env{Launcher: "inproc", Rank: 0, Size: 1, LocalSize: 1}},
		{name: "spawned", env: []string{"EFMPI_RANK=2", "EFMPI_SIZE=4"},
			want: Env{Launcher: "spawned", Rank: 2, Size: 4}},
		{name: "spawned wins over mpirun", env: append([]string{"EFMPI_RANK=0", "EFMPI_SIZE=3"}, ompiEnv...),
			want: Env{Launcher: "spawned", Rank: 0, Size: 3}},
		{name: "open mpi", env: ompiEnv,
			want: Env{Launcher: "mpirun", Rank: 1, Size: 2, LocalSize: 2, JobID: "2048589825"}},
		{name: "open mpi without pmix", env: []string{"OMPI_COMM_WORLD_RANK=0", "OMPI_COMM_WORLD_SIZE=4",
			"OMPI_MCA_orte_hnp_uri=77.0;tcp://10.0.0.1:5"},
			want: Env{Launcher: "mpirun", Rank: 0, Size: 4, JobID: "77.0"}},
		{name: "mpirun inside sbatch", env: append(append([]string{}, ompiEnv...), "SLURM_PROCID=0", "SLURM_NTASKS=2",
			"SLURM_JOB_ID=9", "SLURM_JOB_NODELIST=n[1-2]", "SLURM_STEP_ID=0"),
			want: Env{Launcher: "mpirun", Rank: 1, Size: 2, LocalSize: 2, JobID: "2048589825", NodeList: "n[1-2]"}},
		{name: "mpich hydra", env: []string{"PMI_RANK=3", "PMI_SIZE=4", "PMI_FD=6", "MPI_LOCALNRANKS=4"},
			want: Env{Launcher: "mpich", Rank: 3, Size: 4, LocalSize: 4}},
		{name: "srun", env: srunEnv,
			want: Env{Launcher: "srun", Rank: 3, Size: 4, NodeList: "node[07-08]", JobID: "4711.2"}},
		{name: "srun one node", env: []string{"SLURM_PROCID=1", "SLURM_STEP_NUM_TASKS=2", "SLURM_STEP_ID=0",
			"SLURM_JOB_ID=5", "SLURM_STEP_NUM_NODES=1", "SLURM_NODELIST=c1"},
			want: Env{Launcher: "srun", Rank: 1, Size: 2, LocalSize: 2, NodeList: "c1", JobID: "5.0"}},
		{name: "sbatch script is not a task", env: []string{"SLURM_PROCID=0", "SLURM_NTASKS=4", "SLURM_JOB_ID=5",
			"SLURM_JOB_NODELIST=c[1-2]"},
			want: Env{Launcher: "inproc", Rank: 0, Size: 1, LocalSize: 1}},
		{name: "srun --mpi=pmi2", env: append([]string{"PMI_RANK=3", "PMI_SIZE=4", "PMI_FD=5"}, srunEnv...),
			want: Env{Launcher: "srun", Rank: 3, Size: 4, NodeList: "node[07-08]", JobID: "4711.2"}},
		{name: "srun --mpi=pmix", env: append([]string{"PMIX_RANK=3", "PMIX_NAMESPACE=slurm.pmix.4711.2"}, srunEnv...),
			want: Env{Launcher: "srun", Rank: 3, Size: 4, NodeList: "node[07-08]", JobID: "4711.2"}},
		{name: "bare pmix", env: []string{"PMIX_RANK=1", "PMIX_SIZE=3", "PMIX_NAMESPACE=prterun-h-1@1"},
			want: Env{Launcher: "pmix", Rank: 1, Size: 3, JobID: "prterun-h-1@1"}},

		{name: "pmix without size", env: []string{"PMIX_RANK=1"}, err: "PMIX_RANK"},
		{name: "non-numeric rank", env: []string{"OMPI_COMM_WORLD_RANK=one", "OMPI_COMM_WORLD_SIZE=2"}, err: `OMPI_COMM_WORLD_RANK="one" is not an integer`},
		{name: "rank beyond size", env: []string{"PMI_RANK=4", "PMI_SIZE=4"}, err: "PMI_RANK=4 is not a rank of a world of PMI_SIZE=4"},
		{name: "negative rank", env: []string{"EFMPI_RANK=-1", "EFMPI_SIZE=4"}, err: "EFMPI_RANK=-1"},
		{name: "zero size", env: []string{"EFMPI_RANK=0", "EFMPI_SIZE=0"}, err: "EFMPI_SIZE=0"},
		{name: "size missing", env: []string{"EFMPI_RANK=0"}, err: "EFMPI_SIZE is not set"},
		{name: "rank missing", env: []string{"OMPI_COMM_WORLD_SIZE=2"}, err: "OMPI_COMM_WORLD_RANK is not set"},
		{name: "pmix disagrees", env: []string{"OMPI_COMM_WORLD_RANK=1", "OMPI_COMM_WORLD_SIZE=2", "PMIX_RANK=0"}, err: "PMIX_RANK=0 disagrees with OMPI_COMM_WORLD_RANK=1"},
		{name: "bad local size", env: []string{"PMI_RANK=0", "PMI_SIZE=2", "MPI_LOCALNRANKS=x"}, err: "MPI_LOCALNRANKS"},
		{name: "bad slurm size", env: []string{"SLURM_PROCID=0", "SLURM_STEP_NUM_TASKS=?", "SLURM_STEP_ID=0"}, err: "SLURM_STEP_NUM_TASKS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Detect(envOf(tc.env...))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Detect: err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Detect = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestExpandHostlist(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{in: "node1", want: []string{"node1"}},
		{in: "node[01-04,07]", want: []string{"node01", "node02", "node03", "node04", "node07"}},
		{in: "a1,b[1-2]", want: []string{"a1", "b1", "b2"}},
		{in: "n[8-11]", want: []string{"n8", "n9", "n10", "n11"}},
		{in: "n[098-101]", want: []string{"n098", "n099", "n100", "n101"}},
		{in: "rack[1-2]-node[01-02]", want: []string{"rack1-node01", "rack1-node02", "rack2-node01", "rack2-node02"}},
		{in: "x[3],y,z[0-1]e", want: []string{"x3", "y", "z0e", "z1e"}},
		{in: "gnode[10,20,25,37]", want: []string{"gnode10", "gnode20", "gnode25", "gnode37"}},
		{in: "[1-2]", want: []string{"1", "2"}},
		{in: " c1 , c2 ", want: []string{"c1", "c2"}},
		{in: "", err: "empty"},
		{in: "a,,b", err: "empty host name"},
		{in: "a,", err: "empty host name"},
		{in: "n[1-2", err: "unclosed"},
		{in: "n1-2]", err: "unmatched"},
		{in: "n[[1]]", err: "nested"},
		{in: "n[]", err: "empty brackets"},
		{in: "n[3-1]", err: "reversed"},
		{in: "n[a-b]", err: "bad range"},
		{in: "n[1-]", err: "bad range"},
		{in: "n[1,,2]", err: "bad range"},
		{in: "n[0-99999999]", err: "more than"},
		{in: "a b", err: "space"},
	}
	for _, tc := range tests {
		got, err := ExpandHostlist(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ExpandHostlist(%q): err = %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ExpandHostlist(%q): %v", tc.in, err)
			continue
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("ExpandHostlist(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
