package driver

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/inproc"
	"github.com/efmpi/efmpi/hdf5io"
)

// plainComm hides the in-process fast paths of a communicator (its
// Collectives and Hoster), so RunRank takes the one-rank path over
// collective.Star and point-to-point messages — the path of a process of a
// launcher's world.
type plainComm struct{ collective.Comm }

// runPerRank runs the job with one goroutine per rank, each rank its own
// replica, over the star collectives: the computation a hosted node must
// reproduce bit for bit.
func runPerRank(t *testing.T, sh *Shared) Result {
	t.Helper()
	world, err := inproc.NewWorld(sh.Ranks)
	if err != nil {
		t.Fatal(err)
	}
	comms := make([]collective.Comm, len(world))
	for r, c := range world {
		comms[r] = plainComm{c}
	}
	res, err := runWorld(context.Background(), sh, Options{}, comms, func(r int) string { return fmt.Sprintf("rank %d", r) })
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// methodCases are the methods and options whose state a checkpoint must
// carry and a hosted node keeps for each of its ranks: two random streams
// and a permutation (rand-k with minibatches), EF14's error, the dense
// downlink, weights, participation draws, noise.
var methodCases = map[string]func(*Spec){
	"ef21 top-k": func(s *Spec) {},
	"||ef21|| rand-k": func(s *Spec) {
		s.Normalize, s.Compressor, s.K, s.Rule = true, "rand-k", 3, algorithms.RuleNormTheory
	},
	"||ef21-sgdm|| rand-k": func(s *Spec) {
		s.Method, s.Normalize, s.Compressor, s.K, s.Rule = algorithms.EF21SGDM, true, "rand-k", 3, algorithms.RuleNormTheory
	},
	"ef14":           func(s *Spec) { s.Method, s.Rule, s.Gamma = algorithms.EF14, algorithms.RuleConstant, 0.05 },
	"dense downlink": func(s *Spec) { s.Downlink = "dense" },
	"ef21-w label split": func(s *Spec) {
		s.Method, s.Split, s.Rule = algorithms.EF21W, "label", algorithms.RuleEF21TheoryAM
	},
	"ef21-pp p=0.3": func(s *Spec) { s.Participation = 0.3 },
	// issue 24: the sequel's momenta under the poly schedules (per iteration
	// and per epoch), the central-difference HVP, EControl
	"ef21-igt poly": func(s *Spec) {
		s.Method, s.Normalize, s.Eta, s.EtaRule, s.Rule, s.Power = algorithms.EF21IGT, true, 1, "poly", algorithms.RulePoly, 5.0/7
	},
	"ef21-storm": func(s *Spec) {
		s.Method, s.Normalize, s.Eta, s.Rule, s.Power, s.StepPer = algorithms.EF21STORM, true, 0.3, algorithms.RulePoly, 2.0/3, "epoch"
	},
	"ef21-hm epoch": func(s *Spec) {
		s.Method, s.Normalize, s.Eta, s.EtaRule, s.EtaPer, s.Rule, s.Power = algorithms.EF21HM, true, 1, "poly", "epoch", algorithms.RulePoly, 2.0/3
	},
	"ef21-rhm central": func(s *Spec) {
		s.Method, s.Normalize, s.Eta, s.Rule, s.Power, s.HVP = algorithms.EF21RHM, true, 0.3, algorithms.RulePoly, 2.0/3, "central"
	},
	"econtrol": func(s *Spec) {
		s.Method, s.Eta, s.Rule, s.Gamma = algorithms.EControl, 0.1, algorithms.RuleConstant, 0.5
	},
	"signum student-t noise": func(s *Spec) {
		s.Method, s.Eta, s.Rule, s.Gamma = algorithms.SignSGD, 0.5, algorithms.RuleConstant, 0.002
		s.Noise = algorithms.Noise{Kind: algorithms.NoiseStudentT, Nu: 3, Scale: 0.5}
	},
}

// TestHostedNodesMatchPerRank runs 5 ranks on 1, 2 (blocks of 3 and 2), 3
// and 5 hosted nodes and requires every trajectory column, x_final, the bits
// and the wire bytes to equal, bit for bit, those of one goroutine per rank
// over the star collectives.
func TestHostedNodesMatchPerRank(t *testing.T) {
	for name, mod := range methodCases {
		t.Run(name, func(t *testing.T) {
			spec := baseSpec(t)
			spec.Iterations, spec.LogEvery = 60, 1
			mod(&spec)
			want := spec
			want.Output = filepath.Join(t.TempDir(), "per-rank.h5")
			sh, err := Prepare(want, 5)
			if err != nil {
				t.Fatal(err)
			}
			runPerRank(t, sh)
			for _, p := range []int{1, 2, 3, 5} {
				got := spec
				got.Output = filepath.Join(t.TempDir(), fmt.Sprintf("nodes-%d.h5", p))
				sh, err := Prepare(got, 5)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := runInprocNodes(context.Background(), sh, Options{}, p); err != nil {
					t.Fatal(err)
				}
				sameRun(t, got.Output, want.Output)
			}
		})
	}
}

// TestResumeAcrossNodeCounts interrupts a run of 5 ranks on 2 hosted nodes
// and resumes its checkpoint on 5 nodes (one rank each) and on 1: the
// checkpoint files are per rank whatever hosts them, so each resumed run
// ends exactly like the uninterrupted one.
func TestResumeAcrossNodeCounts(t *testing.T) {
	for _, resumeNodes := range []int{5, 1} {
		t.Run(fmt.Sprintf("2 to %d", resumeNodes), func(t *testing.T) {
			spec := baseSpec(t)
			spec.Method, spec.Normalize, spec.Compressor, spec.K, spec.Rule = algorithms.EF21SGDM, true, "rand-k", 3, algorithms.RuleNormTheory
			spec.Iterations, spec.LogEvery, spec.CheckpointEvery = 300, 3, 50
			ref := spec
			ref.Output, ref.CheckpointEvery = filepath.Join(t.TempDir(), "ref.h5"), 0
			sh, err := Prepare(ref, 5)
			if err != nil {
				t.Fatal(err)
			}
			runPerRank(t, sh)

			ctx, cancel := context.WithCancel(context.Background())
			if sh, err = Prepare(spec, 5); err != nil {
				t.Fatal(err)
			}
			res, err := runInprocNodes(ctx, sh, Options{ProgressEvery: 1, Progress: func(p Progress) {
				if p.Iteration >= 120 {
					cancel()
				}
			}}, 2)
			cancel()
			if err != nil || res.Status != StatusInterrupted || !strings.Contains(res.Reason, "checkpoint at iteration") {
				t.Fatalf("first leg: %s (%s), %v", res.Status, res.Reason, err)
			}
			spec.Resume = true
			if sh, err = Prepare(spec, 5); err != nil {
				t.Fatal(err)
			}
			if res, err = runInprocNodes(context.Background(), sh, Options{}, resumeNodes); err != nil || res.Status != StatusCompleted {
				t.Fatalf("resume: %s (%s), %v", res.Status, res.Reason, err)
			}
			sameRun(t, spec.Output, ref.Output)
		})
	}
}

// TestFusedRowsMatchUnfused checks the rows whose metric sums travel with
// the round's aggregate (a hosted node, a full-gradient method): with
// log_every 7 and a tolerance met between log rows, 2 hosted nodes must
// stop at the same iteration as one goroutine per rank over the star
// collectives (which reduces the metrics separately), record the same rows
// bit for bit, and their stopping row must carry the bits of that
// iteration's row in an unfused run recording every iteration.
func TestFusedRowsMatchUnfused(t *testing.T) {
	for _, normalize := range []bool{false, true} {
		t.Run(fmt.Sprintf("normalize=%v", normalize), func(t *testing.T) {
			pilot := baseSpec(t)
			pilot.Iterations, pilot.Normalize = 60, normalize
			if normalize {
				pilot.Rule = algorithms.RuleNormTheory
			}
			sh, err := Prepare(pilot, 5)
			if err != nil {
				t.Fatal(err)
			}
			runPerRank(t, sh)
			run, err := hdf5io.Open(pilot.Output)
			if err != nil {
				t.Fatal(err)
			}
			gn := run.Floats["grad_norm_sq"]
			tol := gn[37]
			stop := slices.IndexFunc(gn, func(v float64) bool { return v <= tol })
			if stop%7 == 0 {
				t.Fatalf("the pilot's first row under %v is %d, a log row: choose another", tol, stop)
			}
			spec := pilot
			spec.LogEvery, spec.Tolerance = 7, tol
			want := spec
			want.Output = filepath.Join(t.TempDir(), "per-rank.h5")
			if sh, err = Prepare(want, 5); err != nil {
				t.Fatal(err)
			}
			if res := runPerRank(t, sh); res.Status != StatusTolerance || res.Iterations != stop {
				t.Fatalf("per rank: %s after %d iterations, want tolerance after %d", res.Status, res.Iterations, stop)
			}
			got := spec
			got.Output = filepath.Join(t.TempDir(), "nodes.h5")
			if sh, err = Prepare(got, 5); err != nil {
				t.Fatal(err)
			}
			res, err := runInprocNodes(context.Background(), sh, Options{}, 2)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != StatusTolerance || res.Iterations != stop {
				t.Fatalf("2 nodes: %s after %d iterations, want tolerance after %d", res.Status, res.Iterations, stop)
			}
			sameRun(t, got.Output, want.Output)
			fused, err := hdf5io.Open(got.Output)
			if err != nil {
				t.Fatal(err)
			}
			last := fused.Rows() - 1
			if it := fused.Ints["iteration"][last]; it != int64(stop) {
				t.Fatalf("last row is iteration %d, want %d", it, stop)
			}
			for _, col := range []string{"f", "grad_norm_sq", "est_err_sq"} {
				if g, w := fused.Floats[col][last], run.Floats[col][stop]; !sameBits(g, w) {
					t.Errorf("%s at iteration %d: %v, the unfused row %v", col, stop, g, w)
				}
			}
		})
	}
}
