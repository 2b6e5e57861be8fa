package hdf5io

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/internal/testenv"
)

// corruptValue flips a byte of the one place in the file where the float64
// v is stored (the test rows make every value of f distinct).
func corruptValue(t *testing.T, path string, v float64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pat [8]byte
	binary.LittleEndian.PutUint64(pat[:], math.Float64bits(v))
	i := bytes.Index(data, pat[:])
	if i < 0 || bytes.Index(data[i+1:], pat[:]) >= 0 {
		t.Fatalf("value %v found %d times, want exactly once", v, bytes.Count(data, pat[:]))
	}
	data[i+3] ^= 0x5a
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A damaged chunk of /trajectory/f is detected on read by the Fletcher-32
// checksum: efmpi's reader, a resume and h5py all refuse it instead of
// returning wrong numbers.
func TestChecksumDetectsDamage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.h5")
	rows := testRows(50)
	writeRun(t, path, rows, 10)
	if _, err := Open(path); err != nil {
		t.Fatalf("undamaged file: %v", err)
	}
	corruptValue(t, path, rows[17].F)
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), "/trajectory/f") || !strings.Contains(strings.ToLower(err.Error()), "fletcher32") {
		t.Fatalf("Open of a damaged file: %v, want a checksum error naming /trajectory/f", err)
	}
	if _, err := Resume(path, 10, 30); err == nil || !strings.Contains(err.Error(), "damaged rows") {
		t.Fatalf("Resume of a damaged file: %v", err)
	}
	py := testenv.PythonWithH5py(t)
	out, err := exec.Command(py, "-c", `import h5py, sys
f = h5py.File(sys.argv[1], "r")
print(f["trajectory/f"].compression, f["trajectory/f"].fletcher32)
f["trajectory/f"][:]`, path).CombinedOutput()
	if err == nil || !strings.Contains(strings.ToLower(string(out)), "fletcher32") || !strings.Contains(string(out), "None True") {
		t.Fatalf("h5py read the damaged column without complaint: %v\n%s", err, out)
	}
}

// A second writer of a file that is being written is refused with ErrLocked
// and the file is left intact; once the first writer closes, it may write.
func TestLockRefusesSecondWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.h5")
	r, err := Create(path, false, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range testRows(3) {
		r.Append(row)
	}
	_, err = Create(path, true, 1, nil)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "pid ") {
		t.Fatalf("second Create: %v, want ErrLocked naming the file and the holder", err)
	}
	if _, err := Resume(path, 1, 0); !errors.Is(err, ErrLocked) {
		t.Fatalf("Resume while written: %v, want ErrLocked", err)
	}
	if err := CheckUnlocked(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("CheckUnlocked: %v", err)
	}
	if err := r.Close("completed"); err != nil {
		t.Fatalf("the first writer's close: %v", err)
	}
	run, err := Open(path)
	if err != nil || run.Rows() != 3 {
		t.Fatalf("after the refused writer: %v", err)
	}
	if _, err := os.Stat(LockPath(path)); !os.IsNotExist(err) {
		t.Errorf("lock file left behind: %v", err)
	}
	if err := CheckUnlocked(path); err != nil {
		t.Fatal(err)
	}
	r2, err := Create(path, true, 1, nil)
	if err != nil {
		t.Fatalf("after the first writer closed: %v", err)
	}
	r2.Close("completed")
}

// A file removed or replaced under a running recorder is not reported as
// finished.
func TestCloseNoticesReplacedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.h5")
	r, err := Create(path, false, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range testRows(4) {
		r.Append(row)
	}
	writeRun(t, filepath.Join(dir, "other.h5"), testRows(1), 1)
	if err := os.Rename(filepath.Join(dir, "other.h5"), path); err != nil {
		t.Fatal(err)
	}
	err = r.Close("completed")
	if err == nil || !strings.Contains(err.Error(), "removed or replaced") {
		t.Fatalf("Close after the file was replaced: %v", err)
	}
}

