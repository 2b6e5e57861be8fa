package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestBuildWithoutDebianTools runs scripts/build_test.sh: on a PATH without
// dpkg and apt-get, scripts/hdf5-flags.sh finds HDF5 through pkg-config,
// through h5cc with pkg-config hidden, through HDF5_DIR/HDF5_ROOT and as
// given in CGO_CFLAGS/CGO_LDFLAGS with both hidden (each time the -I
// directory it prints must hold hdf5.h, and its test program must link),
// fails naming what to load or set when nothing is found, scripts/deps.sh
// installs nothing there, and `make build` (without -short) builds a binary
// that runs.
func TestBuildWithoutDebianTools(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	if _, err := exec.LookPath("h5cc"); err != nil {
		t.Skip("no h5cc (hdf5-tools / libhdf5-dev): the discovery routes cannot be exercised")
	}
	args := []string{"scripts/build_test.sh"}
	if testing.Short() {
		args = append(args, "--no-build")
	}
	cmd := exec.Command(bash, args...)
	cmd.Dir = "../.."
	// the script tries each route itself: none may be preset by the
	// environment the tests run in (make test runs them under hdf5-flags.sh,
	// which exports CGO_CFLAGS and CGO_LDFLAGS)
	for _, kv := range os.Environ() {
		switch name, _, _ := strings.Cut(kv, "="); name {
		case "CGO_CFLAGS", "CGO_LDFLAGS", "HDF5_DIR", "HDF5_ROOT", "HDF5_HOME":
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("scripts/build_test.sh: %v", err)
	}
}
