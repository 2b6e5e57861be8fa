package driver

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
	"github.com/efmpi/efmpi/problems"
)

func baseSpec(t *testing.T) Spec {
	return Spec{Problem: "logreg", Lambda: 0.1, Source: "synthetic", Samples: 300, Features: 20, Split: "contiguous",
		Method: algorithms.EF21, Compressor: "top-k", K: 1, Batch: 16, InitBatch: 16, Momentum: "constant", Eta: 0.2,
		Rule: algorithms.RuleEF21Theory, Factor: 1, Gamma0: 1, X0: "normal", Sigma0: 1,
		Iterations: 120, Seed: 7, LogEvery: 1, FlushEvery: 10, Downlink: "sparse",
		Output: filepath.Join(t.TempDir(), "run.h5")}
}

// referenceTrajectory runs algorithms.Reference — all clients in one goroutine,
// no communication layer — and evaluates the metrics the way the driver
// defines them: f = (f_0 + f_1 + … + f_{n−1})/n and ∇f likewise, summed in the
// fixed tree order of the collectives (pairs, then pairs of pairs: for n = 4,
// ((f_0+f_1)+(f_2+f_3)); written here as a recursion, independently of
// collective.TreeSum).
func referenceTrajectory(t *testing.T, sh *Shared) (map[int64][2]float64, *algorithms.Loop) {
	t.Helper()
	oracles, err := sh.Oracles()
	if err != nil {
		t.Fatal(err)
	}
	comps := make([]algorithms.Compressor, sh.Ranks)
	objs := make([]problems.Objective, sh.Ranks)
	for r := range comps {
		if comps[r], err = sh.Compressor(r); err != nil {
			t.Fatal(err)
		}
		if objs[r], err = sh.Objective(r); err != nil {
			t.Fatal(err)
		}
	}
	d := sh.Dim
	metrics := map[int64][2]float64{}
	grads := make([][]float64, sh.Ranks)
	for r := range grads {
		grads[r] = make([]float64, d)
	}
	p := algorithms.Problem{Config: sh.MethodConfig(), Compressors: comps, Oracles: oracles, X0: sh.X0,
		Schedule: sh.Schedule, Iterations: sh.Spec.Iterations}
	loop, err := algorithms.Reference(p, func(k int, s *algorithms.Server, _ []*algorithms.Worker) bool {
		fs := make([]float64, sh.Ranks)
		for r := range objs {
			fs[r] = objs[r].Value(s.X)
			objs[r].Grad(grads[r], s.X)
		}
		f := treeOrder(func(r int) float64 { return fs[r] }, sh.Ranks)
		gn := 0.0
		for j := 0; j < d; j++ {
			g := treeOrder(func(r int) float64 { return grads[r][j] }, sh.Ranks)
			g /= float64(sh.Ranks)
			gn += g * g
		}
		metrics[int64(k)] = [2]float64{f / float64(sh.Ranks), gn}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return metrics, loop
}

// treeOrder sums v(0), …, v(n−1) as a binary tree over rank numbers: a block
// of 2^j ranks starting at lo is its first half plus its second half.
func treeOrder(v func(int) float64, n int) float64 {
	var block func(lo, size int) float64
	block = func(lo, size int) float64 {
		if size == 1 {
			return v(lo)
		}
		a := block(lo, size/2)
		if lo+size/2 < n {
			a += block(lo+size/2, size/2)
		}
		return a
	}
	size := 1
	for size < n {
		size *= 2
	}
	return block(0, size)
}

// The distributed loop over in-process ranks reproduces the single-process
// reference loop bit for bit: every recorded f and ‖∇f‖², and x^K.
func TestDriverMatchesReferenceBitForBit(t *testing.T) {
	a1a := testenv.Dataset(t, "a1a")
	cases := map[string]func(*Spec){
		"a1a EF21 top-1 ef21-theory n=5": func(s *Spec) {
			s.Source, s.DataPath, s.Features = "libsvm", a1a, 0
			s.Iterations = 150
		},
		"a1a ||EF21|| norm-theory log_every=7": func(s *Spec) {
			s.Source, s.DataPath, s.Features = "libsvm", a1a, 123
			s.Normalize, s.Rule, s.LogEvery = true, algorithms.RuleNormTheory, 7
		},
		"synthetic ||EF21-SGDM|| rand-k eta-theory shuffled": func(s *Spec) {
			s.Method, s.Normalize, s.Rule, s.Compressor, s.K = algorithms.EF21SGDM, true, algorithms.RuleNormTheory, "rand-k", 3
			s.Momentum, s.Eta0, s.Shuffle, s.InitBatch = "eta-theory", 2, true, 32
		},
		"polynomial ||EF21|| top-3": func(s *Spec) {
			s.Problem, s.PolyDim, s.Normalize, s.Rule, s.K = "polynomial", 20, true, algorithms.RuleNormTheory, 3
		},
		"polynomial EF21 ef21-theory local L": func(s *Spec) {
			s.Problem, s.PolyDim, s.K, s.Sigma0 = "polynomial", 10, 2, 0.5
		},
		"EF14 top-2 constant": func(s *Spec) {
			s.Method, s.K, s.Rule, s.Gamma = algorithms.EF14, 2, algorithms.RuleConstant, 0.5
		},
		"EF21 sign split by label": func(s *Spec) { s.Compressor, s.Split = "sign", "label" },
		"GD (identity) decreasing": func(s *Spec) { s.Compressor, s.Rule, s.Gamma0 = "identity", algorithms.RuleDecreasing, 2 },
		"||EF21|| dense downlink":  func(s *Spec) { s.Normalize, s.Rule, s.Downlink = true, algorithms.RuleNormTheory, "dense" },
		"EF21 compressed init":     func(s *Spec) { s.InitCompressed = true },
		"EF21-W split by label ef21-theory-am": func(s *Spec) {
			s.Method, s.Split, s.Rule, s.K = algorithms.EF21W, "label", algorithms.RuleEF21TheoryAM, 2
		},
		"||EF21-W|| dense downlink": func(s *Spec) {
			s.Method, s.Normalize, s.Rule, s.Downlink = algorithms.EF21W, true, algorithms.RuleNormTheory, "dense"
		},
		"EF21-PP p=0.5": func(s *Spec) { s.Participation = 0.5 },
		"signSGD majority vote student-t noise": func(s *Spec) {
			s.Method, s.Eta, s.Rule, s.Gamma0 = algorithms.SignSGD, 1, algorithms.RuleDecreasing, 0.01
			s.Noise = algorithms.Noise{Kind: algorithms.NoiseStudentT, Nu: 1.5, Scale: 0.1}
		},
		"Signum pareto noise, polynomial": func(s *Spec) {
			s.Problem, s.PolyDim, s.Method, s.Eta, s.Rule, s.Gamma = "polynomial", 12, algorithms.SignSGD, 0.2, algorithms.RuleConstant, 0.01
			s.Noise = algorithms.Noise{Kind: algorithms.NoisePareto, Nu: 2.5, Scale: 0.1}
		},
	}
	ranks := map[string]int{"a1a EF21 top-1 ef21-theory n=5": 5}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			spec := baseSpec(t)
			mod(&spec)
			n := 4
			if v, ok := ranks[name]; ok {
				n = v
			}
			sh, err := Prepare(spec, n)
			if err != nil {
				t.Fatal(err)
			}
			res, err := RunInproc(context.Background(), sh, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != StatusCompleted || res.Iterations != spec.Iterations {
				t.Fatalf("status %s after %d iterations (%s)", res.Status, res.Iterations, res.Reason)
			}
			want, loop := referenceTrajectory(t, sh)
			run, err := hdf5io.Open(spec.Output)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(run.XFinal, loop.Server.X) || !slices.Equal(res.X, loop.Server.X) {
				t.Fatalf("x_final differs from the reference loop")
			}
			its := run.Ints["iteration"]
			wantRows := spec.Iterations/spec.LogEvery + 1
			if spec.Iterations%spec.LogEvery != 0 {
				wantRows++
			}
			if len(its) != wantRows || its[len(its)-1] != int64(spec.Iterations) {
				t.Fatalf("%d rows ending at %d, want %d ending at %d", len(its), its[len(its)-1], wantRows, spec.Iterations)
			}
			for i, k := range its {
				w := want[k]
				if run.Floats["f"][i] != w[0] || run.Floats["grad_norm_sq"][i] != w[1] {
					t.Fatalf("iteration %d: f, ‖∇f‖² = %.17g, %.17g; reference %.17g, %.17g",
						k, run.Floats["f"][i], run.Floats["grad_norm_sq"][i], w[0], w[1])
				}
			}
			// bits: the reference workers' count, which the paper convention fixes
			if got := run.Ints["bits_per_worker"][len(its)-1]; got != loop.Workers[0].Bits {
				t.Fatalf("bits per worker %d, reference %d", got, loop.Workers[0].Bits)
			}
			if run.Attrs["status"] != StatusCompleted || run.Attrs["n_ranks"] != int64(n) {
				t.Fatalf("attributes %v", run.Attrs)
			}
		})
	}
}

