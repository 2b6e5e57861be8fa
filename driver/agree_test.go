package driver

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/efmpi/efmpi/collective/inproc"
	"github.com/efmpi/efmpi/internal/testenv"
)

// agreeAll runs Agree on an in-process world, rank r with prints[r].
func agreeAll(t *testing.T, prints []Print) []error {
	t.Helper()
	world, err := inproc.NewWorld(len(prints))
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, len(prints))
	var wg sync.WaitGroup
	for r := range prints {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer world[r].Finalize()
			if err := world[r].Init(); err != nil {
				errs[r] = err
				return
			}
			errs[r] = Agree(world[r], prints[r])
		}()
	}
	wg.Wait()
	return errs
}

// Ranks that agree pass; a rank with another binary and one with other data
// are named, with what differs, identically on every rank.
func TestAgreeNamesDifferingRanks(t *testing.T) {
	cfg := "# effective\n[stepsize]\ngamma0 = 1.0\nrule = \"norm-theory\"\n[run]\nseed = 1\n"
	base := Print{Config: cfg, Binary: "efmpi 0.1.0 (sha256 01)", Data: DataPrint{Rows: 1605, Cols: 123, NNZ: 22249, Sum: [32]byte{1, 2, 3}}}
	for r, err := range agreeAll(t, []Print{base, base, base}) {
		if err != nil {
			t.Fatalf("rank %d: %v", r, err)
		}
	}
	other := base
	other.Binary = "efmpi 0.1.0 (sha256 02)"
	data := base
	data.Data.Sum[0] = 9 // same size, other contents (labels flipped)
	set := base
	set.Config = strings.Replace(cfg, "seed = 1", "seed = 2", 1)
	errs := agreeAll(t, []Print{base, other, data, set})
	for r, err := range errs {
		if !errors.Is(err, ErrInvalid) || err.Error() != errs[0].Error() {
			t.Fatalf("rank %d: %v (rank 0: %v)", r, err, errs[0])
		}
	}
	msg := errs[0].Error()
	for _, want := range []string{"rank 1 differs from rank 0 in its binary",
		"rank 2 differs from rank 0 in its data (rank 2: 1605 samples × 123 features, 22249 nonzeros, sha256 090203000000…; rank 0: 1605 × 123, 22249 nonzeros, sha256 010203000000…)",
		"rank 3 differs from rank 0 in its config run.seed = 2 (rank 0: 1)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "rank 0 differs") {
		t.Error(msg)
	}
}

// fingerprintData tells apart data of the same size whose labels differ.
func TestDataFingerprint(t *testing.T) {
	spec := baseSpec(t)
	a, err := Prepare(spec, 2)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Prepare(spec, 2)
	if a.Data != b.Data || a.Data.Rows != 300 || a.Data.Cols != 20 || a.Data.NNZ != 6000 {
		t.Fatalf("fingerprints %v, %v", a.Data, b.Data)
	}
	b.block.Labels[7] = -b.block.Labels[7]
	if fingerprintData(b.block) == a.Data {
		t.Fatal("a flipped label left the fingerprint unchanged")
	}
}

// The memory check refuses what no machine holds and passes what any does.
func TestCheckMemory(t *testing.T) {
	if _, ok := availableMemory(); !ok {
		t.Skip("no /proc/meminfo or cgroup limit here")
	}
	sh := &Shared{Dim: 10}
	if err := sh.CheckMemory(4); err != nil {
		t.Fatal(err)
	}
	sh.Dim = 1 << 40
	err := sh.CheckMemory(1)
	if !errors.Is(err, ErrMemory) || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "d = 1099511627776") {
		t.Fatalf("CheckMemory(d = 2^40) = %v", err)
	}
}

// BenchmarkDataFingerprint hashes a9a as loaded (once per job: Prepare).
func BenchmarkDataFingerprint(b *testing.B) {
	spec := Spec{Problem: "logreg", Lambda: 0.1, Source: "libsvm", DataPath: testenv.Dataset(b, "a9a"), Split: "contiguous",
		Method: "ef21", Compressor: "top-k", K: 1, Rule: "constant", Gamma: 0.1, X0: "zeros", Iterations: 1}
	sh, err := Prepare(spec, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		fingerprintData(sh.block)
	}
}
