package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
)

// pythonWithScipy is a python3 that can import h5py, numpy and scipy.
func pythonWithScipy(t *testing.T) string {
	t.Helper()
	py := testenv.PythonWithH5py(t)
	if err := exec.Command(py, "-c", "import scipy.sparse").Run(); err != nil {
		t.Fatal("python3 cannot import scipy: install python3-scipy (make deps)")
	}
	return py
}

// scipyCheck rebuilds the converted matrix with h5py and scipy.sparse and
// compares it, exactly, with (a) efmpi's own LIBSVM parse of the source
// (dense float64 bytes written by the Go test) and (b) a naive LIBSVM parse
// written here in Python; it also checks the anndata attributes and the
// recorded sha256 of the source.
const scipyCheck = `
import sys, hashlib, h5py, numpy as np, scipy.sparse as sp
h5, src, efmpi_dense = sys.argv[1], sys.argv[2], sys.argv[3]
f = h5py.File(h5, "r")
g = f["X"]
assert g.attrs["encoding-type"] == "csr_matrix", g.attrs["encoding-type"]
assert g.attrs["encoding-version"] == "0.1.0"
m, d = (int(v) for v in g.attrs["shape"])
X = sp.csr_matrix((g["data"][:], g["indices"][:], g["indptr"][:]), shape=(m, d))
y = f["labels"][:]
# efmpi's parse, as raw little-endian float64: m*d matrix entries then m labels
ref = np.fromfile(efmpi_dense, dtype="<f8")
assert ref.size == m * d + m, (ref.size, m, d)
assert np.array_equal(X.toarray(), ref[: m * d].reshape(m, d)), "matrix differs from efmpi's LIBSVM parse"
assert np.array_equal(y, ref[m * d:]), "labels differ from efmpi's LIBSVM parse"
# an independent parse of the text
rows, raw = [], []
for line in open(src):
    line = line.split("#")[0].split()
    if not line:
        continue
    raw.append(float(line[0]))
    rows.append({int(t.split(":")[0]) - 1: float(t.split(":")[1]) for t in line[1:]})
D = np.zeros((len(rows), d))
for r, row in enumerate(rows):
    for c, v in row.items():
        D[r, c] = v
lo = min(raw)
assert np.array_equal(X.toarray(), D), "matrix differs from a naive parse"
assert np.array_equal(y, np.where(np.array(raw) == lo, -1.0, 1.0)), "labels differ from the rule"
assert f.attrs["label_negative"] == lo and f.attrs["label_positive"] == max(raw)
assert f.attrs["source_sha256"] == hashlib.sha256(open(src, "rb").read()).hexdigest()
assert X.nnz == len(g["data"]) and (np.diff(X.indptr) >= 0).all()
print("ok", m, d, X.nnz, "dtypes", g["data"].dtype, g["indices"].dtype, g["indptr"].dtype, y.dtype)
`

