package hdf5io

import (
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/internal/testenv"
)

func testRows(n int) []Row {
	rows := make([]Row, n)
	for i := range rows {
		k := float64(i)
		rows[i] = Row{Iteration: int64(3 * i), F: 1 / (k + 1), GradNormSq: math.Exp(-k), EstErrSq: k * 0.5,
			StepSize: 0.125, BitsPerWorker: int64(32 * i), WireBytesUp: int64(100 * i), WireBytesDown: int64(7 * i), TimeS: k / 8,
			GradEvals: int64(1 + 2*i)}
	}
	return rows
}

func writeRun(t *testing.T, path string, rows []Row, flushEvery int) {
	t.Helper()
	r, err := Create(path, false, flushEvery, []Attr{{"method", "ef21"}, {"k", 1}, {"contraction_alpha", 0.25}, {"normalize", true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if err := r.Append(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.WriteVector("x0", []float64{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteVector("x_final", []float64{-1, 0.5, math.Pi}); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteRanks([]int64{400, 401}, []string{"node01", "n2"}); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteTiming([]Attr{{"gradient_s", 1.5}}); err != nil {
		t.Fatal(err)
	}
	if err := r.Close("completed"); err != nil {
		t.Fatal(err)
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.h5")
	rows := testRows(2500) // spans three chunks and several flushes
	writeRun(t, path, rows, 7)
	run, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if run.Rows() != len(rows) {
		t.Fatalf("rows = %d, want %d", run.Rows(), len(rows))
	}
	for i, row := range rows {
		if run.Ints["iteration"][i] != row.Iteration || run.Floats["grad_norm_sq"][i] != row.GradNormSq ||
			run.Ints["wire_bytes_up"][i] != row.WireBytesUp || run.Floats["time_s"][i] != row.TimeS {
			t.Fatalf("row %d differs", i)
		}
	}
	if run.Attrs["status"] != "completed" || run.Attrs["method"] != "ef21" || run.Attrs["k"] != int64(1) ||
		run.Attrs["contraction_alpha"] != 0.25 || run.Attrs["normalize"] != int64(1) {
		t.Fatalf("attributes %v", run.Attrs)
	}
	if !slices.Equal(run.XFinal, []float64{-1, 0.5, math.Pi}) || !slices.Equal(run.Hosts, []string{"node01", "n2"}) ||
		!slices.Equal(run.ShardSizes, []int64{400, 401}) || run.Timing["gradient_s"] != 1.5 {
		t.Fatalf("x_final %v hosts %v shards %v timing %v", run.XFinal, run.Hosts, run.ShardSizes, run.Timing)
	}
}

func TestRefusesExisting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.h5")
	if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Create(path, false, 1, nil)
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want ErrExists naming the file", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Fatal("existing file was modified")
	}
	r, err := Create(path, true, 1, nil)
	if err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	r.Close("completed")
}

// h5py, an independent reader, sees the names, shapes, dtypes, attributes and
// values the recorder wrote.
func TestReadBackWithH5py(t *testing.T) {
	py := testenv.PythonWithH5py(t)
	path := filepath.Join(t.TempDir(), "run.h5")
	writeRun(t, path, testRows(5), 2)
	script := `
import h5py, sys, math
f = h5py.File(sys.argv[1], "r")
a = f.attrs
assert type(a["status"]) is str and a["status"] == "completed", repr(a["status"])
assert a["k"] == 1 and a["contraction_alpha"] == 0.25 and a["normalize"] == 1
t = f["trajectory"]
assert sorted(t.keys()) == sorted(["iteration","f","grad_norm_sq","est_err_sq","step_size","bits_per_worker","wire_bytes_up","wire_bytes_down","time_s","grad_evals"]), list(t.keys())
assert all(t[k].shape == (5,) for k in t.keys())
assert t["iteration"].dtype.kind == "i" and t["f"].dtype.kind == "f"
assert list(t["iteration"][:]) == [0, 3, 6, 9, 12]
assert t["grad_norm_sq"][2] == math.exp(-2)
assert t["iteration"].chunks == (1024,) and t["iteration"].maxshape == (None,)
assert list(f["x_final"][:]) == [-1, 0.5, math.pi]
assert f["ranks/host"].asstr()[:].tolist() == ["node01", "n2"]
assert h5py.check_string_dtype(f["ranks/host"].dtype).encoding == "utf-8"
hosts = f["ranks"].attrs["host"]
assert [type(h) for h in hosts] == [str, str] and list(hosts) == ["node01", "n2"], repr(hosts)
def check(name, obj):
    if isinstance(obj, h5py.Dataset):
        u, d = obj.attrs["units"], obj.attrs["description"]
        assert type(u) is str and type(d) is str and len(d) > 10, (name, u, d)
f.visititems(check)
assert f["trajectory/bits_per_worker"].attrs["units"] == "bit"
assert f["trajectory/time_s"].attrs["units"] == "s"
assert list(f["ranks/shard_size"][:]) == [400, 401]
print("ok")
`
	out, err := exec.Command(py, "-c", script, path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("h5py check failed: %v\n%s", err, out)
	}
}

// A file written before grad_evals existed (the column deleted by h5py)
// is still read, without the column; a new file has it with its values.
func TestReadWithoutGradEvals(t *testing.T) {
	py := testenv.PythonWithH5py(t)
	path := filepath.Join(t.TempDir(), "old.h5")
	writeRun(t, path, testRows(4), 2)
	run, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := run.Ints["grad_evals"]; len(got) != 4 || got[3] != 7 {
		t.Fatalf("grad_evals = %v, want [1 3 5 7]", got)
	}
	if out, err := exec.Command(py, "-c", `import h5py, sys
f = h5py.File(sys.argv[1], "r+")
del f["trajectory/grad_evals"]
f.close()`, path).CombinedOutput(); err != nil {
		t.Fatalf("h5py: %v\n%s", err, out)
	}
	run, err = Open(path)
	if err != nil {
		t.Fatalf("a file without grad_evals: %v", err)
	}
	if _, ok := run.Ints["grad_evals"]; ok || len(run.Ints["iteration"]) != 4 {
		t.Fatalf("columns %v", run.Ints)
	}
}

// h5dump, the HDF5 project's own tool, reads the file too.
func TestReadBackWithH5dump(t *testing.T) {
	if _, err := exec.LookPath("h5dump"); err != nil {
		t.Fatal("h5dump not installed: install hdf5-tools (make deps)")
	}
	path := filepath.Join(t.TempDir(), "run.h5")
	writeRun(t, path, testRows(4), 1)
	out, err := exec.Command("h5dump", "-d", "/trajectory/bits_per_worker", "-a", "/status",
		"-a", "/trajectory/time_s/units", "-d", "/ranks/host", path).CombinedOutput()
	if err != nil {
		t.Fatalf("h5dump: %v\n%s", err, out)
	}
	s := string(out)
	for _, want := range []string{"H5T_STD_I64LE", "DATASPACE  SIMPLE { ( 4 ) / ( H5S_UNLIMITED ) }", "0, 32, 64, 96", `"completed"`,
		"H5T_CSET_UTF8", `"s"`, `"node01", "n2"`, "H5T_VARIABLE"} {
		if !strings.Contains(s, want) {
			t.Fatalf("h5dump output lacks %q:\n%s", want, s)
		}
	}
}

// A file of the old layout (root attributes alpha and split_alpha) reads
// under the current names, contraction_alpha and dirichlet_alpha, with the
// old names gone; where both names are present the current one is kept.
func TestLegacyAttrsRenamed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.h5")
	r, err := Create(path, false, 1, []Attr{{"method", "ef21"}, {"alpha", 0.25}, {"split_alpha", 0.3}, {"dirichlet_alpha", 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range testRows(2) {
		if err := r.Append(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close("completed"); err != nil {
		t.Fatal(err)
	}
	run, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a := run.Attrs
	_, hasAlpha := a["alpha"]
	_, hasSplit := a["split_alpha"]
	if a["contraction_alpha"] != 0.25 || a["dirichlet_alpha"] != 0.5 || hasAlpha || hasSplit || a["method"] != "ef21" {
		t.Fatalf("attributes %v", a)
	}
}
