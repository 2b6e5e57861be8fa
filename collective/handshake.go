package collective

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
	"strings"
	"time"
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
	nonceSize = 32
	macSize   = sha256.Size
	maxHost   = 255
)

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

// cleanHost keeps a host name printable and short.
func cleanHost(h string) string {
	if len(h) > maxHost {
		h = h[:maxHost]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r > 0x7e {
			return '?'
		}
		return r
	}, h)
}

type joinMsg struct {
	rank, size int
	nonce      []byte
	mac        []byte
	host       string
}

func parseHello(p []byte) (nonce []byte, size int, err error) {
	if len(p) != nonceSize+4 {
		return nil, 0, fmt.Errorf("hello payload is %d bytes, want %d", len(p), nonceSize+4)
	}
	return p[:nonceSize], int(binary.LittleEndian.Uint32(p[nonceSize:])), nil
}

func appendHello(dst, nonce []byte, size int) []byte {
	dst = append(dst, nonce...)
	return binary.LittleEndian.AppendUint32(dst, uint32(size))
}

func parseJoin(p []byte) (joinMsg, error) {
	const fixed = 8 + nonceSize + macSize + 1
	if len(p) < fixed {
		return joinMsg{}, fmt.Errorf("join payload truncated: %d bytes", len(p))
	}
	hl := int(p[fixed-1])
	if len(p) != fixed+hl {
		return joinMsg{}, fmt.Errorf("join payload is %d bytes, host length %d needs %d", len(p), hl, fixed+hl)
	}
	return joinMsg{
		rank:  int(binary.LittleEndian.Uint32(p)),
		size:  int(binary.LittleEndian.Uint32(p[4:])),
		nonce: p[8 : 8+nonceSize],
		mac:   p[8+nonceSize : 8+nonceSize+macSize],
		host:  string(p[fixed:]),
	}, nil
}

func appendJoin(dst []byte, j joinMsg) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(j.rank))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(j.size))
	dst = append(dst, j.nonce...)
	dst = append(dst, j.mac...)
	dst = append(dst, byte(len(j.host)))
	return append(dst, j.host...)
}

func parseWelcome(p []byte) (mac []byte, host string, err error) {
	const fixed = macSize + 1
	if len(p) < fixed {
		return nil, "", fmt.Errorf("welcome payload truncated: %d bytes", len(p))
	}
	hl := int(p[macSize])
	if len(p) != fixed+hl {
		return nil, "", fmt.Errorf("welcome payload is %d bytes, host length %d needs %d", len(p), hl, fixed+hl)
	}
	return p[:macSize], string(p[fixed:]), nil
}

func appendWelcome(dst, mac []byte, host string) []byte {
	dst = append(dst, mac...)
	dst = append(dst, byte(len(host)))
	return append(dst, host...)
}

// Abort payload: lost rank (uint32), host length (1 byte), host, cause text.

func appendAbort(dst []byte, e *RankLostError) []byte {
	host := cleanHost(e.Host)
	cause := e.Cause.Error()
	dst = binary.LittleEndian.AppendUint32(dst, uint32(e.Rank))
	dst = append(dst, byte(len(host)))
	dst = append(dst, host...)
	room := maxControlPayload - 5 - len(host)
	if len(cause) > room {
		cause = cause[:room]
	}
	return append(dst, cause...)
}

func parseAbort(p []byte) (rank int, host, cause string, err error) {
	if len(p) < 5 {
		return 0, "", "", fmt.Errorf("abort payload truncated: %d bytes", len(p))
	}
	hl := int(p[4])
	if len(p) < 5+hl {
		return 0, "", "", fmt.Errorf("abort payload is %d bytes, host length %d needs at least %d", len(p), hl, 5+hl)
	}
	r := binary.LittleEndian.Uint32(p)
	if r > 1<<24 {
		return 0, "", "", fmt.Errorf("abort names rank %d", r)
	}
	return int(r), cleanHost(string(p[5 : 5+hl])), strings.ToValidUTF8(string(p[5+hl:]), "?"), nil
}

// readControl reads one control frame of one of the wanted kinds.
func readControl(br *bufio.Reader, want ...byte) (byte, []byte, error) {
	var hb [HeaderSize]byte
	if _, err := io.ReadFull(br, hb[:]); err != nil {
		return 0, nil, err
	}
	h, err := parseHeader(hb[:])
	if err != nil {
		return 0, nil, err
	}
	ok := false
	for _, k := range want {
		ok = ok || h.kind == k
	}
	if !ok {
		return 0, nil, fmt.Errorf("unexpected %s frame during connection set-up", kindName(h.kind))
	}
	p := make([]byte, h.n) // h.n ≤ maxControlPayload for control kinds
	if _, err := io.ReadFull(br, p); err != nil {
		return 0, nil, err
	}
	return h.kind, p, nil
}

