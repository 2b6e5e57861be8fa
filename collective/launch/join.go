package launch

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/tcp"
)

// DefaultTimeout is the timeout Join uses when neither Options.Timeout nor
// EFMPI_TIMEOUT is set.
const DefaultTimeout = 30 * time.Second

// PMI key-value space keys rank 0 publishes under MPICH.
const (
	pmiKeyAddr   = "efmpi-addr"
	pmiKeySecret = "efmpi-secret"
)

// Options configures Join.
type Options struct {
	// Transport is "tcp" (the default when empty) or "btracey"; "inproc"
	// is not a multi-process transport and is refused.
	Transport string
	// Coordinator is rank 0's host:port (the -coordinator flag); it
	// overrides EFMPI_COORDINATOR and every other method.
	Coordinator string
	// SharedDir is a directory every rank can read, for the rendezvous file
	// (normally the output directory). EFMPI_RENDEZVOUS_DIR overrides it.
	SharedDir string
	// Timeout bounds the wait for rank 0's address and for connections, and
	// is the transport's lost-peer timeout. Zero means EFMPI_TIMEOUT (a Go
	// duration such as "3s", or seconds), else DefaultTimeout.
	Timeout time.Duration
	// Getenv reads the environment; os.Getenv if nil.
	Getenv func(string) string
	// Logf, if set, receives progress messages (never the secret).
	Logf func(format string, args ...any)
}

// Join makes this process its launcher's rank of a world of the chosen
// transport and returns the initialised Comm (the caller calls Finalize at
// the end) with the launch environment. It fails if the process was not
// started by a launcher (Env.Launcher "inproc"): such a process runs an
// in-process world (inproc.NewWorld) or starts one with Spawn.
// ctx bounds the wait for rank 0's address; connecting is bounded by the
// timeout.
func Join(ctx context.Context, opts Options) (collective.Comm, Env, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	env, err := Detect(getenv)
	if err != nil {
		return nil, Env{}, err
	}
	if env.Launcher == LauncherNone {
		return nil, env, fmt.Errorf("launch: not started by a launcher (no EFMPI_RANK, OMPI_COMM_WORLD_RANK, PMI_RANK, PMIX_RANK or Slurm task variables): use mpirun, mpiexec, srun or -ranks N with Spawn")
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		if timeout, err = envTimeout(getenv); err != nil {
			return nil, env, err
		}
	}
	j := &joiner{env: env, getenv: getenv, timeout: timeout, logf: opts.Logf, events: eventLogf(opts), start: time.Now()}
	if j.logf == nil {
		j.logf = func(string, ...any) {}
	}
	if j.secret, err = LoadSecret(getenv); err != nil {
		return nil, env, err
	}
	if env.Size == 1 {
		// A world of one: nobody to meet, so no coordinator is needed.
		j.coord = Coordinator{Method: MethodSolo}
	} else if j.coord, err = ResolveCoordinator(env, opts.Coordinator, opts.SharedDir, getenv); err != nil {
		return nil, env, err
	}
	j.host = advertiseHost(getenv)

	var c collective.Comm
	switch strings.ToLower(opts.Transport) {
	case "", "tcp":
		c, err = j.tcp(ctx)
	case "btracey":
		c, err = j.btracey(ctx)
	case "inproc":
		err = fmt.Errorf("launch: transport inproc runs every rank in one process: it cannot join a %s job (use tcp)", env.Launcher)
	default:
		err = fmt.Errorf("launch: unknown transport %q (want tcp or btracey)", opts.Transport)
	}
	if err != nil {
		return nil, env, fmt.Errorf("rank %d of %d (%s): %w", env.Rank, env.Size, env.Launcher, err)
	}
	return c, env, nil
}