// efmpiDense writes ReadLIBSVM's matrix (dense) and labels as little-endian
// float64 for the Python check.
func efmpiDense(t *testing.T, src, out string) {
	t.Helper()
	ds, err := datasets.ReadLIBSVM(src, datasets.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vals := append(ds.Sparse.ToDense().Data, ds.Labels...)
	buf := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(v))
	}
	if err := os.WriteFile(out, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// `efmpi data convert` writes a file that h5py + scipy.sparse read back as
// the same matrix efmpi parses from the LIBSVM text, and `data info` reports it.
func TestDataConvertReadByScipy(t *testing.T) {
	py := pythonWithScipy(t)
	dir := t.TempDir()
	// Labels 3/7 (mapped to −1/+1), comments, tabs, a blank line, an explicit
	// zero, a row without features, \r\n.
	small := write(t, dir, "small.svm", "7 1:0.5 4:-2 # c\n\n3\t2:1e-3   3:0 5:7\r\n3\n7 5:1.25\n")
	cases := []string{small, testenv.Dataset(t, "a1a"), testenv.Dataset(t, "breast-cancer_scale")}
	// The narrowest exact types, as h5py sees them: 1e-3 and the scaled
	// features need float64, a1a's ones are float32; d ≤ 128 fits int8.
	dtypes := []string{"dtypes float64 int8 int32 float32", "dtypes float32 int8 int32 float32", "dtypes float64 int8 int32 float32"}
	for i, src := range cases {
		h5 := filepath.Join(dir, "c"+string(rune('0'+i))+".h5")
		code, stdout, stderr := efmpi(t, dir, "data", "convert", src, "-o", h5, "-chunk", "500")
		if code != 0 {
			t.Fatalf("convert %s: exit %d: %s", src, code, stderr)
		}
		if !strings.Contains(stdout, "sha256") {
			t.Fatalf("convert printed %q", stdout)
		}
		ref := filepath.Join(dir, "ref.bin")
		efmpiDense(t, src, ref)
		out, err := exec.Command(py, "-c", scipyCheck, h5, src, ref).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "ok") {
			t.Fatalf("%s: python check failed: %v\n%s", src, err, out)
		}
		if !strings.Contains(string(out), dtypes[i]) {
			t.Fatalf("%s: h5py sees %s, want %s", src, out, dtypes[i])
		}
		t.Logf("%s: %s", filepath.Base(src), strings.TrimSpace(string(out)))
		code, stdout, stderr = efmpi(t, dir, "data", "info", h5)
		full, _ := datasets.ReadLIBSVM(src, datasets.ReadOptions{})
		want := []string{"shape", "nonzeros", "source_sha256", "label_rule", "stored as", "data " + strings.Fields(dtypes[i])[1] + ", indices int8, indptr int32, labels float32"}
		if code != 0 || !strings.Contains(stdout, fmt.Sprintf("%d × %d", full.Rows(), full.Cols())) {
			t.Fatalf("data info: exit %d\n%s%s", code, stdout, stderr)
		}
		for _, w := range want {
			if !strings.Contains(stdout, w) {
				t.Fatalf("data info lacks %q:\n%s", w, stdout)
			}
		}
	}
	// An existing output is refused; a bad LIBSVM file leaves no output.
	if code, _, stderr := efmpi(t, dir, "data", "convert", small, "-o", filepath.Join(dir, "c0.h5")); code != 2 || !strings.Contains(stderr, "exists") {
		t.Fatalf("existing output: exit %d: %s", code, stderr)
	}
	bad := write(t, dir, "bad.svm", "1 1:1\n-1 2:x\n")
	if code, _, stderr := efmpi(t, dir, "data", "convert", bad, "-o", filepath.Join(dir, "bad.h5")); code != 2 || !strings.Contains(stderr, "bad.svm line 2") {
		t.Fatalf("bad LIBSVM: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.h5")); err == nil {
		t.Fatal("a failed conversion left its output file")
	}
}

// badFiles makes, with h5py, one broken variant of a valid 6 × 5 CSR file
// per argument name, in the current directory.
const badFiles = `
import sys, h5py, numpy as np
def make(name, data=None, indices=None, indptr=None, labels=None, shape=None, drop=()):
    data = np.array([1., 2., 3., 4., 5., 6., 7.]) if data is None else np.array(data)
    indices = np.array([0, 3, 1, 2, 4, 0, 1], dtype=np.int32) if indices is None else np.array(indices, dtype=np.int32)
    indptr = np.array([0, 2, 3, 5, 5, 6, 7], dtype=np.int64) if indptr is None else np.array(indptr, dtype=np.int64)
    labels = np.array([1., -1., 1., -1., 1., -1.]) if labels is None else np.array(labels, dtype=float)
    shape = [6, 5] if shape is None else shape
    with h5py.File(name + ".h5", "w") as f:
        g = f.create_group("X")
        g.attrs["encoding-type"] = "csr_matrix"
        g.attrs["encoding-version"] = "0.1.0"
        g.attrs["shape"] = np.array(shape, dtype=np.int64)
        for k, v in (("data", data), ("indices", indices), ("indptr", indptr)):
            if k not in drop:
                g[k] = v
        if "labels" not in drop:
            f["labels"] = labels
make("good")
make("missing_data", drop=("data",))
make("missing_labels", drop=("labels",))
make("indptr_decreasing", indptr=[0, 2, 1, 5, 5, 6, 7])
make("indptr_end", indptr=[0, 2, 3, 5, 5, 6, 6])
make("indices_out_of_range", indices=[0, 3, 1, 2, 9, 0, 1])
make("indices_not_increasing", indices=[3, 0, 1, 2, 4, 0, 1])
make("labels_zero_one", labels=[1, 0, 1, 0, 1, 0])
make("labels_one_value", labels=[1, 1, 1, 1, 1, 1])
make("shape_rows", shape=[5, 5])
make("shape_cols", indices=[0, 3, 1, 2, 4, 0, 6])
make("indices_float", indices=None)
f = h5py.File("indices_float.h5", "a"); del f["X/indices"]; f["X/indices"] = np.arange(7) / 2.0; f.close()
`

