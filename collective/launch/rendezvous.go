package launch

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Methods by which the other ranks learn rank 0's address (Coordinator.Method).
const (
	MethodExplicit = "explicit" // Options.Coordinator or EFMPI_COORDINATOR
	MethodSpawner  = "spawner"  // rank 0 of Spawn reports its address on EFMPI_ADDR_FD
	MethodSlurm    = "slurm"    // first host of the Slurm node list, port from the job id
	MethodPMI      = "pmi"      // MPICH Hydra's key-value space over PMI_FD
	MethodFile     = "file"     // a rendezvous file in a shared directory
	MethodSolo     = "solo"     // a world of one rank: nobody to meet (set by Join)
)

// RendezvousPrefix begins the name of every rendezvous file.
const RendezvousPrefix = ".efmpi-rendezvous-"

// Coordinator says where rank 0 listens and how the other ranks learn it.
type Coordinator struct {
	// Method is one of the Method* constants.
	Method string
	// Addr is rank 0's host:port when it is known before rank 0 starts
	// (MethodExplicit, MethodSlurm); empty when rank 0 publishes it.
	Addr string
	// Bind is the address rank 0 listens on: a fixed port for
	// MethodExplicit and MethodSlurm, port 0 (ephemeral) otherwise; a
	// loopback address when every rank runs on this host.
	Bind string
	// Advertise is the host rank 0 publishes with its bound port
	// (MethodSpawner, MethodPMI, MethodFile).
	Advertise string
	// File is the rendezvous file: rank 0 writes the address and, when it
	// generated one, the secret there. It is always set for MethodFile, and
	// for MethodExplicit and MethodSlurm when a shared directory and a job
	// key are known (used only if no secret is set in the environment).
	File string
	// JobKey tells this job from others sharing the directory.
	JobKey string
	// AddrFD is the inherited descriptor rank 0 writes its address to
	// (MethodSpawner).
	AddrFD int
}

// ResolveCoordinator decides how rank 0 is found, from an explicit address
// (the -coordinator option; EFMPI_COORDINATOR if empty), the launcher's
// environment env, and a directory shared by the ranks (EFMPI_RENDEZVOUS_DIR
// overrides sharedDir). See the package documentation for the order. getenv
// is os.Getenv if nil. It does no network or file I/O apart from reading the
// host name.
func ResolveCoordinator(env Env, explicit, sharedDir string, getenv func(string) string) (Coordinator, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var c Coordinator
	c.JobKey = sanitizeKey(firstSet(getenv, "EFMPI_JOB_KEY"))
	if c.JobKey == "" {
		c.JobKey = sanitizeKey(env.JobID)
	}
	if d := getenv("EFMPI_RENDEZVOUS_DIR"); d != "" {
		sharedDir = d
	}
	if sharedDir != "" && c.JobKey != "" {
		c.File = filepath.Join(sharedDir, RendezvousPrefix+c.JobKey)
	}
	if explicit == "" {
		explicit = getenv("EFMPI_COORDINATOR")
	}

	switch {
	case explicit != "":
		host, port, err := splitFixedPort(explicit)
		if err != nil {
			return Coordinator{}, fmt.Errorf("launch: coordinator %q: %w", explicit, err)
		}
		c.Method, c.Addr = MethodExplicit, explicit
		c.Bind = net.JoinHostPort("", port)
		if isLoopback(host) {
			c.Bind = explicit
		}
		return c, nil

	case env.Launcher == LauncherSpawned && getenv("EFMPI_ADDR_FD") != "":
		fd, err := needInt(getenv, "EFMPI_ADDR_FD")
		if err != nil {
			return Coordinator{}, err
		}
		if fd < 3 {
			return Coordinator{}, fmt.Errorf("launch: EFMPI_ADDR_FD=%d is not an inherited descriptor", fd)
		}
		c.Method, c.AddrFD = MethodSpawner, fd
		c.Bind, c.Advertise = "127.0.0.1:0", "127.0.0.1"
		return c, nil

	case env.Launcher == LauncherSpawned:
		return Coordinator{}, fmt.Errorf("launch: EFMPI_RANK is set but neither EFMPI_COORDINATOR nor EFMPI_ADDR_FD: start the ranks with Spawn or give the coordinator")

	case env.Launcher == LauncherSrun:
		if env.NodeList == "" {
			return Coordinator{}, fmt.Errorf("launch: srun task without SLURM_STEP_NODELIST, SLURM_JOB_NODELIST or SLURM_NODELIST: set EFMPI_COORDINATOR")
		}
		hosts, err := ExpandHostlist(env.NodeList)
		if err != nil {
			return Coordinator{}, fmt.Errorf("launch: Slurm node list: %w", err)
		}
		port, err := slurmPort(getenv)
		if err != nil {
			return Coordinator{}, err
		}
		if env.Rank == 0 {
			if me := getenv("SLURMD_NODENAME"); me != "" && shortName(me) != shortName(hosts[0]) {
				return Coordinator{}, fmt.Errorf("launch: rank 0 runs on %s but the first node of the Slurm node list %q is %s: use a block task distribution or set EFMPI_COORDINATOR", me, env.NodeList, hosts[0])
			}
		}
		c.Method = MethodSlurm
		c.Addr = net.JoinHostPort(hosts[0], strconv.Itoa(port))
		c.Bind = net.JoinHostPort("", strconv.Itoa(port))
		if env.AllLocal() {
			c.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			c.Bind = c.Addr
		}
		return c, nil
	}

	c.Bind, c.Advertise = net.JoinHostPort("", "0"), advertiseHost(getenv)
	if env.AllLocal() {
		c.Bind, c.Advertise = "127.0.0.1:0", "127.0.0.1"
	}
	if env.Launcher == LauncherMPICH && getenv("PMI_FD") != "" && getenv("MPI_LOCALNRANKS") != "" {
		// Hydra (MPI_LOCALNRANKS is its mark) serves PMI-1 on PMI_FD.
		c.Method = MethodPMI
		return c, nil
	}
	if sharedDir == "" {
		return Coordinator{}, fmt.Errorf("launch: %s job: no directory for the rendezvous file: set EFMPI_COORDINATOR=host:port, EFMPI_RENDEZVOUS_DIR, or an output directory", env.Launcher)
	}
	if c.JobKey == "" {
		return Coordinator{}, fmt.Errorf("launch: %s job: no job id in the environment to name the rendezvous file in %s: set EFMPI_JOB_KEY (unique per job) or EFMPI_COORDINATOR", env.Launcher, sharedDir)
	}
	c.Method = MethodFile
	return c, nil
}