// The estimator error and the step-size column are recorded as defined, and
// the wire byte counters grow with every exchange.
func TestRecordedColumns(t *testing.T) {
	spec := baseSpec(t)
	spec.Normalize, spec.Rule, spec.Iterations = true, algorithms.RuleNormTheory, 30
	run := runFile(t, spec, 3)
	gamma := 1 / math.Sqrt(31)
	for i := range run.Rows() {
		if run.Floats["step_size"][i] != gamma {
			t.Fatalf("step_size[%d] = %v, want γ0/√(K+1) = %v", i, run.Floats["step_size"][i], gamma)
		}
		if i > 0 && (run.Ints["wire_bytes_up"][i] <= run.Ints["wire_bytes_up"][i-1] || run.Ints["wire_bytes_down"][i] <= run.Ints["wire_bytes_down"][i-1]) {
			t.Fatalf("wire bytes did not grow at row %d", i)
		}
		// bits: 32·d at initialisation, then 32·k per iteration
		if want := int64(32*20 + 32*i); run.Ints["bits_per_worker"][i] != want {
			t.Fatalf("bits_per_worker[%d] = %d, want %d", i, run.Ints["bits_per_worker"][i], want)
		}
	}
	// g^0 = ∇f(x^0) exactly (uncompressed init), so the estimator error is 0
	if run.Floats["est_err_sq"][0] > 1e-28 {
		t.Fatalf("est_err_sq at k=0 = %v, want 0", run.Floats["est_err_sq"][0])
	}
	for _, phase := range []string{"gradient_s", "compression_s", "communication_s", "step_s", "metrics_s", "recording_s", "total_s"} {
		if v, ok := run.Timing[phase].(float64); !ok || !(v > 0) {
			t.Fatalf("/timing %s = %v, want a positive number", phase, run.Timing[phase])
		}
	}
}

