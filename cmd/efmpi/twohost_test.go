package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
)

// twoHosts makes two hosts, h1 and h2, on this machine with
// scripts/twohost.sh (network namespaces joined by a veth pair, each
// command with its own host name and an /etc/hosts naming both) and
// removes them when the test ends. It skips the test, saying why, where
// namespaces cannot be made (not root, no iproute2, a container without
// CAP_SYS_ADMIN). It returns the script, the pair's ID and its subnet.
func twoHosts(t *testing.T) (script, id, subnet string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("two-host test: needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("two-host test: no ip (iproute2) to create network namespaces")
	}
	script, err := filepath.Abs("../../scripts/twohost.sh")
	if err != nil {
		t.Fatal(err)
	}
	id = strconv.Itoa(os.Getpid()%100000) + strconv.Itoa(int(time.Now().UnixNano()%1000))
	out, err := exec.Command(script, "up", id).CombinedOutput()
	t.Cleanup(func() { exec.Command(script, "down", id).Run() })
	if err != nil {
		t.Skipf("two-host test: cannot create network namespaces here (%v): %s", err, out)
	}
	return script, id, strings.TrimSpace(string(out))
}

// onHost is the command that runs name args on host h (1 or 2) of the pair.
func onHost(script, id string, h int, name string, args ...string) *exec.Cmd {
	return exec.Command(script, append([]string{"exec", id, strconv.Itoa(h), name}, args...)...)
}

// srunEnv is the environment srun gives task r of a 4-task step on h[1-2],
// two tasks per node (block distribution).
func srunEnv(job string, r int) []string {
	node := 1 + r/2
	return childEnv("SLURM_JOB_ID="+job, "SLURM_STEP_ID=0", "SLURM_PROCID="+strconv.Itoa(r),
		"SLURM_STEP_NUM_TASKS=4", "SLURM_NTASKS=4", "SLURM_STEP_NODELIST=h[1-2]", "SLURM_JOB_NODELIST=h[1-2]",
		"SLURM_STEP_NUM_NODES=2", "SLURM_NODEID="+strconv.Itoa(node-1), "SLURM_LOCALID="+strconv.Itoa(r%2),
		"SLURMD_NODENAME=h"+strconv.Itoa(node), "SLURM_STEP_TASKS_PER_NODE=2(x2)")
}

// compareToInproc checks that file has the trajectory and x_final of ref
// bit for bit (time_s aside) and that it is completed.
func compareToInproc(t *testing.T, name string, ref *hdf5io.Run, file string) {
	t.Helper()
	got, err := hdf5io.Open(file)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if s := got.String("status"); s != "completed" {
		t.Errorf("%s: status %q", name, s)
	}
	for col, want := range ref.Floats {
		if col != "time_s" && !bitsEqual(got.Floats[col], want) {
			t.Errorf("%s: /trajectory/%s differs from the in-process run", name, col)
		}
	}
	for col, want := range ref.Ints {
		if !slices.Equal(got.Ints[col], want) {
			t.Errorf("%s: /trajectory/%s differs from the in-process run", name, col)
		}
	}
	if !bitsEqual(got.XFinal, ref.XFinal) || len(ref.XFinal) != 119 {
		t.Errorf("%s: /x_final differs from the in-process run", name)
	}
}

// startSrunRanks starts the four ranks of a TCP job under the environment
// srun gives them, ranks 0 and 1 on h1 and 2 and 3 on h2.
func startSrunRanks(t *testing.T, script, id, dir, job string, args ...string) ([]*exec.Cmd, []*strings.Builder) {
	t.Helper()
	var cmds []*exec.Cmd
	var errs []*strings.Builder
	for r := range 4 {
		c := onHost(script, id, 1+r/2, efmpiBin, append([]string{"run"}, args...)...)
		c.Dir, c.Env = dir, srunEnv(job, r)
		var se strings.Builder
		c.Stdout, c.Stderr = &se, &se
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, errs = append(cmds, c), append(errs, &se)
	}
	t.Cleanup(func() {
		for _, c := range cmds {
			if c.ProcessState == nil {
				c.Process.Kill()
				c.Wait()
			}
		}
	})
	return cmds, errs
}