// splitFixedPort splits host:port and rejects port 0 and service names.
func splitFixedPort(addr string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(addr)
	if err != nil {
		return "", "", err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return "", "", fmt.Errorf("port %q is not in 1..65535", port)
	}
	if host == "" {
		return "", "", fmt.Errorf("no host")
	}
	return host, port, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func shortName(h string) string {
	h, _, _ = strings.Cut(h, ".")
	return strings.ToLower(h)
}

// slurmPort is EFMPI_PORT, else 20000 + (7919·SLURM_JOB_ID + SLURM_STEP_ID)
// mod slurmPorts, so that every task of a step derives the same port and
// concurrent steps on one node usually differ. The ports, 20000…32767, lie
// below Linux's default ephemeral range (32768…60999): a port that outgoing
// connections may take as their local end could be busy when rank 0 binds.
func slurmPort(getenv func(string) string) (int, error) {
	if getenv("EFMPI_PORT") != "" {
		p, err := needInt(getenv, "EFMPI_PORT")
		if err != nil {
			return 0, err
		}
		if p < 1 || p > 65535 {
			return 0, fmt.Errorf("launch: EFMPI_PORT=%d is not in 1..65535", p)
		}
		return p, nil
	}
	jobVar := "SLURM_JOB_ID"
	if getenv(jobVar) == "" {
		jobVar = "SLURM_JOBID"
	}
	job, err := needInt(getenv, jobVar)
	if err != nil {
		return 0, fmt.Errorf("%w (needed to derive the coordinator port; or set EFMPI_PORT)", err)
	}
	stepVar := "SLURM_STEP_ID"
	if getenv(stepVar) == "" {
		stepVar = "SLURM_STEPID"
	}
	step, err := optInt(getenv, stepVar)
	if err != nil {
		return 0, err
	}
	if job < 0 {
		return 0, fmt.Errorf("launch: %s=%d is negative", jobVar, job)
	}
	// 7919 is prime to slurmPorts (2⁵·3·7·19), so for a fixed step the jobs'
	// ports are a permutation, and step s+1 of job J does not land on step s
	// of job J+1.
	return 20000 + ((job%slurmPorts)*7919+step%slurmPorts)%slurmPorts, nil
}

// slurmPorts is the number of ports slurmPort derives: 20000…32767.
const slurmPorts = 32768 - 20000

// advertiseHost is the name other hosts reach this one by: EFMPI_HOST, else
// the host name.
func advertiseHost(getenv func(string) string) string {
	if h := getenv("EFMPI_HOST"); h != "" {
		return h
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

// sanitizeKey keeps a job key usable in a file name: letters, digits, '.',
// '_' and '-'; anything else becomes '_'.
func sanitizeKey(s string) string {
	if s == "" {
		return ""
	}
	b := []byte(s)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) > 128 {
		b = b[:128]
	}
	return string(b)
}

// rendezvous is the content of a rendezvous file.
type rendezvous struct {
	Job    string `json:"job"`
	Addr   string `json:"addr"`
	Secret string `json:"secret,omitempty"` // hex; empty when the ranks have it from the environment
}

// writeRendezvous writes rec to path atomically: a temporary file of mode
// 0600 in the same directory, fsync, rename, fsync of the directory.
func writeRendezvous(path string, rec rendezvous) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("launch: rendezvous file %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("launch: rendezvous file: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("launch: rendezvous file %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		return fail(err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("launch: rendezvous file %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("launch: rendezvous file %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: some file systems cannot sync a directory
		d.Close()
	}
	return nil
}

// readRendezvous reads and checks a rendezvous file. It returns an error
// wrapping fs.ErrNotExist while the file is absent, and errStale for a file
// of another job or one modified before notBefore.
func readRendezvous(path, job string, notBefore time.Time) (rendezvous, error) {
	st, err := os.Stat(path)
	if err != nil {
		return rendezvous{}, err
	}
	if st.ModTime().Before(notBefore) {
		return rendezvous{}, fmt.Errorf("%w: %s was written at %s, before this job", errStale, path, st.ModTime().Format(time.RFC3339))
	}
	data, err := readPrivateFile(path)
	if err != nil {
		return rendezvous{}, err
	}
	var rec rendezvous
	if err := json.Unmarshal(data, &rec); err != nil {
		return rendezvous{}, fmt.Errorf("rendezvous file %s: %w", path, err)
	}
	if rec.Job != job {
		return rendezvous{}, fmt.Errorf("%w: %s belongs to job %q, not %q", errStale, path, rec.Job, job)
	}
	if _, _, err := splitFixedPort(rec.Addr); err != nil {
		return rendezvous{}, fmt.Errorf("rendezvous file %s: address %q: %w", path, rec.Addr, err)
	}
	if rec.Secret != "" {
		if _, err := decodeSecret(rec.Secret); err != nil {
			return rendezvous{}, fmt.Errorf("rendezvous file %s: secret: %w", path, err)
		}
	}
	return rec, nil
}

var errStale = errors.New("stale rendezvous file")

// waitRendezvous polls for the rendezvous file until it holds a valid record
// for job, ctx ends, or timeout passes. Absent and stale files are waited
// out (rank 0 replaces a stale file when it starts); any other error ends the
// wait.
func waitRendezvous(ctx context.Context, path, job string, notBefore time.Time, timeout time.Duration) (rendezvous, error) {
	deadline := time.Now().Add(timeout)
	delay := 20 * time.Millisecond
	var last error
	for {
		rec, err := readRendezvous(path, job, notBefore)
		if err == nil {
			return rec, nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errStale) {
			return rendezvous{}, fmt.Errorf("launch: %w", err)
		}
		last = err
		if !time.Now().Before(deadline) {
			if errors.Is(last, errStale) {
				return rendezvous{}, fmt.Errorf("launch: no rendezvous file from rank 0 after %v (%v)", timeout, last)
			}
			return rendezvous{}, fmt.Errorf("launch: no rendezvous file %s from rank 0 after %v: is the directory shared by every rank? (or set EFMPI_COORDINATOR, EFMPI_RENDEZVOUS_DIR)", path, timeout)
		}
		t := time.NewTimer(min(delay, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return rendezvous{}, fmt.Errorf("launch: waiting for rendezvous file %s: %w", path, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

// encodeSecret is the hex form of a secret, for files and the environment.
func encodeSecret(b []byte) string { return hex.EncodeToString(b) }
