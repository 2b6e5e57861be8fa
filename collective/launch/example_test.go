package launch_test

import (
	"fmt"

	"github.com/efmpi/efmpi/collective/launch"
)

func ExampleExpandHostlist() {
	hosts, err := launch.ExpandHostlist("node[01-03,07],login1")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(hosts)
	// Output: [node01 node02 node03 node07 login1]
}

func ExampleDetect() {
	// The environment of rank 2 of an srun job step of 4 tasks.
	env := map[string]string{
		"SLURM_PROCID": "2", "SLURM_STEP_NUM_TASKS": "4", "SLURM_STEP_ID": "0",
		"SLURM_JOB_ID": "4711", "SLURM_STEP_NODELIST": "node[07-08]",
	}
	e, err := launch.Detect(func(k string) string { return env[k] })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: rank %d of %d, job %s\n", e.Launcher, e.Rank, e.Size, e.JobID)
	c, err := launch.ResolveCoordinator(e, "", "", func(k string) string { return env[k] })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("rank 0 at %s (%s)\n", c.Addr, c.Method)
	// Output:
	// srun: rank 2 of 4, job 4711.0
	// rank 0 at node07:31081 (slurm)
}
