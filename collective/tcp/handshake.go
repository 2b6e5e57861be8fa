package tcp

import (
	"bufio"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/efmpi/efmpi/collective/wire"
)

// Connection set-up. Rank 0 challenges, the joining rank answers and
// challenges back, rank 0 answers:
//
//	rank 0 → r   hello   nonce0 (32 bytes), size (uint32)
//	r → rank 0   join    rank, size (uint32 each), nonce1 (32 bytes),
//	                     HMAC-SHA256(secret, "efmpi join v1" ‖ nonce0 ‖ nonce1 ‖ rank ‖ size ‖ host),
//	                     host length (1 byte), host
//	rank 0 → r   welcome HMAC-SHA256(secret, "efmpi welcome v1" ‖ nonce1 ‖ nonce0 ‖ rank ‖ size ‖ host0),
//	                     host length (1 byte), host0
//	             or refuse (reason text) and close
//
// The secret itself never crosses the wire and never appears in a log.

const (
	joinDomain    = "efmpi join v1\x00"
	welcomeDomain = "efmpi welcome v1\x00"
)

// errRefused marks handshake failures that retrying will not cure.
var errRefused = errors.New("refused")

func computeMAC(secret []byte, domain string, a, b []byte, rank, size int, host string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(domain))
	h.Write(a)
	h.Write(b)
	var rs [8]byte
	binary.LittleEndian.PutUint32(rs[:], uint32(rank))
	binary.LittleEndian.PutUint32(rs[4:], uint32(size))
	h.Write(rs[:])
	h.Write([]byte(host))
	return h.Sum(nil)
}

// readControl reads one control frame of one of the wanted kinds.
func readControl(br *bufio.Reader, want ...byte) (byte, []byte, error) {
	var hb [wire.HeaderSize]byte
	if _, err := io.ReadFull(br, hb[:]); err != nil {
		return 0, nil, err
	}
	h, err := wire.ParseHeader(hb[:])
	if err != nil {
		return 0, nil, err
	}
	ok := false
	for _, k := range want {
		ok = ok || h.Kind == k
	}
	if !ok {
		return 0, nil, fmt.Errorf("unexpected %s frame during connection set-up", wire.KindName(h.Kind))
	}
	p := make([]byte, h.N) // h.n ≤ maxControlPayload for control kinds
	if _, err := io.ReadFull(br, p); err != nil {
		return 0, nil, err
	}
	return h.Kind, p, nil
}

func writeControl(conn net.Conn, kind byte, payload []byte) error {
	_, err := conn.Write(wire.AppendControl(nil, kind, payload))
	return err
}

func randomNonce() ([]byte, error) {
	b := make([]byte, wire.NonceSize)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("random nonce: %w", err)
	}
	return b, nil
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// claimer hands out joining ranks once each.
type claimer interface {
	claim(rank int) bool
	release(rank int)
}

