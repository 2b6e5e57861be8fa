package launch

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// pmiClient speaks the PMI-1 wire protocol of MPICH's Hydra process manager
// on the descriptor it passes in PMI_FD: newline-terminated "cmd=… key=value"
// lines. Only what the rendezvous needs is implemented: init, the job's
// key-value space name, put, barrier, get and finalize.
type pmiClient struct {
	conn    net.Conn
	r       *bufio.Reader
	kvs     string
	timeout time.Duration
}

// dialPMI opens the PMI connection on descriptor fd and initialises it.
func dialPMI(fd int, timeout time.Duration) (*pmiClient, error) {
	f := os.NewFile(uintptr(fd), "PMI_FD")
	if f == nil {
		return nil, fmt.Errorf("launch: PMI_FD=%d is not a descriptor", fd)
	}
	conn, err := net.FileConn(f) // a duplicate that supports deadlines
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("launch: PMI_FD=%d: %w", fd, err)
	}
	p := &pmiClient{conn: conn, r: bufio.NewReader(conn), timeout: timeout}
	if _, err := p.call("cmd=init pmi_version=1 pmi_subversion=1", "response_to_init"); err != nil {
		conn.Close()
		return nil, err
	}
	kv, err := p.call("cmd=get_my_kvsname", "my_kvsname")
	if err != nil {
		conn.Close()
		return nil, err
	}
	if p.kvs = kv["kvsname"]; p.kvs == "" {
		conn.Close()
		return nil, fmt.Errorf("launch: PMI: empty key-value space name")
	}
	return p, nil
}

// call sends one command and reads the reply, which must be cmd=want with
// rc=0 if it carries rc.
func (p *pmiClient) call(line, want string) (map[string]string, error) {
	cmd, _, _ := strings.Cut(line, " ")
	if err := p.conn.SetDeadline(time.Now().Add(p.timeout)); err != nil {
		return nil, fmt.Errorf("launch: PMI %s: %w", cmd, err)
	}
	if _, err := p.conn.Write([]byte(line + "\n")); err != nil {
		return nil, fmt.Errorf("launch: PMI %s: %w", cmd, err)
	}
	reply, err := p.r.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("launch: PMI %s: no reply from the process manager: %w", cmd, err)
	}
	kv := parsePMI(reply)
	if kv["cmd"] != want {
		return nil, fmt.Errorf("launch: PMI %s: unexpected reply %q", cmd, strings.TrimSpace(reply))
	}
	if rc, ok := kv["rc"]; ok && rc != "0" {
		return nil, fmt.Errorf("launch: PMI %s: rc=%s %s", cmd, rc, kv["msg"])
	}
	return kv, nil
}

// parsePMI splits "cmd=x a=1 b=2\n" into its key=value pairs.
func parsePMI(line string) map[string]string {
	kv := make(map[string]string)
	for _, f := range strings.Fields(line) {
		k, v, _ := strings.Cut(f, "=")
		kv[k] = v
	}
	return kv
}

func (p *pmiClient) put(key, value string) error {
	_, err := p.call(fmt.Sprintf("cmd=put kvsname=%s key=%s value=%s", p.kvs, key, value), "put_result")
	return err
}

func (p *pmiClient) get(key string) (string, error) {
	kv, err := p.call(fmt.Sprintf("cmd=get kvsname=%s key=%s", p.kvs, key), "get_result")
	if err != nil {
		return "", err
	}
	return kv["value"], nil
}

// barrier returns when every rank has entered it; puts before it are visible
// to gets after it.
func (p *pmiClient) barrier() error {
	_, err := p.call("cmd=barrier_in", "barrier_out")
	return err
}

// finalize ends the PMI session and closes the connection.
func (p *pmiClient) finalize() error {
	_, err := p.call("cmd=finalize", "finalize_ack")
	if cerr := p.conn.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("launch: PMI: %w", cerr)
	}
	return err
}

// close drops the connection without finalizing (after an error).
func (p *pmiClient) close() { p.conn.Close() }
