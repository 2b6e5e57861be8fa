//go:build unix

package launch

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeHydra serves the PMI-1 commands pmiClient uses on conn, for one
// client, with a key-value space in memory, and records the commands.
func fakeHydra(conn net.Conn, log chan<- string) {
	defer conn.Close()
	kvs := map[string]string{}
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			close(log)
			return
		}
		kv := parsePMI(line)
		log <- kv["cmd"]
		var reply string
		switch kv["cmd"] {
		case "init":
			reply = "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0"
		case "get_my_kvsname":
			reply = "cmd=my_kvsname kvsname=kvs_42_0"
		case "put":
			kvs[kv["key"]] = kv["value"]
			reply = "cmd=put_result rc=0"
		case "barrier_in":
			reply = "cmd=barrier_out"
		case "get":
			if v, ok := kvs[kv["key"]]; ok {
				reply = "cmd=get_result rc=0 value=" + v
			} else {
				reply = "cmd=get_result rc=-1 msg=key_" + kv["key"] + "_not_found"
			}
		case "finalize":
			reply = "cmd=finalize_ack"
		default:
			reply = "cmd=unknown"
		}
		fmt.Fprintln(conn, reply)
	}
}

// pmiPair returns a descriptor for the client and starts fakeHydra on the
// other end of a socket pair.
func pmiPair(t *testing.T) (int, chan string) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fds[1]), "hydra")
	conn, err := net.FileConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	log := make(chan string, 100)
	go fakeHydra(conn, log)
	return fds[0], log
}

func TestPMIClient(t *testing.T) {
	fd, log := pmiPair(t)
	p, err := dialPMI(fd, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if p.kvs != "kvs_42_0" {
		t.Errorf("kvsname %q", p.kvs)
	}
	if err := p.put(pmiKeyAddr, "127.0.0.1:4000"); err != nil {
		t.Fatal(err)
	}
	if err := p.barrier(); err != nil {
		t.Fatal(err)
	}
	if v, err := p.get(pmiKeyAddr); err != nil || v != "127.0.0.1:4000" {
		t.Errorf("get: %q, %v", v, err)
	}
	if _, err := p.get("absent"); err == nil || !strings.Contains(err.Error(), "rc=-1 key_absent_not_found") {
		t.Errorf("get of an absent key: err = %v", err)
	}
	if err := p.finalize(); err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for c := range log {
		cmds = append(cmds, c)
	}
	want := "init get_my_kvsname put barrier_in get get finalize"
	if got := strings.Join(cmds, " "); got != want {
		t.Errorf("commands %q, want %q", got, want)
	}
}

func TestPMIClientNoServer(t *testing.T) {
	// A process manager that never answers: the timeout ends the wait.
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fds[1])
	start := time.Now()
	_, err = dialPMI(fds[0], 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "PMI cmd=init") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}