func TestStopsOnTolerance(t *testing.T) {
	spec := baseSpec(t)
	spec.Tolerance, spec.Iterations = 1e-3, 5000
	sh, err := Prepare(spec, 2)
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunInproc(context.Background(), sh, Options{})
	if err != nil {
		t.Fatal(err)
	}
	run, _ := hdf5io.Open(spec.Output)
	g := run.Floats["grad_norm_sq"]
	n := len(g)
	if res.Status != StatusTolerance || run.Attrs["status"] != StatusTolerance || g[n-1] > 1e-3 || g[n-2] <= 1e-3 {
		t.Fatalf("status %s; last two ‖∇f‖² %v %v", res.Status, g[n-2], g[n-1])
	}
}

// EF21 on the polynomial with 1000× its theoretical step diverges (the
// quartic is not L-smooth: x³ overflows within a few steps): status diverged
// and the last finite iterate is kept as x_final. (Logistic regression has a
// bounded gradient, so even 1000× its step stays finite.)
func TestDivergence(t *testing.T) {
	spec := baseSpec(t)
	spec.Problem, spec.PolyDim, spec.K = "polynomial", 10, 2
	spec.Factor, spec.Iterations = 1000, 3000
	sh, err := Prepare(spec, 4)
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunInproc(context.Background(), sh, Options{})
	if err != nil {
		t.Fatal(err)
	}
	run, _ := hdf5io.Open(spec.Output)
	if res.Status != StatusDiverged || run.Attrs["status"] != StatusDiverged {
		t.Fatalf("status %s (%s), want diverged", res.Status, res.Reason)
	}
	for _, v := range run.XFinal {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("x_final holds %v: want the last finite iterate", v)
		}
	}
}

// ||EF21|| stops when g = 0: data without features and λ = 0 give ∇f_i ≡ 0.
func TestZeroEstimatorStops(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "empty.svm")
	if err := os.WriteFile(path, []byte("-1\n+1\n-1\n+1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := baseSpec(t)
	spec.Source, spec.DataPath, spec.Features, spec.Lambda = "libsvm", path, 3, 0
	spec.Normalize, spec.Rule, spec.X0 = true, algorithms.RuleNormTheory, "zeros"
	sh, err := Prepare(spec, 2)
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunInproc(context.Background(), sh, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusTolerance || res.Iterations != 0 || !strings.Contains(res.Reason, "zero") {
		t.Fatalf("status %s after %d iterations (%s)", res.Status, res.Iterations, res.Reason)
	}
}

func TestInterruptedByContext(t *testing.T) {
	spec := baseSpec(t)
	spec.Iterations = 1 << 30
	spec.LogEvery = 1000
	sh, err := Prepare(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	res, err := RunInproc(ctx, sh, Options{ProgressEvery: 1, Progress: func(p Progress) {
		calls++
		if p.Iteration >= 2000 {
			cancel()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	run, _ := hdf5io.Open(spec.Output)
	if res.Status != StatusInterrupted || run.Attrs["status"] != StatusInterrupted || res.Iterations > 3000+controlEvery {
		t.Fatalf("status %s after %d iterations", res.Status, res.Iterations)
	}
}

func TestPrepareRejectsBadInput(t *testing.T) {
	cases := map[string]func(*Spec) int{
		"k above d":          func(s *Spec) int { s.K = 21; return 2 },
		"more ranks than m":  func(s *Spec) int { s.Samples = 3; return 4 },
		"batch above shard":  func(s *Spec) int { s.Method, s.Batch = algorithms.EF21SGDM, 200; return 2 },
		"missing dataset":    func(s *Spec) int { s.Source, s.DataPath = "libsvm", "/nonexistent/a1a"; return 2 },
		"x0 file wrong size": func(s *Spec) int { s.X0 = writeTemp(t, "1\n2\n"); return 2 },
		"x0 file garbage":    func(s *Spec) int { s.X0 = writeTemp(t, "1\nzwei\n"); return 2 },
	}
	for name, mod := range cases {
		spec := baseSpec(t)
		n := mod(&spec)
		if _, err := Prepare(spec, n); err == nil || !strings.Contains(err.Error(), "invalid input") {
			t.Errorf("%s: err = %v, want an invalid-input error", name, err)
		}
	}
}

func writeTemp(t *testing.T, text string) string {
	p := filepath.Join(t.TempDir(), "x0.txt")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
