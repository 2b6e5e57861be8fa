package algorithms

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
)

// CompressorInfo describes a compressor to the rest of efmpi: the config
// accepts its name, the driver builds it per rank, and its parameters are
// recorded in every run file, so labels and summaries show them. A new
// compressor is one file that calls RegisterCompressor from an init
// function; nothing else needs editing.
type CompressorInfo struct {
	// Name is the config's [algorithm] compressor value.
	Name string
	// UsesK says whether [algorithm] k applies (1 ≤ k ≤ d is then checked
	// before New is called).
	UsesK bool
	// New builds one rank's compressor for dimension d; rng is the rank's
	// own seeded stream (never nil).
	New func(k, d int, rng *rand.Rand) (Compressor, error)
	// Params, if set, returns the compressor's parameters for k and d; each
	// is recorded as the root attribute "compressor_<name>" and appears in
	// labels as "name (param = value)". Values are int, int64, float64 or
	// string.
	Params func(k, d int) map[string]any
}

// registry holds the compressors beyond the four built into NewCompressor.
// It is written only by RegisterCompressor (from init functions) and read
// everywhere else.
var registry = struct {
	sync.RWMutex
	m map[string]CompressorInfo
}{m: map[string]CompressorInfo{}}

// builtin are the compressors NewCompressor knows itself.
var builtin = map[string]bool{"top-k": true, "rand-k": true, "sign": true, "identity": true}

// RegisterCompressor adds a compressor. It panics on an empty or taken name
// or a nil New: registration happens in init functions, where a mistake
// must stop the program.
func RegisterCompressor(info CompressorInfo) {
	registry.Lock()
	defer registry.Unlock()
	if info.Name == "" || info.New == nil {
		panic("algorithms: RegisterCompressor needs a name and a New function")
	}
	if _, taken := registry.m[info.Name]; taken || builtin[info.Name] {
		panic(fmt.Sprintf("algorithms: compressor %q registered twice", info.Name))
	}
	registry.m[info.Name] = info
}

// LookupCompressor returns a registered compressor (not the built-in ones).
func LookupCompressor(name string) (CompressorInfo, bool) {
	registry.RLock()
	defer registry.RUnlock()
	info, ok := registry.m[name]
	return info, ok
}

// CompressorNames lists every compressor the config accepts: the built-in
// ones, then the registered ones in name order.
func CompressorNames() []string {
	registry.RLock()
	defer registry.RUnlock()
	var extra []string
	for n := range registry.m {
		extra = append(extra, n)
	}
	sort.Strings(extra)
	return append([]string{"top-k", "rand-k", "sign", "identity"}, extra...)
}

// CompressorUsesK reports whether [algorithm] k applies to the named
// compressor.
func CompressorUsesK(name string) bool {
	if name == "top-k" || name == "rand-k" {
		return true
	}
	info, ok := LookupCompressor(name)
	return ok && info.UsesK
}

// CompressorParams returns the parameters a compressor records (nil for
// the built-in ones, whose k is an attribute of its own).
func CompressorParams(name string, k, d int) map[string]any {
	info, ok := LookupCompressor(name)
	if !ok || info.Params == nil {
		return nil
	}
	return info.Params(k, d)
}

// newRegistered builds a registered compressor (the fallback of
// NewCompressor).
func newRegistered(name string, k, d int, rng *rand.Rand) (Compressor, bool, error) {
	info, ok := LookupCompressor(name)
	if !ok {
		return nil, false, nil
	}
	if info.UsesK && (k < 1 || k > d) {
		return nil, true, fmt.Errorf("compressor %s: k = %d must be in [1, d = %d]", name, k, d)
	}
	if rng == nil {
		rng = rand.New(rand.NewPCG(0, 0)) // for Alpha only (Prepare); ranks get their own stream
	}
	c, err := info.New(k, d, rng)
	return c, true, err
}
