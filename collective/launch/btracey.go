package launch

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/btracey"
)

// tagBtraceyAddrs is the message tag of the address exchange on the
// bootstrap world.
const tagBtraceyAddrs = 1<<30 + 17

// btracey joins btracey/mpi's Network (btracey.New), which needs
// the listening address of every rank up front. A TCP world is formed first
// (the same rendezvous as for "tcp"); every rank then picks a free port,
// the addresses are exchanged through rank 0, the bootstrap world is
// finalized and btracey's Network started. Picking a port by binding port 0
// and closing it leaves a short window in which another process could take
// it; btracey's Network cannot be handed a listener, and it is kept for
// comparison only.
func (j *joiner) btracey(ctx context.Context) (collective.Comm, error) {
	boot, err := j.tcp(ctx)
	if err != nil {
		return nil, err
	}
	addrs, err := j.exchangeAddrs(boot)
	boot.Finalize()
	if err != nil {
		return nil, err
	}
	b, err := btracey.New(addrs, j.env.Rank, j.secret, j.timeout)
	if err != nil {
		return nil, err
	}
	if err := b.Init(); err != nil {
		return nil, err
	}
	return b, nil
}

// exchangeAddrs picks this rank's btracey address and returns every rank's,
// by rank, sent through rank 0 of the bootstrap world.
func (j *joiner) exchangeAddrs(boot collective.Comm) ([]string, error) {
	host := "127.0.0.1"
	if !j.loopbackWorld() {
		host = j.host
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("launch: btracey: picking a port on %s: %w", host, err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	mine := net.JoinHostPort(host, port)

	n := j.env.Size
	if j.env.Rank != 0 {
		if err := boot.Send([]byte(mine), 0, tagBtraceyAddrs); err != nil {
			return nil, fmt.Errorf("launch: btracey: sending this rank's address: %w", err)
		}
		var all []byte
		if err := boot.Receive(&all, 0, tagBtraceyAddrs); err != nil {
			return nil, fmt.Errorf("launch: btracey: receiving the addresses: %w", err)
		}
		addrs := strings.Split(string(all), "\n")
		if len(addrs) != n || addrs[j.env.Rank] != mine {
			return nil, fmt.Errorf("launch: btracey: rank 0 sent %d addresses, want %d with %s at rank %d", len(addrs), n, mine, j.env.Rank)
		}
		return addrs, nil
	}
	addrs := make([]string, n)
	addrs[0] = mine
	for r := 1; r < n; r++ {
		var b []byte
		if err := boot.Receive(&b, r, tagBtraceyAddrs); err != nil {
			return nil, fmt.Errorf("launch: btracey: receiving rank %d's address: %w", r, err)
		}
		addrs[r] = string(b)
	}
	all := []byte(strings.Join(addrs, "\n"))
	for r := 1; r < n; r++ {
		if err := boot.Send(all, r, tagBtraceyAddrs); err != nil {
			return nil, fmt.Errorf("launch: btracey: sending the addresses to rank %d: %w", r, err)
		}
	}
	return addrs, nil
}

// loopbackWorld reports whether the ranks talk over loopback.
func (j *joiner) loopbackWorld() bool {
	switch j.coord.Method {
	case MethodSpawner, MethodSolo:
		return true
	case MethodExplicit, MethodSlurm:
		host, _, err := net.SplitHostPort(j.coord.Addr)
		return err == nil && isLoopback(host)
	}
	return j.env.AllLocal()
}
