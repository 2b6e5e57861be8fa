package algorithms

import (
	"errors"
	"fmt"
	"testing"
)

func TestStatus(t *testing.T) {
	for s, want := range map[Status]string{NotTerminated: "running", Completed: "completed", StoppedTolerance: "stopped-tolerance",
		Diverged: "diverged", Failed: "failed", Interrupted: "interrupted", Status(99): "unknown"} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", int(s), s.String(), want)
		}
	}
	if StatusOf(nil) != NotTerminated || StatusOf(fmt.Errorf("round 3: %w", ErrZeroEstimator)) != StoppedTolerance || StatusOf(errors.New("x")) != Failed {
		t.Fatal("StatusOf misclassifies")
	}
	if !Completed.Success() || !StoppedTolerance.Success() || Diverged.Success() || NotTerminated.Final() || !Failed.Final() {
		t.Fatal("Success/Final wrong")
	}
}
