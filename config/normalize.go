package config

import (
	"fmt"
	"strconv"
)

// Normalize is [algorithm] normalize: false (no normalisation), true or
// "global" (x ← x − γ g/‖g‖, the paper's algorithm), or "layer" (each
// parameter tensor of a network normalised by its own norm, as the authors'
// code does). The zero value is false; old configs with a bool stay valid.
type Normalize string

// The values of Normalize.
const (
	NormalizeOff    Normalize = ""
	NormalizeGlobal Normalize = "global"
	NormalizeLayer  Normalize = "layer"
)

// On reports whether the step is normalised (globally or layer-wise).
func (n Normalize) On() bool { return n != NormalizeOff }

// Layer reports whether the normalisation is layer-wise.
func (n Normalize) Layer() bool { return n == NormalizeLayer }

// String is the value as the config writes it: false, true or "layer".
func (n Normalize) String() string {
	switch n {
	case NormalizeOff:
		return "false"
	case NormalizeGlobal:
		return "true"
	}
	return strconv.Quote(string(n))
}

// UnmarshalTOML implements toml.Unmarshaler: a bool or a string. A string
// is kept as written and checked by validate (which names the allowed
// values).
func (n *Normalize) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case bool:
		*n = NormalizeOff
		if v {
			*n = NormalizeGlobal
		}
		return nil
	case string:
		if v != "" {
			*n = Normalize(v)
			return nil
		}
	}
	return fmt.Errorf("normalize = %v: want true, false, \"global\" or \"layer\"", v)
}

// MarshalTOML implements toml.Marshaler: false, true, or "layer" (the
// effective config reads back to the same value).
func (n Normalize) MarshalTOML() ([]byte, error) { return []byte(n.String()), nil }