// envTimeout parses EFMPI_TIMEOUT: a Go duration or a number of seconds.
func envTimeout(getenv func(string) string) (time.Duration, error) {
	s := getenv("EFMPI_TIMEOUT")
	if s == "" {
		return DefaultTimeout, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		secs, err2 := strconv.ParseFloat(s, 64)
		if err2 != nil {
			return 0, fmt.Errorf("launch: EFMPI_TIMEOUT=%q is neither a duration (\"30s\") nor seconds", s)
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d <= 0 {
		return 0, fmt.Errorf("launch: EFMPI_TIMEOUT=%q is not positive", s)
	}
	return d, nil
}

// joiner carries one Join call's state.
type joiner struct {
	env     Env
	coord   Coordinator
	getenv  func(string) string
	secret  []byte // from the environment; nil if none
	timeout time.Duration
	host    string
	logf    func(string, ...any)
	events  func(string, ...any) // refused connections, for the transport
	start   time.Time
}

// notBefore is the oldest modification time a rendezvous file of this job
// can have: rank 0 gives up connecting after the timeout, so a file written
// long before this rank started joining belongs to an earlier job.
func (j *joiner) notBefore() time.Time { return j.start.Add(-j.timeout - time.Minute) }

func (j *joiner) tcpConfig() tcp.Config {
	return tcp.Config{
		Rank:    j.env.Rank,
		Size:    j.env.Size,
		Secret:  j.secret,
		Timeout: j.timeout,
		Host:    j.host,
		Logf:    j.events,
	}
}

// needSecretFile reports whether, with the coordinator's address known in
// advance, the secret must travel through the rendezvous file.
func (j *joiner) needSecretFile() (bool, error) {
	if j.secret != nil {
		return false, nil
	}
	if j.coord.File == "" {
		return false, fmt.Errorf("launch: no secret: set EFMPI_SECRET or EFMPI_SECRET_FILE on every rank, or give a shared directory and a job key for rank 0 to publish one")
	}
	return true, nil
}

func (j *joiner) tcp(ctx context.Context) (collective.Comm, error) {
	if j.coord.Method == MethodSolo {
		return j.tcpSolo()
	}
	if j.env.Rank == 0 {
		return j.tcpRoot(ctx)
	}
	addr, err := j.coordinatorAddr(ctx)
	if err != nil {
		return nil, err
	}
	cfg := j.tcpConfig()
	cfg.Coordinator = addr
	t, err := tcp.New(cfg)
	if err != nil {
		return nil, err
	}
	j.logf("rank %d: joining rank 0 at %s (%s)", j.env.Rank, addr, j.coord.Method)
	if err := t.Init(); err != nil {
		t.Finalize()
		return nil, err
	}
	return t, nil
}

// tcpSolo is a world of one rank: no listener, no peers.
func (j *joiner) tcpSolo() (collective.Comm, error) {
	if j.secret == nil {
		s, err := newSecret() // required by tcp.New, though nobody checks it
		if err != nil {
			return nil, err
		}
		j.secret = s
	}
	t, err := tcp.New(j.tcpConfig())
	if err != nil {
		return nil, err
	}
	if err := t.Init(); err != nil {
		t.Finalize()
		return nil, err
	}
	return t, nil
}

// tcpRoot binds rank 0, publishes its address (and a generated secret), and
// waits for the other ranks.
func (j *joiner) tcpRoot(ctx context.Context) (collective.Comm, error) {
	generated := false
	switch j.coord.Method {
	case MethodExplicit, MethodSlurm:
		need, err := j.needSecretFile()
		if err != nil {
			return nil, err
		}
		generated = need
	case MethodSpawner:
		if j.secret == nil {
			return nil, fmt.Errorf("launch: EFMPI_ADDR_FD without EFMPI_SECRET: not started by Spawn")
		}
	default:
		generated = j.secret == nil
	}
	if generated {
		s, err := newSecret()
		if err != nil {
			return nil, err
		}
		j.secret = s
	}
	cfg := j.tcpConfig()
	cfg.Bind = j.coord.Bind
	t, err := tcp.New(cfg)
	if err != nil {
		return nil, err
	}
	addr, err := j.published(t.Addr())
	if err != nil {
		t.Finalize()
		return nil, err
	}
	secretHex := ""
	if generated {
		secretHex = encodeSecret(j.secret)
	}
	var file string
	switch j.coord.Method {
	case MethodSpawner:
		err = writeAddrFD(j.coord.AddrFD, addr)
	case MethodPMI:
		err = j.pmiPublish(addr, secretHex)
	case MethodFile:
		file = j.coord.File
	case MethodExplicit, MethodSlurm:
		if generated {
			file = j.coord.File
		}
	}
	if err == nil && file != "" {
		err = writeRendezvous(file, rendezvous{Job: j.coord.JobKey, Addr: addr, Secret: secretHex})
		if err == nil {
			// Every rank has read the file once Init returns; a failed job
			// leaves nothing for a later one either.
			defer os.Remove(file)
		}
	}
	if err != nil {
		t.Finalize()
		return nil, err
	}
	j.logf("rank 0: listening on %s, published %s (%s)", t.Addr(), addr, j.coord.Method)
	if err := t.Init(); err != nil {
		t.Finalize()
		return nil, err
	}
	return t, nil
}

// published is the address the other ranks dial: the coordinator's for a
// fixed port, else the advertised host with the port rank 0 bound.
func (j *joiner) published(bound string) (string, error) {
	switch j.coord.Method {
	case MethodExplicit, MethodSlurm:
		return j.coord.Addr, nil
	}
	_, port, err := net.SplitHostPort(bound)
	if err != nil {
		return "", fmt.Errorf("launch: rank 0's listening address %q: %w", bound, err)
	}
	return net.JoinHostPort(j.coord.Advertise, port), nil
}

// coordinatorAddr learns rank 0's address (and, when rank 0 generated it,
// the secret) on a rank other than 0.
func (j *joiner) coordinatorAddr(ctx context.Context) (string, error) {
	switch j.coord.Method {
	case MethodExplicit, MethodSlurm:
		need, err := j.needSecretFile()
		if err != nil {
			return "", err
		}
		if need {
			rec, err := waitRendezvous(ctx, j.coord.File, j.coord.JobKey, j.notBefore(), j.timeout)
			if err != nil {
				return "", err
			}
			if err := j.takeSecret(rec.Secret, j.coord.File); err != nil {
				return "", err
			}
		}
		return j.coord.Addr, nil
	case MethodPMI:
		return j.pmiLookup()
	case MethodFile:
		rec, err := waitRendezvous(ctx, j.coord.File, j.coord.JobKey, j.notBefore(), j.timeout)
		if err != nil {
			return "", err
		}
		if err := j.takeSecret(rec.Secret, j.coord.File); err != nil {
			return "", err
		}
		return rec.Addr, nil
	}
	return "", fmt.Errorf("launch: rank %d cannot use rendezvous method %s", j.env.Rank, j.coord.Method)
}

// takeSecret adopts the secret rank 0 published, unless the environment
// gave one (then rank 0 published none).
func (j *joiner) takeSecret(hexSecret, where string) error {
	if hexSecret == "" {
		if j.secret == nil {
			return fmt.Errorf("launch: rank 0 published no secret in %s and none is set here (EFMPI_SECRET, EFMPI_SECRET_FILE): set it on every rank or on none", where)
		}
		return nil
	}
	s, err := decodeSecret(hexSecret)
	if err != nil {
		return fmt.Errorf("launch: secret in %s: %w", where, err)
	}
	j.secret = s
	return nil
}

// writeAddrFD reports rank 0's address to Spawn on the inherited pipe.
func writeAddrFD(fd int, addr string) error {
	f := os.NewFile(uintptr(fd), "EFMPI_ADDR_FD")
	if f == nil {
		return fmt.Errorf("launch: EFMPI_ADDR_FD=%d is not a descriptor", fd)
	}
	defer f.Close()
	if _, err := f.WriteString(addr + "\n"); err != nil {
		return fmt.Errorf("launch: reporting the address on EFMPI_ADDR_FD=%d: %w", fd, err)
	}
	return nil
}

func (j *joiner) pmi() (*pmiClient, error) {
	fd, err := needInt(j.getenv, "PMI_FD")
	if err != nil {
		return nil, err
	}
	return dialPMI(fd, j.timeout)
}

// pmiPublish puts rank 0's address (and a generated secret) into the PMI
// key-value space, then meets the other ranks at the PMI barrier.
func (j *joiner) pmiPublish(addr, secretHex string) error {
	p, err := j.pmi()
	if err != nil {
		return err
	}
	err = p.put(pmiKeyAddr, addr)
	if err == nil && secretHex != "" {
		err = p.put(pmiKeySecret, secretHex)
	}
	if err == nil {
		err = p.barrier()
	}
	if err != nil {
		p.close()
		return err
	}
	return p.finalize()
}

// pmiLookup meets rank 0 at the PMI barrier and reads what it published.
func (j *joiner) pmiLookup() (string, error) {
	p, err := j.pmi()
	if err != nil {
		return "", err
	}
	fail := func(err error) (string, error) { p.close(); return "", err }
	if err := p.barrier(); err != nil {
		return fail(err)
	}
	addr, err := p.get(pmiKeyAddr)
	if err != nil {
		return fail(err)
	}
	if j.secret == nil {
		s, err := p.get(pmiKeySecret)
		if err != nil {
			return fail(err)
		}
		if err := j.takeSecret(s, "the PMI key-value space"); err != nil {
			return fail(err)
		}
	}
	if err := p.finalize(); err != nil {
		return "", err
	}
	return addr, nil
}
