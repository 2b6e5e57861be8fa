package wire

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
)

// Payloads of the control frames (see the tcp transport for the
// connection set-up they carry).

// Sizes in the handshake payloads: nonces, HMAC-SHA256 tags and host names.
const (
	NonceSize = 32
	MACSize   = sha256.Size
	MaxHost   = 255
)

// CleanHost keeps a host name printable and short.
func CleanHost(h string) string {
	if len(h) > MaxHost {
		h = h[:MaxHost]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r > 0x7e {
			return '?'
		}
		return r
	}, h)
}

// Join is the payload of a join frame.
type Join struct {
	Rank, Size int
	Nonce      []byte
	MAC        []byte
	Host       string
}

// ParseHello reads a hello payload: rank 0's nonce and the world size.
func ParseHello(p []byte) (nonce []byte, size int, err error) {
	if len(p) != NonceSize+4 {
		return nil, 0, fmt.Errorf("hello payload is %d bytes, want %d", len(p), NonceSize+4)
	}
	return p[:NonceSize], int(binary.LittleEndian.Uint32(p[NonceSize:])), nil
}

// AppendHello appends a hello payload.
func AppendHello(dst, nonce []byte, size int) []byte {
	dst = append(dst, nonce...)
	return binary.LittleEndian.AppendUint32(dst, uint32(size))
}

// ParseJoin reads a join payload (the host as sent, not yet cleaned).
func ParseJoin(p []byte) (Join, error) {
	const fixed = 8 + NonceSize + MACSize + 1
	if len(p) < fixed {
		return Join{}, fmt.Errorf("join payload truncated: %d bytes", len(p))
	}
	hl := int(p[fixed-1])
	if len(p) != fixed+hl {
		return Join{}, fmt.Errorf("join payload is %d bytes, host length %d needs %d", len(p), hl, fixed+hl)
	}
	return Join{
		Rank:  int(binary.LittleEndian.Uint32(p)),
		Size:  int(binary.LittleEndian.Uint32(p[4:])),
		Nonce: p[8 : 8+NonceSize],
		MAC:   p[8+NonceSize : 8+NonceSize+MACSize],
		Host:  string(p[fixed:]),
	}, nil
}

// AppendJoin appends a join payload.
func AppendJoin(dst []byte, j Join) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(j.Rank))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(j.Size))
	dst = append(dst, j.Nonce...)
	dst = append(dst, j.MAC...)
	dst = append(dst, byte(len(j.Host)))
	return append(dst, j.Host...)
}

// ParseWelcome reads a welcome payload: rank 0's MAC and host.
func ParseWelcome(p []byte) (mac []byte, host string, err error) {
	const fixed = MACSize + 1
	if len(p) < fixed {
		return nil, "", fmt.Errorf("welcome payload truncated: %d bytes", len(p))
	}
	hl := int(p[MACSize])
	if len(p) != fixed+hl {
		return nil, "", fmt.Errorf("welcome payload is %d bytes, host length %d needs %d", len(p), hl, fixed+hl)
	}
	return p[:MACSize], string(p[fixed:]), nil
}

// AppendWelcome appends a welcome payload.
func AppendWelcome(dst, mac []byte, host string) []byte {
	dst = append(dst, mac...)
	dst = append(dst, byte(len(host)))
	return append(dst, host...)
}

// Abort payload: lost rank (uint32), host length (1 byte), host, cause text.

// AppendAbort appends an abort payload naming the lost rank, its host and
// the cause, truncated to fit MaxControlPayload.
func AppendAbort(dst []byte, rank int, host, cause string) []byte {
	host = CleanHost(host)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(rank))
	dst = append(dst, byte(len(host)))
	dst = append(dst, host...)
	room := MaxControlPayload - 5 - len(host)
	if len(cause) > room {
		cause = cause[:room]
	}
	return append(dst, cause...)
}

// ParseAbort reads an abort payload.
func ParseAbort(p []byte) (rank int, host, cause string, err error) {
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
	return int(r), CleanHost(string(p[5 : 5+hl])), strings.ToValidUTF8(string(p[5+hl:]), "?"), nil
}
