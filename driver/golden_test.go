package driver

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"runtime"
	"sort"
	"testing"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/internal/testenv"
)

// goldenXFinal are SHA-256 digests of x^K (little-endian float64 bits) of
// runs made by the implementation before the Method interface and the
// iteration core (commit b17ef84, worker/server code in the driver loop).
// They pin existing trajectories bit for bit across refactors of the core.
// EFMPI_GOLDEN_PRINT=1 prints the digests instead of checking them. The
// digests are amd64's: other architectures may fuse a*b+c into one rounding
// (FMA), which changes the bits, so the test runs on amd64 only.
var goldenXFinal = map[string]string{
	"ef21 a1a top-1 ef21-theory n=5":       "3aaec8e4d32bf1442f66be782cdd0b9fb766b950516b2dee4c148dbe0914c0f0",
	"||ef21|| a1a top-2 norm-theory":       "258f7b03e85707651fa65d54cc3f220a821d12037184a135891d4c94209fd2e6",
	"||ef21-sgdm|| rand-k shuffled":        "680831f4dbd3cb12b70a26a295f9ba9b1121a9b3360cd5ea6efd0dcd49010a80",
	"ef14 top-2 constant":                  "da81c88c808b9e933b319c768157577e767d6cde89ce38c93334da7cce230e98",
	"polynomial ||ef21|| top-3":            "c5123bf85a399a6cc6a83f51ee4188df295bdbc0d64f4a52886f01ccbc5d8e90",
	"gd identity decreasing":               "eac9a8ba5b190cc6d63df876759e43ae8313b2989583848be0c9bc8d0dd16137",
	"||ef21|| dense downlink":              "3948e206bc2fc807bbbb4da0227d11ee0fede5e285d63daf23aa9fb266d5eabd",
	"ef21 sign compressor label split":     "970d7c973f4baf81f2778a3f577614f98b93c29ec3802f6752f05c54f5b2a6ca",
	"ef21-sgdm eta-theory init compressed": "b2f8955e428595f900230450c653f307f2ba4b7b0920f83fd677df6aa900bfa5",
}

func goldenSpecs(t *testing.T) map[string]func(*Spec) {
	a1a := testenv.Dataset(t, "a1a")
	return map[string]func(*Spec){
		"ef21 a1a top-1 ef21-theory n=5": func(s *Spec) { s.Source, s.DataPath, s.Features = "libsvm", a1a, 0 },
		"||ef21|| a1a top-2 norm-theory": func(s *Spec) {
			s.Source, s.DataPath, s.Features, s.K = "libsvm", a1a, 0, 2
			s.Normalize, s.Rule = true, algorithms.RuleNormTheory
		},
		"||ef21-sgdm|| rand-k shuffled": func(s *Spec) {
			s.Method, s.Normalize, s.Rule, s.Compressor, s.K, s.Shuffle = algorithms.EF21SGDM, true, algorithms.RuleNormTheory, "rand-k", 3, true
		},
		"ef14 top-2 constant": func(s *Spec) { s.Method, s.K, s.Rule, s.Gamma = algorithms.EF14, 2, algorithms.RuleConstant, 0.5 },
		"polynomial ||ef21|| top-3": func(s *Spec) {
			s.Problem, s.PolyDim, s.Normalize, s.Rule, s.K = "polynomial", 20, true, algorithms.RuleNormTheory, 3
		},
		"gd identity decreasing":           func(s *Spec) { s.Compressor, s.Rule, s.Gamma0 = "identity", algorithms.RuleDecreasing, 2 },
		"||ef21|| dense downlink":          func(s *Spec) { s.Normalize, s.Rule, s.Downlink = true, algorithms.RuleNormTheory, "dense" },
		"ef21 sign compressor label split": func(s *Spec) { s.Compressor, s.Split = "sign", "label" },
		"ef21-sgdm eta-theory init compressed": func(s *Spec) {
			s.Method, s.Momentum, s.Eta0, s.InitCompressed, s.InitBatch = algorithms.EF21SGDM, "eta-theory", 2, true, 32
		},
	}
}

func TestTrajectoriesUnchanged(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("golden digests are amd64's (no FMA fusion)")
	}
	print := os.Getenv("EFMPI_GOLDEN_PRINT") == "1"
	specs := goldenSpecs(t)
	names := make([]string, 0, len(specs))
	for name := range specs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		spec := baseSpec(t)
		specs[name](&spec)
		n := 4
		if name == "ef21 a1a top-1 ef21-theory n=5" {
			n = 5
		}
		sh, err := Prepare(spec, n)
		if err != nil {
			t.Fatal(err)
		}
		res, err := RunInproc(context.Background(), sh, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		h := sha256.New()
		binary.Write(h, binary.LittleEndian, res.X)
		got := hex.EncodeToString(h.Sum(nil))
		if print {
			t.Logf("%q: %q,", name, got)
			continue
		}
		if want := goldenXFinal[name]; got != want {
			t.Errorf("%s: x^K digest %s, want %s (a trajectory changed)", name, got, want)
		}
	}
}
