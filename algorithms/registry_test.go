package algorithms

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/efmpi/efmpi/sparse"
)

// NewCompressor builds a registered compressor (with its k checked), the
// names list it, and a second registration of a name panics.
func TestRegistry(t *testing.T) {
	RegisterCompressor(CompressorInfo{Name: "reg-test-topk", UsesK: true,
		New:    func(k, d int, _ *rand.Rand) (Compressor, error) { return NewTopK(k), nil },
		Params: func(k, d int) map[string]any { return map[string]any{"ratio": float64(k) / float64(d)} }})
	c, err := NewCompressor("reg-test-topk", 2, 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out sparse.Vector
	c.Compress(&out, []float64{1, -5, 0, 3, 2})
	if !slices.Equal(out.Idx, []int32{1, 3}) {
		t.Errorf("kept %v, want indices 1 and 3", out.Idx)
	}
	if _, err := NewCompressor("reg-test-topk", 6, 5, nil); err == nil {
		t.Error("k > d accepted")
	}
	if !slices.Contains(CompressorNames(), "reg-test-topk") || !CompressorUsesK("reg-test-topk") || CompressorUsesK("sign") || !CompressorUsesK("rand-k") {
		t.Error("names or UsesK")
	}
	if p := CompressorParams("reg-test-topk", 2, 5); p["ratio"] != 0.4 {
		t.Errorf("params %v", p)
	}
	for _, dup := range []string{"reg-test-topk", "top-k", ""} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("registering %q did not panic", dup)
				}
			}()
			RegisterCompressor(CompressorInfo{Name: dup, New: func(int, int, *rand.Rand) (Compressor, error) { return Identity{}, nil }})
		}()
	}
}