func writeControl(conn net.Conn, kind byte, payload []byte) error {
	_, err := conn.Write(appendControl(nil, kind, payload))
	return err
}

func randomNonce() ([]byte, error) {
	b := make([]byte, nonceSize)
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
func (t *TCP) serverHandshake(conn *net.TCPConn, deadline time.Time, cl claimer) (*peer, joinMsg, error) {
	var j joinMsg
	conn.SetDeadline(earlier(deadline, time.Now().Add(t.timeout)))
	br := bufio.NewReaderSize(conn, readBufSize)
	nonce0, err := randomNonce()
	if err != nil {
		return nil, j, err
	}
	if err := writeControl(conn, kindHello, appendHello(nil, nonce0, t.cfg.Size)); err != nil {
		return nil, j, fmt.Errorf("sending challenge: %w", err)
	}
	_, p, err := readControl(br, kindJoin)
	if err != nil {
		return nil, j, fmt.Errorf("reading join: %w", err)
	}
	if j, err = parseJoin(p); err != nil {
		return nil, j, err
	}
	j.host = cleanHost(j.host)
	refuse := func(reason string) (*peer, joinMsg, error) {
		writeControl(conn, kindRefuse, []byte(reason))
		return nil, j, errors.New(reason)
	}
	want := computeMAC(t.cfg.Secret, joinDomain, nonce0, j.nonce, j.rank, j.size, string(p[8+nonceSize+macSize+1:]))
	if !hmac.Equal(want, j.mac) {
		return refuse("authentication failed (wrong or missing job secret)")
	}
	if j.size != t.cfg.Size {
		return refuse(fmt.Sprintf("world size mismatch: joining rank says %d, rank 0 has %d", j.size, t.cfg.Size))
	}
	if j.rank < 1 || j.rank >= t.cfg.Size {
		return refuse(fmt.Sprintf("rank %d out of range [1, %d)", j.rank, t.cfg.Size))
	}
	if !cl.claim(j.rank) {
		return refuse(fmt.Sprintf("duplicate rank %d (already joined)", j.rank))
	}
	mac := computeMAC(t.cfg.Secret, welcomeDomain, j.nonce, nonce0, j.rank, j.size, t.host)
	if err := writeControl(conn, kindWelcome, appendWelcome(nil, mac, t.host)); err != nil {
		cl.release(j.rank)
		return nil, j, fmt.Errorf("sending welcome: %w", err)
	}
	conn.SetDeadline(time.Time{})
	return t.newPeer(conn, br, j.rank, j.host), j, nil
}

// clientHandshake joins rank 0 over conn. Errors wrapping errRefused are
// final; others may be retried.
func (t *TCP) clientHandshake(conn *net.TCPConn, deadline time.Time) (*peer, error) {
	conn.SetDeadline(earlier(deadline, time.Now().Add(t.timeout)))
	br := bufio.NewReaderSize(conn, readBufSize)
	kind, p, err := readControl(br, kindHello, kindRefuse)
	if err != nil {
		return nil, fmt.Errorf("reading challenge: %w", err)
	}
	if kind == kindRefuse {
		return nil, fmt.Errorf("%w: %s", errRefused, cleanHost(string(p)))
	}
	nonce0, size, err := parseHello(p)
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
	j := joinMsg{rank: t.cfg.Rank, size: t.cfg.Size, nonce: nonce1, host: t.host}
	j.mac = computeMAC(t.cfg.Secret, joinDomain, nonce0, nonce1, j.rank, j.size, j.host)
	if err := writeControl(conn, kindJoin, appendJoin(nil, j)); err != nil {
		return nil, fmt.Errorf("sending join: %w", err)
	}
	kind, p, err = readControl(br, kindWelcome, kindRefuse)
	if err != nil {
		return nil, fmt.Errorf("reading welcome: %w", err)
	}
	if kind == kindRefuse {
		return nil, fmt.Errorf("%w by rank 0: %s", errRefused, cleanHost(string(p)))
	}
	mac, host0, err := parseWelcome(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errRefused, err)
	}
	want := computeMAC(t.cfg.Secret, welcomeDomain, nonce1, nonce0, j.rank, j.size, host0)
	if !hmac.Equal(want, mac) {
		return nil, fmt.Errorf("%w: the coordinator failed authentication (it does not hold the job secret)", errRefused)
	}
	conn.SetDeadline(time.Time{})
	return t.newPeer(conn, br, 0, cleanHost(host0)), nil
}
