package launch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestResolveCoordinator(t *testing.T) {
	dir := "/shared/out"
	tests := []struct {
		name     string
		env      []string
		explicit string
		dir      string
		want     Coordinator
		err      string
	}{
		{name: "explicit option", env: ompiEnv, explicit: "head:7000", dir: dir,
			want: Coordinator{Method: MethodExplicit, Addr: "head:7000", Bind: ":7000", JobKey: "2048589825",
				File: dir + "/.efmpi-rendezvous-2048589825"}},
		{name: "EFMPI_COORDINATOR loopback", env: []string{"EFMPI_RANK=1", "EFMPI_SIZE=2", "EFMPI_COORDINATOR=127.0.0.1:4000"},
			want: Coordinator{Method: MethodExplicit, Addr: "127.0.0.1:4000", Bind: "127.0.0.1:4000"}},
		{name: "option beats env", env: []string{"EFMPI_RANK=1", "EFMPI_SIZE=2", "EFMPI_COORDINATOR=a:1"}, explicit: "[::1]:9",
			want: Coordinator{Method: MethodExplicit, Addr: "[::1]:9", Bind: "[::1]:9"}},
		{name: "spawner rank 0", env: []string{"EFMPI_RANK=0", "EFMPI_SIZE=2", "EFMPI_ADDR_FD=3"},
			want: Coordinator{Method: MethodSpawner, Bind: "127.0.0.1:0", Advertise: "127.0.0.1", AddrFD: 3}},
		{name: "srun", env: append([]string{"SLURMD_NODENAME=node08"}, srunEnv...),
			want: Coordinator{Method: MethodSlurm, Addr: "node07:31083", Bind: ":31083", JobKey: "4711.2"}},
		{name: "srun rank 0 on the first node", env: append([]string{"SLURMD_NODENAME=node07.cluster", "SLURM_PROCID=0"}, srunEnv[1:]...),
			want: Coordinator{Method: MethodSlurm, Addr: "node07:31083", Bind: ":31083", JobKey: "4711.2"}},
		{name: "srun EFMPI_PORT", env: append([]string{"EFMPI_PORT=31000"}, srunEnv...), dir: dir,
			want: Coordinator{Method: MethodSlurm, Addr: "node07:31000", Bind: ":31000", JobKey: "4711.2", File: dir + "/.efmpi-rendezvous-4711.2"}},
		{name: "srun one node binds loopback", env: []string{"SLURM_PROCID=1", "SLURM_STEP_NUM_TASKS=2", "SLURM_STEP_ID=0",
			"SLURM_JOB_ID=5", "SLURM_STEP_NUM_NODES=1", "SLURM_NODELIST=c1"},
			want: Coordinator{Method: MethodSlurm, Addr: "127.0.0.1:21291", Bind: "127.0.0.1:21291", JobKey: "5.0"}},
		{name: "mpich hydra", env: []string{"PMI_RANK=0", "PMI_SIZE=4", "PMI_FD=6", "MPI_LOCALNRANKS=4"},
			want: Coordinator{Method: MethodPMI, Bind: "127.0.0.1:0", Advertise: "127.0.0.1"}},
		{name: "open mpi file", env: ompiEnv, dir: dir,
			want: Coordinator{Method: MethodFile, Bind: "127.0.0.1:0", Advertise: "127.0.0.1", JobKey: "2048589825",
				File: dir + "/.efmpi-rendezvous-2048589825"}},
		{name: "open mpi file on many hosts", env: []string{"OMPI_COMM_WORLD_RANK=0", "OMPI_COMM_WORLD_SIZE=4",
			"OMPI_COMM_WORLD_LOCAL_SIZE=2", "PMIX_NAMESPACE=ns@1", "EFMPI_HOST=head"}, dir: dir,
			want: Coordinator{Method: MethodFile, Bind: ":0", Advertise: "head", JobKey: "ns_1",
				File: dir + "/.efmpi-rendezvous-ns_1"}},
		{name: "EFMPI_RENDEZVOUS_DIR and EFMPI_JOB_KEY", env: append([]string{"EFMPI_RENDEZVOUS_DIR=/scratch", "EFMPI_JOB_KEY=run/7"}, ompiEnv...), dir: dir,
			want: Coordinator{Method: MethodFile, Bind: "127.0.0.1:0", Advertise: "127.0.0.1", JobKey: "run_7",
				File: "/scratch/.efmpi-rendezvous-run_7"}},

		{name: "no shared dir", env: ompiEnv, err: "no directory for the rendezvous file"},
		{name: "no job key", env: []string{"OMPI_COMM_WORLD_RANK=0", "OMPI_COMM_WORLD_SIZE=2"}, dir: dir, err: "EFMPI_JOB_KEY"},
		{name: "explicit port 0", env: ompiEnv, explicit: "h:0", err: "port"},
		{name: "explicit no port", env: ompiEnv, explicit: "h", err: "coordinator"},
		{name: "spawned without coordinator", env: []string{"EFMPI_RANK=1", "EFMPI_SIZE=2"}, err: "EFMPI_COORDINATOR"},
		{name: "bad addr fd", env: []string{"EFMPI_RANK=0", "EFMPI_SIZE=2", "EFMPI_ADDR_FD=1"}, err: "EFMPI_ADDR_FD=1"},
		{name: "srun rank 0 elsewhere", env: append([]string{"SLURMD_NODENAME=node08", "SLURM_PROCID=0"}, srunEnv[1:]...), err: "rank 0 runs on node08"},
		{name: "srun bad nodelist", env: []string{"SLURM_PROCID=0", "SLURM_STEP_NUM_TASKS=2", "SLURM_STEP_ID=0", "SLURM_JOB_ID=1", "SLURM_STEP_NODELIST=n[1-"}, err: "node list"},
		{name: "srun bad port", env: append([]string{"EFMPI_PORT=70000"}, srunEnv...), err: "EFMPI_PORT=70000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			getenv := envOf(tc.env...)
			env, err := Detect(getenv)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ResolveCoordinator(env, tc.explicit, tc.dir, getenv)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestSlurmPortDeterministic(t *testing.T) {
	// 20000 + (7919·jobid + stepid) mod 12768, the same for every task of a
	// step, below the ephemeral ports (32768…); step 1 of job 4711 and step
	// 0 of job 4712 differ. Worked out by hand (Python).
	for _, tc := range []struct {
		job, step string
		want      int
	}{{"4711", "2", 31083}, {"4711", "1", 31082}, {"4712", "0", 26232}, {"12767", "1", 24850}, {"25536", "0", 20000}, {"123456", "", 22304}} {
		p, err := slurmPort(envOf("SLURM_JOB_ID="+tc.job, "SLURM_STEP_ID="+tc.step))
		if err != nil || p != tc.want {
			t.Errorf("job %s step %s: port %d, %v; want %d", tc.job, tc.step, p, err, tc.want)
		}
	}
}

func TestLoadSecret(t *testing.T) {
	const hexSecret = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	open := filepath.Join(dir, "open")
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{{good, 0o600}, {open, 0o644}} {
		if err := os.WriteFile(f.path, []byte(hexSecret+"\n"), f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(f.path, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	b, err := LoadSecret(envOf("EFMPI_SECRET=" + hexSecret))
	if err != nil || encodeSecret(b) != hexSecret {
		t.Errorf("EFMPI_SECRET: %x, %v", b, err)
	}
	b, err = LoadSecret(envOf("EFMPI_SECRET_FILE=" + good))
	if err != nil || encodeSecret(b) != hexSecret {
		t.Errorf("EFMPI_SECRET_FILE: %x, %v", b, err)
	}
	b, err = LoadSecret(envOf())
	if err != nil || b != nil {
		t.Errorf("no secret: %x, %v", b, err)
	}
	for _, tc := range []struct {
		env  string
		want string
	}{
		{"EFMPI_SECRET_FILE=" + open, "mode 0644"},
		{"EFMPI_SECRET_FILE=" + open, open},
		{"EFMPI_SECRET_FILE=" + filepath.Join(dir, "absent"), "absent"},
		{"EFMPI_SECRET=xyz" + hexSecret, "not hexadecimal"},
		{"EFMPI_SECRET=0011", "need at least 16"},
	} {
		_, err := LoadSecret(envOf(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", tc.env, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), hexSecret) {
			t.Errorf("%s: error reveals the secret: %v", tc.env, err)
		}
	}
}

func TestRendezvousFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, RendezvousPrefix+"job1")
	rec := rendezvous{Job: "job1", Addr: "head:4000", Secret: encodeSecret(make([]byte, 32))}
	if err := writeRendezvous(path, rec); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", st.Mode().Perm())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files in the directory, want only the rendezvous file", len(ents))
	}
	got, err := readRendezvous(path, "job1", time.Now().Add(-time.Minute))
	if err != nil || got != rec {
		t.Fatalf("read %+v, %v; want %+v", got, err, rec)
	}
	if _, err := readRendezvous(path, "job2", time.Time{}); !errors.Is(err, errStale) {
		t.Errorf("another job's file: err = %v, want errStale", err)
	}
	if _, err := readRendezvous(path, "job1", time.Now().Add(time.Hour)); !errors.Is(err, errStale) {
		t.Errorf("an old file: err = %v, want errStale", err)
	}
	os.Chmod(path, 0o644)
	if _, err := readRendezvous(path, "job1", time.Time{}); err == nil || !strings.Contains(err.Error(), "mode 0644") {
		t.Errorf("a file readable by others: err = %v", err)
	}
}

func TestWaitRendezvous(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, RendezvousPrefix+"j")
	// A stale file from an earlier job with the same key is waited out...
	if err := writeRendezvous(path, rendezvous{Job: "j", Addr: "old:1"}); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(path, old, old)
	go func() {
		time.Sleep(100 * time.Millisecond)
		writeRendezvous(path, rendezvous{Job: "j", Addr: "new:2"})
	}()
	// ...until rank 0 replaces it.
	rec, err := waitRendezvous(context.Background(), path, "j", time.Now().Add(-time.Minute), 5*time.Second)
	if err != nil || rec.Addr != "new:2" {
		t.Fatalf("got %+v, %v; want the new file", rec, err)
	}
	// An absent file times out with an error naming it.
	absent := filepath.Join(dir, RendezvousPrefix+"none")
	start := time.Now()
	_, err = waitRendezvous(context.Background(), absent, "none", time.Time{}, 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), absent) {
		t.Errorf("err = %v, want one naming %s", err, absent)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timeout of 200ms took %v", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := waitRendezvous(ctx, absent, "none", time.Time{}, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}