// Library errors are one line naming the file and the library's reason.
func TestOneLineErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.h5")
	writeRun(t, good, testRows(5), 1)
	data, _ := os.ReadFile(good)
	trunc := filepath.Join(dir, "trunc.h5")
	os.WriteFile(trunc, data[:3000], 0o644)
	_, err := Open(trunc)
	if err == nil || !strings.Contains(err.Error(), "trunc.h5") || !strings.Contains(err.Error(), "truncated file") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Open(truncated) = %v", err)
	}
}

// While the recorder writes, h5py in SWMR mode reads every flushed row (the
// file is written in single-writer/multiple-reader mode); after Close an
// ordinary reader sees the final status.
func TestSWMRReaderFollowsWriter(t *testing.T) {
	py := testenv.PythonWithH5py(t)
	path := filepath.Join(t.TempDir(), "run.h5")
	r, err := Create(path, false, 5, []Attr{{"method", "ef21"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WriteVector("x0", []float64{1, 2}); err != nil {
		t.Fatal(err)
	}
	rows := testRows(12)
	for _, row := range rows {
		if err := r.Append(row); err != nil {
			t.Fatal(err)
		}
	}
	if !r.swmr {
		t.Fatal("the recorder did not enter SWMR writing")
	}
	out, err := exec.Command(py, "-c", `import h5py, sys
f = h5py.File(sys.argv[1], "r", swmr=True)
t = f["trajectory"]
print(len(t["iteration"]), list(t["iteration"][:]), f.attrs["status"])`, path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "10 [0, 3, 6, 9, 12, 15, 18, 21, 24, 27] running" {
		t.Fatalf("h5py (swmr=True) while the recorder writes: %v\n%s", err, out)
	}
	if err := r.WriteVector("x_final", []float64{3, 4}); err != nil { // leaves SWMR mode
		t.Fatal(err)
	}
	if err := r.Close("completed"); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(py, "-c", `import h5py, sys
f = h5py.File(sys.argv[1], "r")
print(len(f["trajectory/iteration"]), list(f["x_final"][:]), f.attrs["status"])`, path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "12 [3.0, 4.0] completed" {
		t.Fatalf("h5py after Close: %v\n%s", err, out)
	}
}

// When the disk fills in the middle of a flush (the room check is off here,
// as when another program fills the disk), the columns are cut back to the
// last flush that succeeded: every row on disk is whole and equal to what
// was appended, and the file opens.
func TestDiskFullMidFlush(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	checkRoom = false
	defer func() { checkRoom = true }()
	for _, size := range []string{"200k", "1400k"} {
		t.Run(size, func(t *testing.T) {
			mnt := t.TempDir()
			if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", mnt).CombinedOutput(); err != nil {
				t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
			}
			defer exec.Command("umount", mnt).Run()
			path := filepath.Join(mnt, "run.h5")
			r, err := Create(path, false, 50, []Attr{{"method", "ef21"}})
			if err != nil {
				t.Fatal(err)
			}
			rows := testRows(200000)
			var appendErr error
			for _, row := range rows {
				if appendErr = r.Append(row); appendErr != nil {
					break
				}
			}
			if appendErr == nil {
				t.Fatal("the disk never filled")
			}
			t.Logf("append: %v", appendErr)
			r.Close("failed")
			run, err := Open(path)
			if err != nil {
				t.Fatalf("file after the disk filled mid-flush: %v", err)
			}
			n := run.Rows()
			if n < 50 {
				t.Fatalf("%d rows kept", n)
			}
			for _, name := range Columns {
				got := len(run.Ints[name]) + len(run.Floats[name])
				if got != n {
					t.Fatalf("/trajectory/%s has %d rows, iteration %d", name, got, n)
				}
			}
			for i := 0; i < n; i++ {
				w := rows[i]
				if run.Ints["iteration"][i] != w.Iteration || run.Ints["wire_bytes_up"][i] != w.WireBytesUp ||
					run.Floats["f"][i] != w.F || run.Floats["time_s"][i] != w.TimeS {
					t.Fatalf("row %d differs from what was appended", i)
				}
			}
			t.Logf("%d rows whole, status %q", n, run.String("status"))
		})
	}
}