// Bad HDF5 input is refused before anything runs, exit 2, naming the file
// and the dataset; `efmpi data info` refuses it the same way.
func TestHDF5BadInputCatalogue(t *testing.T) {
	py := testenv.PythonWithH5py(t)
	dir := t.TempDir()
	cmd := exec.Command(py, "-c", badFiles)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("making the bad files: %v\n%s", err, out)
	}
	cfg := func(file string) string {
		return strings.Replace(small, "source = \"synthetic\"\nsamples = 200\nfeatures = 10",
			"source = \"hdf5\"\npath = \""+file+"\"", 1)
	}
	cases := []struct {
		file  string
		ranks int
		want  []string
	}{
		{"missing_data.h5", 2, []string{"/X/data", "missing dataset"}},
		{"missing_labels.h5", 2, []string{"/labels", "missing dataset"}},
		{"indptr_decreasing.h5", 2, []string{"/X/indptr", "inconsistent indptr"}},
		{"indptr_end.h5", 2, []string{"/X/indptr", "inconsistent indptr"}},
		{"indices_out_of_range.h5", 2, []string{"/X/indices", "outside [0, 5)"}},
		{"indices_not_increasing.h5", 2, []string{"/X/indices", "strictly increasing"}},
		{"labels_zero_one.h5", 2, []string{"/labels", "−1 or +1"}},
		{"labels_one_value.h5", 2, []string{"/labels", "both −1 and +1"}},
		{"shape_rows.h5", 2, []string{"/X/indptr", "shape [5, 5]"}},
		{"shape_cols.h5", 2, []string{"/X/indices", "outside [0, 5)"}},
		{"indices_float.h5", 2, []string{"/X/indices", "wrong element type"}},
		{"good.h5", 7, []string{"6 samples", "7 ranks"}},
		{"nonexistent.h5", 2, []string{"nonexistent.h5"}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			write(t, dir, "cfg.toml", cfg(tc.file))
			os.Remove(filepath.Join(dir, "out.h5"))
			code, stdout, stderr := efmpi(t, dir, "run", "-config", "cfg.toml", "-ranks", strconv.Itoa(tc.ranks), "-quiet")
			if code != 2 {
				t.Fatalf("exit %d, want 2\n%s%s", code, stdout, stderr)
			}
			for _, w := range append([]string{tc.file}, tc.want...) {
				if !strings.Contains(stderr, w) {
					t.Fatalf("message lacks %q:\n%s", w, stderr)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "out.h5")); err == nil {
				t.Fatal("a rejected run left an output file")
			}
			if tc.file == "good.h5" {
				return
			}
			code, _, stderr = efmpi(t, dir, "data", "info", tc.file)
			if code != 2 || !strings.Contains(stderr, tc.file) || !strings.Contains(stderr, tc.want[0]) {
				t.Fatalf("data info: exit %d: %s", code, stderr)
			}
		})
	}
	// The good file is accepted and runs.
	write(t, dir, "cfg.toml", cfg("good.h5"))
	if code, _, stderr := efmpi(t, dir, "run", "-config", "cfg.toml", "-quiet", "-set", "algorithm.k=2"); code != 0 {
		t.Fatalf("good file: exit %d: %s", code, stderr)
	}
}

// hdf5DeterminismConfig: ef21-theory (so L is computed by the distributed
// Lanczos in multi-process runs), shuffled and split by label.
const hdf5DeterminismConfig = `[problem]
kind = "logreg"
[data]
source = "%SOURCE%"
path = "%DATA%"
shuffle = true
split = "label"
[algorithm]
method = "ef21"
compressor = "top-k"
k = 2
[stepsize]
rule = "ef21-theory"
[run]
iterations = 100
ranks = 4
seed = 3
log_every = 5
output = "out.h5"
`

