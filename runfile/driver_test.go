package runfile_test

import (
	"slices"
	"testing"

	"github.com/efmpi/efmpi/driver"
	"github.com/efmpi/efmpi/runfile"
)

// The driver writes the statuses this package names.
func TestStatusesAgreeWithDriver(t *testing.T) {
	written := []string{driver.StatusRunning, driver.StatusCompleted, driver.StatusTolerance,
		driver.StatusDiverged, driver.StatusFailed, driver.StatusInterrupted}
	if !slices.Equal(written, runfile.Statuses()) {
		t.Errorf("driver writes %q, runfile names %q", written, runfile.Statuses())
	}
}
