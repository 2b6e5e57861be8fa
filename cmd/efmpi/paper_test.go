package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/internal/testenv"
)

// TestPaperConfigs checks that every experiment file of `make reproduce`
// parses and prepares (efmpi theory), and that the script is valid shell.
func TestPaperConfigs(t *testing.T) {
	root := testenv.RepoRoot()
	files, _ := filepath.Glob(filepath.Join(root, "configs", "paper", "*.toml"))
	if len(files) < 10 {
		t.Fatalf("found %d configs in configs/paper/", len(files))
	}
	for _, f := range files {
		code, stdout, stderr := efmpi(t, root, "theory", "-config", f)
		if code != 0 {
			if strings.Contains(stderr, "shared/datasets") && testenv.DatasetsDir() == "" {
				continue
			}
			t.Errorf("%s: exit %d\n%s%s", f, code, stdout, stderr)
		}
	}
	if out, err := exec.Command("bash", "-n", filepath.Join(root, "configs", "paper", "reproduce.sh")).CombinedOutput(); err != nil {
		t.Errorf("reproduce.sh: %v\n%s", err, out)
	}
}

// TestSweepPool runs scripts/sweeppool_test.sh, the checks of the queue that
// `make reproduce` runs its sweeps in (start order longest first, at most
// PAR at once, GOMAXPROCS per job, failures reported by name), with toy jobs.
func TestSweepPool(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	cmd := exec.Command(bash, "scripts/sweeppool_test.sh")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/sweeppool_test.sh: %v\n%s", err, out)
	}
}
