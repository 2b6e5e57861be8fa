package launch

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ErrBadSecret marks a secret supplied by the user (EFMPI_SECRET,
// EFMPI_SECRET_FILE) that cannot be used: bad input, not a failed rank.
var ErrBadSecret = errors.New("unusable job secret")

// SecretLen is the length in bytes of the secrets Spawn and rank 0 generate.
const SecretLen = 32

// maxSecretFile bounds the size of a secret or rendezvous file.
const maxSecretFile = 1 << 16

// minSecretLen is the shortest secret accepted from the environment.
const minSecretLen = 16

// LoadSecret returns the job's shared secret from EFMPI_SECRET (hex) or, if
// that is unset, from the file named by EFMPI_SECRET_FILE (hex; the file must
// have mode 0600 or stricter). It returns nil and no error when neither is
// set. Errors never include the secret.
func LoadSecret(getenv func(string) string) ([]byte, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if s := getenv("EFMPI_SECRET"); s != "" {
		b, err := decodeSecret(s)
		if err != nil {
			return nil, fmt.Errorf("launch: EFMPI_SECRET: %w: %w", ErrBadSecret, err)
		}
		return b, nil
	}
	name := getenv("EFMPI_SECRET_FILE")
	if name == "" {
		return nil, nil
	}
	b, err := readPrivateFile(name)
	if err != nil {
		return nil, fmt.Errorf("launch: EFMPI_SECRET_FILE: %w: %w", ErrBadSecret, err)
	}
	secret, err := decodeSecret(string(b))
	if err != nil {
		return nil, fmt.Errorf("launch: EFMPI_SECRET_FILE %s: %w: %w", name, ErrBadSecret, err)
	}
	return secret, nil
}

// readPrivateFile reads a file that must not be accessible to the group or
// others (mode 0600 or stricter).
func readPrivateFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %04o: refusing a secret readable by others (chmod 600 %s)", name, perm, name)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSecretFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, maxSecretFile)
	}
	return b, nil
}

func decodeSecret(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("not hexadecimal")
	}
	if len(b) < minSecretLen {
		return nil, fmt.Errorf("%d bytes, need at least %d", len(b), minSecretLen)
	}
	return b, nil
}

// newSecret returns SecretLen bytes from crypto/rand.
func newSecret() ([]byte, error) {
	b := make([]byte, SecretLen)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("launch: generating a secret: %w", err)
	}
	return b, nil
}
