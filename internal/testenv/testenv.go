// Package testenv locates the resources tests share: the LIBSVM datasets that live
// next to the repository (../shared/datasets), never copied into it.
package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot is the module root (the directory holding go.mod).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// DatasetsDir returns the datasets directory: $EFMPI_DATASETS if set, else
// ../shared/datasets beside the repository. It returns "" if neither exists.
func DatasetsDir() string {
	if d := os.Getenv("EFMPI_DATASETS"); d != "" {
		return d
	}
	d := filepath.Join(RepoRoot(), "..", "shared", "datasets")
	if st, err := os.Stat(d); err == nil && st.IsDir() {
		return d
	}
	return ""
}

// Dataset returns the path of the named LIBSVM file, skipping the test when the
// datasets directory is absent (set EFMPI_DATASETS to point at it).
func Dataset(tb testing.TB, name string) string {
	tb.Helper()
	dir := DatasetsDir()
	if dir == "" {
		tb.Skip("datasets not found: set EFMPI_DATASETS to the directory holding a1a, a9a, …")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("dataset %s: %v", name, err)
	}
	return p
}