// Four ranks on two hosts under srun's environment, over TCP: rank 0 binds
// every interface of h1 at the port from the job id, the others dial h1 by
// name (through the /etc/hosts of their host) and take the secret from the
// rendezvous file in the shared output directory; the result is bitwise
// the in-process run's. Then a rank killed on h2 is reported by name.
func TestTwoHostsSrunTCP(t *testing.T) {
	script, id, subnet := twoHosts(t)
	t.Logf("hosts h1, h2 on %s", subnet)
	data := testenv.Dataset(t, "a1a")
	dir := t.TempDir()
	cfg := write(t, dir, "det.toml", strings.ReplaceAll(determinismConfig, "%DATA%", data))
	runCmd(t, dir, childEnv(), efmpiBin, "run", "-config", cfg, "-quiet", "-out", "inproc.h5")
	ref, err := hdf5io.Open(filepath.Join(dir, "inproc.h5"))
	if err != nil {
		t.Fatal(err)
	}
	job := strconv.Itoa(700000 + os.Getpid()%100000)
	cmds, errs := startSrunRanks(t, script, id, dir, job, "-config", cfg, "-quiet", "-out", "srun.h5")
	for r, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("rank %d on h%d: %v\n%s", r, 1+r/2, err, errs[r])
		}
	}
	compareToInproc(t, "srun over tcp on two hosts", ref, filepath.Join(dir, "srun.h5"))
	got, _ := hdf5io.Open(filepath.Join(dir, "srun.h5"))
	if h := got.String("hosts"); h != "" && !strings.Contains(h, "h2") {
		t.Errorf("hosts attribute %q does not name h2", h)
	}

	// rank 3 on h2 killed with SIGKILL once the run is under way
	job2 := strconv.Itoa(800000 + os.Getpid()%100000)
	cmds, errs = startSrunRanks(t, script, id, dir, job2, "-config", cfg, "-quiet", "-out", "killed.h5",
		"-set", "run.iterations=100000000", "-set", "run.timeout=10s")
	waitFile(t, filepath.Join(dir, "killed.h5"), 60*time.Second)
	time.Sleep(time.Second)
	if err := cmds[3].Process.Kill(); err != nil { // the exec chain keeps the pid: this is efmpi itself
		t.Fatal(err)
	}
	codes := make([]int, 4)
	for r, c := range cmds {
		c.Wait()
		codes[r] = c.ProcessState.ExitCode()
	}
	if codes[0] != 4 {
		t.Errorf("rank 0 exited %d, want 4 (a rank lost)\n%s", codes[0], errs[0])
	}
	if !strings.Contains(errs[0].String(), "rank 3 (host h2) lost") {
		t.Errorf("rank 0 does not name the lost rank and its host:\n%s", errs[0])
	}
	f, err := hdf5io.Open(filepath.Join(dir, "killed.h5"))
	if err != nil {
		t.Fatal(err)
	}
	if s := f.String("status"); s != "failed" {
		t.Errorf("after rank 3 was killed on h2 the file says %q, want failed", s)
	}
	t.Logf("exit codes after kill -9 of rank 3 on h2: %v", codes)
}

// Four ranks on two hosts under the MPI launchers, two per host: Open MPI's
// mpirun --hostfile with plm_rsh_agent entering the other host, and MPICH's
// mpiexec -f with Hydra's ssh launcher likewise (scripts/twohost.sh rsh),
// each with the default build (tcp transport; Open MPI: the rendezvous
// file, MPICH: PMI) and the MPI build (mpi transport; Open MPI's btl
// self,vader,tcp restricted to the pair's subnet). Every run is bitwise the
// in-process run.
func TestTwoHostsMPILaunchers(t *testing.T) {
	script, id, subnet := twoHosts(t)
	data := testenv.Dataset(t, "a1a")
	dir := t.TempDir()
	cfg := write(t, dir, "det.toml", strings.ReplaceAll(determinismConfig, "%DATA%", data))
	runCmd(t, dir, childEnv(), efmpiBin, "run", "-config", cfg, "-quiet", "-out", "inproc.h5")
	ref, err := hdf5io.Open(filepath.Join(dir, "inproc.h5"))
	if err != nil {
		t.Fatal(err)
	}
	agent := write(t, dir, "agent.sh", "#!/bin/sh\nexec "+script+" rsh "+id+" \"$@\"\n")
	if err := os.Chmod(agent, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "hosts.openmpi", "h1 slots=2\nh2 slots=2\n")
	write(t, dir, "hosts.mpich", "h1:2\nh2:2\n")
	legs := 0
	for _, flavour := range []string{"openmpi", "mpich"} {
		fl := mpiFlavours[flavour]
		launcher, err := exec.LookPath(fl.launcher)
		if err != nil {
			t.Logf("%s not installed: %s legs skipped", fl.launcher, flavour)
			continue
		}
		bins := map[string]string{"tcp": efmpiBin}
		if bin, _, why := mpiBinMaybe(t, flavour); why == "" {
			bins["mpi"] = bin
		} else {
			t.Log(why)
		}
		for transport, bin := range bins {
			var args []string
			if flavour == "openmpi" {
				args = []string{"--hostfile", "hosts.openmpi", "-np", "4", "--mca", "plm_rsh_agent", agent,
					"--mca", "oob_tcp_if_include", subnet, "--mca", "btl", "self,vader,tcp", "--mca", "btl_tcp_if_include", subnet}
			} else {
				args = []string{"-f", "hosts.mpich", "-n", "4", "-launcher", "ssh", "-launcher-exec", agent}
			}
			out := flavour + "-" + transport + ".h5"
			c := onHost(script, id, 1, launcher, append(args, bin, "run", "-config", cfg, "-quiet", "-out", out)...)
			c.Dir, c.Env = dir, mpiEnv()
			b, err := c.CombinedOutput()
			if err != nil {
				t.Errorf("%s (%s transport) on two hosts: %v\n%s", fl.launcher, transport, err, b)
				continue
			}
			name := fl.launcher + " (" + transport + " transport) on two hosts"
			compareToInproc(t, name, ref, filepath.Join(dir, out))
			got, _ := hdf5io.Open(filepath.Join(dir, out))
			if got.String("transport") != transport {
				t.Errorf("%s: transport attribute %q", name, got.String("transport"))
			}
			legs++
		}
	}
	if legs == 0 {
		t.Skip("neither Open MPI nor MPICH installed")
	}
	t.Logf("%d launcher legs across two hosts bitwise equal to the in-process run", legs)
}