// serverHandshake authenticates a connection accepted by rank 0. On success
// the connection's rank has been claimed. The returned join message (when
// parsed) describes what the other side claimed, for logging refusals.
func (t *Comm) serverHandshake(conn *net.TCPConn, deadline time.Time, cl claimer) (*peer, wire.Join, error) {
	var j wire.Join
	conn.SetDeadline(earlier(deadline, time.Now().Add(t.timeout)))
	br := bufio.NewReaderSize(conn, readBufSize)
	nonce0, err := randomNonce()
	if err != nil {
		return nil, j, err
	}
	if err := writeControl(conn, wire.KindHello, wire.AppendHello(nil, nonce0, t.cfg.Size)); err != nil {
		return nil, j, fmt.Errorf("sending challenge: %w", err)
	}
	_, p, err := readControl(br, wire.KindJoin)
	if err != nil {
		return nil, j, fmt.Errorf("reading join: %w", err)
	}
	if j, err = wire.ParseJoin(p); err != nil {
		return nil, j, err
	}
	j.Host = wire.CleanHost(j.Host)
	refuse := func(reason string) (*peer, wire.Join, error) {
		writeControl(conn, wire.KindRefuse, []byte(reason))
		return nil, j, errors.New(reason)
	}
	want := computeMAC(t.cfg.Secret, joinDomain, nonce0, j.Nonce, j.Rank, j.Size, string(p[8+wire.NonceSize+wire.MACSize+1:]))
	if !hmac.Equal(want, j.MAC) {
		return refuse("authentication failed (wrong or missing job secret)")
	}
	if j.Size != t.cfg.Size {
		return refuse(fmt.Sprintf("world size mismatch: joining rank says %d, rank 0 has %d", j.Size, t.cfg.Size))
	}
	if j.Rank < 1 || j.Rank >= t.cfg.Size {
		return refuse(fmt.Sprintf("rank %d out of range [1, %d)", j.Rank, t.cfg.Size))
	}
	if !cl.claim(j.Rank) {
		return refuse(fmt.Sprintf("duplicate rank %d (already joined)", j.Rank))
	}
	mac := computeMAC(t.cfg.Secret, welcomeDomain, j.Nonce, nonce0, j.Rank, j.Size, t.host)
	if err := writeControl(conn, wire.KindWelcome, wire.AppendWelcome(nil, mac, t.host)); err != nil {
		cl.release(j.Rank)
		return nil, j, fmt.Errorf("sending welcome: %w", err)
	}
	conn.SetDeadline(time.Time{})
	return t.newPeer(conn, br, j.Rank, j.Host), j, nil
}

// clientHandshake joins rank 0 over conn. Errors wrapping errRefused are
// final; others may be retried.
func (t *Comm) clientHandshake(conn *net.TCPConn, deadline time.Time) (*peer, error) {
	conn.SetDeadline(earlier(deadline, time.Now().Add(t.timeout)))
	br := bufio.NewReaderSize(conn, readBufSize)
	kind, p, err := readControl(br, wire.KindHello, wire.KindRefuse)
	if err != nil {
		return nil, fmt.Errorf("reading challenge: %w", err)
	}
	if kind == wire.KindRefuse {
		return nil, fmt.Errorf("%w: %s", errRefused, wire.CleanHost(string(p)))
	}
	nonce0, size, err := wire.ParseHello(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errRefused, err)
	}
	if size != t.cfg.Size {
		return nil, fmt.Errorf("%w: rank 0 runs a world of %d ranks, this rank expects %d", errRefused, size, t.cfg.Size)
	}
	nonce1, err := randomNonce()
	if err != nil {
		return nil, err
	}
	j := wire.Join{Rank: t.cfg.Rank, Size: t.cfg.Size, Nonce: nonce1, Host: t.host}
	j.MAC = computeMAC(t.cfg.Secret, joinDomain, nonce0, nonce1, j.Rank, j.Size, j.Host)
	if err := writeControl(conn, wire.KindJoin, wire.AppendJoin(nil, j)); err != nil {
		return nil, fmt.Errorf("sending join: %w", err)
	}
	kind, p, err = readControl(br, wire.KindWelcome, wire.KindRefuse)
	if err != nil {
		return nil, fmt.Errorf("reading welcome: %w", err)
	}
	if kind == wire.KindRefuse {
		return nil, fmt.Errorf("%w by rank 0: %s", errRefused, wire.CleanHost(string(p)))
	}
	mac, host0, err := wire.ParseWelcome(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errRefused, err)
	}
	want := computeMAC(t.cfg.Secret, welcomeDomain, nonce1, nonce0, j.Rank, j.Size, host0)
	if !hmac.Equal(want, mac) {
		return nil, fmt.Errorf("%w: the coordinator failed authentication (it does not hold the job secret)", errRefused)
	}
	conn.SetDeadline(time.Time{})
	return t.newPeer(conn, br, 0, wire.CleanHost(host0)), nil
}