// The HDF5 copy of a1a gives, bit for bit, the LIBSVM file's trajectory in
// process, over self-spawned TCP ranks and under Open MPI's mpirun (each
// process reading only its rows and computing L with the others).
func TestHDF5DeterminismAcrossLaunchers(t *testing.T) {
	data := testenv.Dataset(t, "a1a")
	dir := t.TempDir()
	env := childEnv()
	runCmd(t, dir, env, efmpiBin, "data", "convert", data, "-o", "a1a.h5")
	cfgFor := func(source, path string) string {
		text := strings.ReplaceAll(strings.ReplaceAll(hdf5DeterminismConfig, "%SOURCE%", source), "%DATA%", path)
		return write(t, dir, source+".toml", text)
	}
	libsvm, h5 := cfgFor("libsvm", data), cfgFor("hdf5", filepath.Join(dir, "a1a.h5"))
	runCmd(t, dir, env, efmpiBin, "run", "-config", libsvm, "-quiet", "-out", "ref.h5")
	runs := map[string]string{"hdf5 inproc": "h5-inproc.h5", "hdf5 tcp": "h5-tcp.h5", "libsvm tcp": "svm-tcp.h5"}
	runCmd(t, dir, env, efmpiBin, "run", "-config", h5, "-quiet", "-out", "h5-inproc.h5")
	runCmd(t, dir, env, efmpiBin, "run", "-config", h5, "-quiet", "-transport", "tcp", "-out", "h5-tcp.h5")
	runCmd(t, dir, env, efmpiBin, "run", "-config", libsvm, "-quiet", "-transport", "tcp", "-out", "svm-tcp.h5")
	if mpirun, err := exec.LookPath("mpirun.openmpi"); err == nil {
		runCmd(t, dir, childEnv("OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"), mpirun,
			"-np", "4", "--oversubscribe", efmpiBin, "run", "-config", h5, "-quiet", "-out", "h5-mpirun.h5")
		runs["hdf5 mpirun"] = "h5-mpirun.h5"
	} else {
		t.Log("mpirun.openmpi not installed: Open MPI leg skipped")
	}
	ref, err := hdf5io.Open(filepath.Join(dir, "ref.h5"))
	if err != nil {
		t.Fatal(err)
	}
	if ref.Rows() != 21 || !(ref.Attrs["L"].(float64) > 0) {
		t.Fatalf("reference: %d rows, L = %v", ref.Rows(), ref.Attrs["L"])
	}
	for name, file := range runs {
		got, err := hdf5io.Open(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []string{"L", "L_tilde", "gamma"} {
			if math.Float64bits(got.Attrs[a].(float64)) != math.Float64bits(ref.Attrs[a].(float64)) {
				t.Errorf("%s: %s = %.17g, reference %.17g", name, a, got.Attrs[a], ref.Attrs[a])
			}
		}
		for col, want := range ref.Floats {
			if col != "time_s" && !bitsEqual(got.Floats[col], want) {
				t.Errorf("%s: /trajectory/%s differs from the in-process LIBSVM run", name, col)
			}
		}
		if !bitsEqual(got.XFinal, ref.XFinal) {
			t.Errorf("%s: /x_final differs from the in-process LIBSVM run", name)
		}
	}
}

// synthSparseConfig: synthetic-sparse data, shuffled, ef21-theory.
const synthSparseConfig = `[problem]
kind = "logreg"
[data]
source = "synthetic-sparse"
samples = 3000
features = 500
nnz_per_row = 8
shuffle = true
[algorithm]
method = "ef21"
compressor = "top-k"
k = 3
[stepsize]
rule = "ef21-theory"
[run]
iterations = 60
ranks = 3
seed = 3
log_every = 10
output = "out.h5"
`

// The generated source, the same rows written by `efmpi data synth` as HDF5
// and as LIBSVM text, and the HDF5 file over TCP ranks all give the same
// trajectory bit for bit.
func TestSyntheticSparseSourceEqualsFiles(t *testing.T) {
	dir := t.TempDir()
	env := childEnv()
	cfg := write(t, dir, "gen.toml", synthSparseConfig)
	runCmd(t, dir, env, efmpiBin, "data", "synth", "-samples", "3000", "-features", "500", "-nnz", "8", "-seed", "3", "-o", "s.h5")
	runCmd(t, dir, env, efmpiBin, "data", "synth", "-samples", "3000", "-features", "500", "-nnz", "8", "-seed", "3", "-o", "s.svm")
	fileCfg := func(name, source, path string) string {
		text := strings.Replace(synthSparseConfig, "source = \"synthetic-sparse\"\nsamples = 3000\nfeatures = 500\nnnz_per_row = 8",
			"source = \""+source+"\"\npath = \""+path+"\"\nfeatures = 500", 1)
		return write(t, dir, name, text)
	}
	h5, svm := fileCfg("h5.toml", "hdf5", "s.h5"), fileCfg("svm.toml", "libsvm", "s.svm")
	runCmd(t, dir, env, efmpiBin, "run", "-config", cfg, "-quiet", "-out", "gen.h5")
	runCmd(t, dir, env, efmpiBin, "run", "-config", h5, "-quiet", "-out", "h5.h5")
	runCmd(t, dir, env, efmpiBin, "run", "-config", svm, "-quiet", "-out", "svm.h5")
	runCmd(t, dir, env, efmpiBin, "run", "-config", h5, "-quiet", "-transport", "tcp", "-out", "h5tcp.h5")
	runCmd(t, dir, env, efmpiBin, "run", "-config", cfg, "-quiet", "-transport", "tcp", "-out", "gentcp.h5")
	ref, err := hdf5io.Open(filepath.Join(dir, "gen.h5"))
	if err != nil {
		t.Fatal(err)
	}
	if ref.Rows() != 7 || ref.String("dataset") != "synthetic-sparse" {
		t.Fatalf("reference: %d rows, dataset %q", ref.Rows(), ref.String("dataset"))
	}
	for _, file := range []string{"h5.h5", "svm.h5", "h5tcp.h5", "gentcp.h5"} {
		got, err := hdf5io.Open(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		for col, want := range ref.Floats {
			if col != "time_s" && !bitsEqual(got.Floats[col], want) {
				t.Errorf("%s: /trajectory/%s differs from the generated source's run", file, col)
			}
		}
		if !bitsEqual(got.XFinal, ref.XFinal) || got.Attrs["L"] != ref.Attrs["L"] {
			t.Errorf("%s: /x_final or L differs from the generated source's run", file)
		}
	}
}

// Config mistakes about the new [data] sources and keys: exit 2, naming the key.
func TestDataConfigErrors(t *testing.T) {
	base := synthSparseConfig
	cases := []struct {
		name, old, new string
		want           []string
	}{
		{"hdf5 without path", "source = \"synthetic-sparse\"\nsamples = 3000\nfeatures = 500\nnnz_per_row = 8", "source = \"hdf5\"", []string{"[data] path is required", "hdf5"}},
		{"samples for hdf5", "source = \"synthetic-sparse\"\nsamples = 3000\nfeatures = 500\nnnz_per_row = 8", "source = \"hdf5\"\npath = \"x.h5\"\nsamples = 3", []string{"data.samples", "does not apply"}},
		{"nnz_per_row for libsvm", "source = \"synthetic-sparse\"\nsamples = 3000\nfeatures = 500", "source = \"libsvm\"\npath = \"x.svm\"", []string{"data.nnz_per_row", "does not apply"}},
		{"nnz_per_row above features", "nnz_per_row = 8", "nnz_per_row = 501", []string{"nnz_per_row = 501", "features = 500"}},
		{"label_noise out of range", "nnz_per_row = 8", "nnz_per_row = 8\nlabel_noise = 0.7", []string{"label_noise = 0.7"}},
		{"exponent negative", "nnz_per_row = 8", "nnz_per_row = 8\nexponent = -1.0", []string{"exponent = -1"}},
		{"unknown source", "source = \"synthetic-sparse\"", "source = \"parquet\"", []string{"data.source", "parquet"}},
		{"hdf5 features below the file's d", "source = \"synthetic-sparse\"\nsamples = 3000\nfeatures = 500\nnnz_per_row = 8", "source = \"hdf5\"\npath = \"s.h5\"\nfeatures = 20", []string{"s.h5", "features = 20"}},
	}
	dir := t.TempDir()
	runCmd(t, dir, childEnv(), efmpiBin, "data", "synth", "-samples", "100", "-features", "50", "-nnz", "5", "-o", "s.h5")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(base, tc.old) {
				t.Fatalf("case does not apply: %q", tc.old)
			}
			write(t, dir, "cfg.toml", strings.Replace(base, tc.old, tc.new, 1))
			code, _, stderr := efmpi(t, dir, "run", "-config", "cfg.toml", "-quiet")
			if code != 2 {
				t.Fatalf("exit %d, want 2: %s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Fatalf("message lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}
