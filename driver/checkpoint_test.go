package driver

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/hdf5io"
)

// sameRun compares two run files bit for bit: every trajectory column but
// the wall clock, and x_final.
func sameRun(t *testing.T, gotPath, wantPath string) {
	t.Helper()
	got, err := hdf5io.Open(gotPath)
	if err != nil {
		t.Fatal(err)
	}
	want, err := hdf5io.Open(wantPath)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rows() != want.Rows() || got.Rows() == 0 {
		t.Fatalf("%d rows, uninterrupted run has %d", got.Rows(), want.Rows())
	}
	for col, w := range want.Ints {
		if !slices.Equal(got.Ints[col], w) {
			t.Errorf("/trajectory/%s differs", col)
		}
	}
	for col, w := range want.Floats {
		if col != "time_s" && !slices.EqualFunc(got.Floats[col], w, sameBits) {
			t.Errorf("/trajectory/%s differs", col)
		}
	}
	if !slices.EqualFunc(got.XFinal, want.XFinal, sameBits) || len(got.XFinal) == 0 {
		t.Errorf("/x_final differs")
	}
}

func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// TestResumeBitwise stops runs with a signal (a cancelled context) at an
// iteration between checkpoints, resumes them, and requires exactly the
// trajectory of an uninterrupted run — for every state a checkpoint must
// carry: EF21 with top-k, ||EF21-SGDM|| with rand-k and minibatches (two
// random streams and a permutation), EF14's error, the dense downlink.
func TestResumeBitwise(t *testing.T) {
	for name, mod := range methodCases {
		t.Run(name, func(t *testing.T) {
			spec := baseSpec(t)
			spec.Iterations, spec.LogEvery, spec.CheckpointEvery = 400, 3, 50
			mod(&spec)
			ref := spec
			ref.Output = filepath.Join(t.TempDir(), "ref.h5")
			ref.CheckpointEvery = 0
			runSpec(t, context.Background(), ref, StatusCompleted)

			// Interrupted between checkpoints: the signal checkpoint is used.
			ctx, cancel := context.WithCancel(context.Background())
			sh, err := Prepare(spec, 3)
			if err != nil {
				t.Fatal(err)
			}
			res, err := RunInproc(ctx, sh, Options{ProgressEvery: 1, Progress: func(p Progress) {
				if p.Iteration >= 170 {
					cancel()
				}
			}})
			cancel()
			if err != nil || res.Status != StatusInterrupted || !strings.Contains(res.Reason, "checkpoint at iteration") {
				t.Fatalf("first leg: %s (%s), %v", res.Status, res.Reason, err)
			}
			if res.Iterations%50 == 0 {
				t.Fatalf("stopped at %d, want an iteration between periodic checkpoints", res.Iterations)
			}
			spec.Resume = true
			runSpec(t, context.Background(), spec, StatusCompleted)
			sameRun(t, spec.Output, ref.Output)
			if _, err := os.Stat(CheckpointDir(spec.Output)); !os.IsNotExist(err) {
				t.Errorf("checkpoints left after a completed run: %v", err)
			}
		})
	}
}

// TestResumeAfterCrash copies the run file and its checkpoints in the middle
// of a run — what a kill -9 leaves on disk: the rows of the last flush, past
// the newest checkpoint — and resumes the copy. The resumed copy must cut the
// rows after the checkpoint and end exactly like the run it was copied from.
// Without any complete checkpoint, resume must fail and leave the file as it
// was.
func TestResumeAfterCrash(t *testing.T) {
	spec := baseSpec(t)
	spec.Iterations, spec.CheckpointEvery, spec.FlushEvery = 300, 40, 7
	orig := spec.Output
	crash := filepath.Join(t.TempDir(), "crash.h5")
	copied := -1
	sh, err := Prepare(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunInproc(context.Background(), sh, Options{ProgressEvery: 1, Progress: func(p Progress) {
		if p.Iteration >= 150 && copied < 0 {
			copied = p.Iteration
			copyFile(t, spec.Output, crash)
			os.MkdirAll(CheckpointDir(crash), 0o755)
			entries, _ := os.ReadDir(CheckpointDir(spec.Output))
			for _, e := range entries {
				copyFile(t, filepath.Join(CheckpointDir(spec.Output), e.Name()), filepath.Join(CheckpointDir(crash), e.Name()))
			}
		}
	}})
	if err != nil || res.Status != StatusCompleted {
		t.Fatal(res.Status, err)
	}
	before, err := hdf5io.Open(crash)
	if err != nil {
		t.Fatalf("the file as a crash leaves it does not open: %v", err)
	}
	if n := before.Rows(); n <= 121 || n > copied+1 {
		t.Fatalf("crash copy has %d rows (copied at iteration %d): the test needs rows past checkpoint 120", n, copied)
	}

	// No complete checkpoint: refused, file untouched.
	noMarker := filepath.Join(t.TempDir(), "nomarker.h5")
	copyFile(t, crash, noMarker)
	bad := spec
	bad.Output, bad.Resume = noMarker, true
	sh, _ = Prepare(bad, 3)
	if _, err := RunInproc(context.Background(), sh, Options{}); err == nil || !strings.Contains(err.Error(), "no complete checkpoint") {
		t.Fatalf("resume without a checkpoint: %v", err)
	}
	if run, err := hdf5io.Open(noMarker); err != nil || run.Rows() != before.Rows() {
		t.Fatalf("a refused resume changed the file: %v", err)
	}

	spec.Output, spec.Resume = crash, true
	runSpec(t, context.Background(), spec, StatusCompleted)
	sameRun(t, crash, orig)
}

// TestResumeRejectsOtherConfig: a checkpoint is only restored into the run
// that wrote it.
func TestResumeRejectsOtherConfig(t *testing.T) {
	spec := baseSpec(t)
	spec.Iterations, spec.CheckpointEvery = 200, 50
	ctx, cancel := context.WithCancel(context.Background())
	sh, err := Prepare(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	RunInproc(ctx, sh, Options{ProgressEvery: 1, Progress: func(p Progress) {
		if p.Iteration >= 60 {
			cancel()
		}
	}})
	cancel()
	spec.Resume, spec.Seed = true, 8
	sh, err = Prepare(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	_, err = RunInproc(context.Background(), sh, Options{})
	if err == nil || !strings.Contains(err.Error(), "different configuration") {
		t.Fatalf("resume with another seed: %v", err)
	}
}

// runSpec runs spec in-process and checks its final status.
func runSpec(t *testing.T, ctx context.Context, spec Spec, want string) Result {
	t.Helper()
	sh, err := Prepare(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunInproc(ctx, sh, Options{})
	if err != nil || res.Status != want {
		t.Fatalf("%s: status %s (%s), %v", spec.Output, res.Status, res.Reason, err)
	}
	return res
}

// runFile prepares spec for n ranks, runs it in-process and opens its run
// file.
func runFile(t *testing.T, spec Spec, n int) *hdf5io.Run {
	t.Helper()
	sh, err := Prepare(spec, n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := RunInproc(context.Background(), sh, Options{}); err != nil {
		t.Fatal(err)
	}
	run, err := hdf5io.Open(spec.Output)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
