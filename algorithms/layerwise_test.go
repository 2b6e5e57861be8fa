package algorithms

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// One client, f = ½‖x − b‖², x^0 = 0, so g^0 = −b, with the blocks
// [0, 2), [2, 5), [5, 6) and b = (3, 4 | 0, 0, 2 | 0). Worked by hand, the
// layer-wise step with γ = ½ moves each block by γ b_b/‖b_b‖:
//
//	block 0: ‖b‖ = 5, x = ½(3, 4)/5 = (0.3, 0.4)
//	block 1: ‖b‖ = 2, x = ½(0, 0, 2)/2 = (0, 0, ½)
//	block 2: g = 0, x stays 0
//
// where the global step would give x = ½b/√29.
func TestLayerwiseHandWorkedStep(t *testing.T) {
	b := []float64{3, 4, 0, 0, 2, 0}
	p := Problem{
		Config:      Config{Method: EF21, Normalize: true, Clients: 1, Dim: 6, Blocks: []int{0, 2, 5, 6}},
		Compressors: []Compressor{NewTopK(1)},
		Oracles:     []Oracle{quadratic(b)},
		X0:          make([]float64, 6),
		Schedule:    Schedule{Gamma: 0.5},
	}
	l, err := NewLoop(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Iterate(); err != nil {
		t.Fatal(err)
	}
	want := []float64{0.3, 0.4, 0, 0, 0.5, 0}
	for j, w := range want {
		if math.Abs(l.Server.X[j]-w) > 1e-16 {
			t.Fatalf("x^1 = %v, want %v", l.Server.X, want)
		}
	}
	// each nonzero block moved by exactly γ
	for _, r := range [][2]int{{0, 2}, {2, 5}} {
		if n := Norm(l.Server.X[r[0]:r[1]]); math.Abs(n-0.5) > 1e-15 {
			t.Errorf("block %v moved by %v, want 0.5", r, n)
		}
	}
}

// With g = 0 in every block the layer-wise step stops the run as the global
// one does, before x moves.
func TestLayerwiseStopsOnZeroEstimator(t *testing.T) {
	p := Problem{
		Config:      Config{Method: EF21SGDM, Eta: 0.5, Normalize: true, Clients: 1, Dim: 3, Blocks: []int{0, 1, 3}},
		Compressors: []Compressor{NewTopK(1)},
		Oracles:     []Oracle{quadratic([]float64{1, 2, 3})},
		X0:          []float64{1, 2, 3},
		Schedule:    Schedule{Gamma: 1},
		Iterations:  5,
	}
	l, err := Reference(p, nil)
	if !errors.Is(err, ErrZeroEstimator) || l.K != 0 || !slices.Equal(l.Server.X, []float64{1, 2, 3}) {
		t.Fatalf("got K=%d x=%v err=%v, want ErrZeroEstimator at K=0 with x untouched", l.K, l.Server.X, err)
	}
}

// One block [0, d) is the global normalisation, bit for bit, over a run of
// EF21 and EF21-SGDM with top-k on random quadratics.
func TestLayerwiseOneBlockIsGlobal(t *testing.T) {
	const n, d = 3, 7
	r := rand.New(rand.NewPCG(5, 6))
	var oracles []Oracle
	for range n {
		b := make([]float64, d)
		for j := range b {
			b[j] = r.NormFloat64()
		}
		oracles = append(oracles, quadratic(b))
	}
	for _, method := range []string{EF21, EF21SGDM} {
		run := func(blocks []int) []float64 {
			p := Problem{
				Config:      Config{Method: method, Eta: 0.3, Normalize: true, Clients: n, Dim: d, Blocks: blocks},
				Compressors: mustCompressors(t, "top-k", 2, d, n),
				Oracles:     oracles,
				X0:          make([]float64, d),
				Schedule:    Schedule{Gamma: 0.1},
				Iterations:  25,
			}
			l, err := Reference(p, nil)
			if err != nil {
				t.Fatal(err)
			}
			return l.Server.X
		}
		global, one := run(nil), run([]int{0, d})
		if !slices.Equal(global, one) {
			t.Errorf("%s: one block %v, global %v", method, one, global)
		}
		if two := run([]int{0, 3, d}); slices.Equal(global, two) {
			t.Errorf("%s: two blocks gave the global trajectory", method)
		}
	}
}

func TestLayerwiseStepAllocatesNothing(t *testing.T) {
	s := &estimatorReplica{n: 1, normalize: true, blocks: []int{0, 2, 5}, x: make([]float64, 5), g: []float64{1, 2, 3, 4, 5}}
	if a := testing.AllocsPerRun(20, func() {
		if err := s.Step(0.1); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Fatalf("%v allocations per step", a)
	}
}

func TestLayerwiseConfigValidate(t *testing.T) {
	bad := []Config{
		{Method: EF21, Clients: 1, Dim: 3, Blocks: []int{0, 3}},                        // without normalize
		{Method: EF21, Normalize: true, Clients: 1, Dim: 3, Blocks: []int{0, 2}},       // short of d
		{Method: EF21, Normalize: true, Clients: 1, Dim: 3, Blocks: []int{1, 3}},       // not from 0
		{Method: EF21, Normalize: true, Clients: 1, Dim: 3, Blocks: []int{0, 2, 2, 3}}, // empty block
		{Method: EF21, Normalize: true, Clients: 1, Dim: 3, Blocks: []int{0}},          // no block
		{Method: EF14, Normalize: true, Clients: 1, Dim: 3, Blocks: []int{0, 1, 3}},    // not normalisable
	}
	for _, c := range bad {
		if c.Validate() == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if err := (Config{Method: EF21, Normalize: true, Clients: 1, Dim: 3, Blocks: []int{0, 1, 3}}).Validate(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkNormalizedStep compares the global and the layer-wise step on
// LeNet's d = 61 706 with its ten tensors.
func BenchmarkNormalizedStep(b *testing.B) {
	blocks := []int{0, 150, 156, 2556, 2572, 50572, 50692, 60772, 60856, 61696, 61706}
	d := blocks[len(blocks)-1]
	g := make([]float64, d)
	r := rand.New(rand.NewPCG(1, 2))
	for j := range g {
		g[j] = r.NormFloat64()
	}
	for name, bl := range map[string][]int{"global": nil, "layer": blocks} {
		b.Run(name, func(b *testing.B) {
			s := &estimatorReplica{n: 1, normalize: true, blocks: bl, x: make([]float64, d), g: g}
			for b.Loop() {
				if err := s.Step(1e-3); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
