package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
)

var efmpiBin string

// TestMain builds the efmpi binary once; the tests run it as a user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "efmpi-cli")
	if err != nil {
		panic(err)
	}
	efmpiBin = filepath.Join(dir, "efmpi")
	if out, err := exec.Command("go", "build", "-o", efmpiBin, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// efmpi runs the binary in dir and returns its exit code and output.
func efmpi(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(efmpiBin, args...)
	cmd.Dir = dir
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, so.String(), se.String()
}

// small is a quick valid config; cases edit it.
const small = `[problem]
kind = "logreg"
[data]
source = "synthetic"
samples = 200
features = 10
[algorithm]
method = "ef21"
normalize = true
compressor = "top-k"
k = 1
[stepsize]
rule = "norm-theory"
[run]
iterations = 30
ranks = 2
output = "out.h5"
`

func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The bad-input catalogue: each case is a config, dataset or command-line
// mistake with the exit code and the words its message must contain.
func TestBadInputCatalogue(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(small, old) {
			panic("catalogue case does not apply: " + old)
		}
		return strings.Replace(small, old, new, 1)
	}
	svm := func(body string) string {
		return replace("source = \"synthetic\"\nsamples = 200\nfeatures = 10", "source = \"libsvm\"\npath = \"data.svm\"") + "#" + body
	}
	cases := []struct {
		name   string
		config string // "" = no config file written
		data   string // contents of data.svm, if any
		args   []string
		code   int
		want   []string
	}{
		{"unknown key", replace("k = 1", "k = 1\nkk = 2"), "", nil, 2, []string{"cfg.toml", `unknown key "kk" in [algorithm]`}},
		{"top-level key", "seed = 3\n" + small, "", nil, 2, []string{`"seed"`, "top level"}},
		{"wrong type", replace("k = 1", `k = "one"`), "", nil, 2, []string{"cfg.toml", "k"}},
		{"toml syntax", replace("k = 1", "k = = 1"), "", nil, 2, []string{"cfg.toml", "line 11"}},
		{"unknown method", replace(`method = "ef21"`, `method = "ef22"`), "", nil, 2, []string{"algorithm.method", `"ef22"`}},
		{"unknown compressor", replace(`compressor = "top-k"`, `compressor = "topk"`), "", nil, 2, []string{"algorithm.compressor"}},
		{"unknown rule", replace(`rule = "norm-theory"`, `rule = "adam"`), "", nil, 2, []string{"stepsize.rule"}},
		{"unknown problem", replace(`kind = "logreg"`, `kind = "svm"`), "", nil, 2, []string{"problem.kind"}},
		{"k zero", replace("k = 1", "k = 0"), "", nil, 2, []string{"[algorithm] k = 0"}},
		{"k above d", replace("k = 1", "k = 11"), "", nil, 2, []string{"k = 11", "d = 10"}},
		{"gamma negative", replace(`rule = "norm-theory"`, "rule = \"constant\"\ngamma = -1.0"), "", nil, 2, []string{"gamma = -1"}},
		{"constant without gamma", replace(`rule = "norm-theory"`, `rule = "constant"`), "", nil, 2, []string{"needs gamma"}},
		{"ranks zero", replace("ranks = 2", "ranks = 0"), "", nil, 2, []string{"[run] ranks = 0"}},
		{"more ranks than samples", replace("samples = 200", "samples = 3") + "", "", []string{"-ranks", "4"}, 2, []string{"3 samples", "4 ranks"}},
		{"iterations zero", replace("iterations = 30", "iterations = 0"), "", nil, 2, []string{"iterations = 0"}},
		{"tolerance negative", replace("iterations = 30", "iterations = 30\ntolerance = -1.0"), "", nil, 2, []string{"tolerance"}},
		{"bad timeout", replace("iterations = 30", "iterations = 30\ntimeout = \"soon\""), "", nil, 2, []string{"timeout", "soon"}},
		{"batch for ef21", replace("k = 1", "k = 1\nbatch = 8"), "", nil, 2, []string{"algorithm.batch", "does not apply"}},
		{"eta for ef21", replace("k = 1", "k = 1\neta = 0.5"), "", nil, 2, []string{"algorithm.eta", "does not apply"}},
		{"eta out of range", replace(`method = "ef21"`, `method = "ef21-sgdm"`+"\neta = 1.5"), "", nil, 2, []string{"eta = 1.5"}},
		{"gamma0 for ef21-theory", replace(`rule = "norm-theory"`, "rule = \"ef21-theory\"\ngamma0 = 2.0"), "", nil, 2, []string{"stepsize.gamma0", "does not apply"}},
		{"path for synthetic", replace("features = 10", "features = 10\npath = \"x\""), "", nil, 2, []string{"data.path", "does not apply"}},
		{"k for sign", replace(`compressor = "top-k"`, `compressor = "sign"`), "", nil, 2, []string{"algorithm.k", "does not apply"}},
		{"normalized ef14", replace(`method = "ef21"`, `method = "ef14"`), "", nil, 2, []string{"normalize"}},
		{"missing dataset", svm(""), "", nil, 2, []string{"data.svm"}},
		{"third label", svm(""), "1 1:1\n-1 2:1\n2 1:1\n", nil, 2, []string{"data.svm line 3", "label"}},
		{"index zero", svm(""), "1 0:1\n-1 2:1\n", nil, 2, []string{"data.svm line 1"}},
		{"indices not increasing", svm(""), "1 1:1\n-1 3:1 2:1\n", nil, 2, []string{"data.svm line 2"}},
		{"NaN value", svm(""), "1 1:nan\n-1 2:1\n", nil, 2, []string{"data.svm line 1"}},
		{"malformed token", svm(""), "1 1:1\n-1 2\n", nil, 2, []string{"data.svm line 2"}},
		{"one label", svm(""), "1 1:1\n1 2:1\n", nil, 2, []string{"data.svm"}},
		{"empty dataset", svm(""), "", nil, 2, []string{"data.svm"}},
		{"x0 file wrong length", replace("[run]", "[init]\nx0 = \"x0.txt\"\n[run]"), "", nil, 2, []string{"x0.txt", "dimension 10"}},
		{"missing config", "", "", []string{"run", "-config", "nope.toml"}, 2, []string{"nope.toml"}},
		{"set without equals", small, "", []string{"-set", "run.iterations"}, 2, []string{"section.key=value"}},
		{"set unknown key", small, "", []string{"-set", "run.iters=5"}, 2, []string{`unknown key "iters" in [run]`}},
		{"bad transport flag", small, "", []string{"-transport", "udp"}, 2, []string{"-transport", "udp"}},
		{"unknown flag", small, "", []string{"-fast"}, 2, []string{"fast"}},
		{"unwritable output", small, "", []string{"-out", "/proc/efmpi/out.h5"}, 2, []string{"/proc/efmpi"}},
		{"checkpoint_every negative", replace("iterations = 30", "iterations = 30\ncheckpoint_every = -5"), "", nil, 2, []string{"checkpoint_every = -5"}},
		{"resume without output file", small, "", []string{"-resume"}, 2, []string{"-resume", "out.h5"}},
		{"unknown command", "", "", []string{"walk"}, 2, []string{`unknown command "walk"`}},
		{"inspect missing file", "", "", []string{"inspect", "none.h5"}, 2, []string{"none.h5"}},
		// issue 13: values that used to run, wrap or fail later
		{"sigma0 inf", replace("[run]", "[init]\nsigma0 = inf\n[run]"), "", nil, 2, []string{"[init] sigma0 = +Inf"}},
		{"tolerance nan", replace("iterations = 30", "iterations = 30\ntolerance = nan"), "", nil, 2, []string{"[run] tolerance = NaN"}},
		{"seed negative", replace("iterations = 30", "iterations = 30\nseed = -1"), "", nil, 2, []string{"[run] seed = -1"}},
		{"lambda nan", replace(`kind = "logreg"`, "kind = \"logreg\"\nlambda = nan"), "", nil, 2, []string{"[problem] lambda = NaN"}},
		{"iterations huge", replace("iterations = 30", "iterations = 9223372036854775807"), "", nil, 2, []string{"[run] iterations = 9223372036854775807"}},
		{"gamma inf", replace(`rule = "norm-theory"`, "rule = \"constant\"\ngamma = inf"), "", nil, 2, []string{"stepsize.gamma"}},
		{"set wrong type names the flag", small, "", []string{"-set", "run.iterations=abc"}, 2, []string{"-set run.iterations=abc", "integer"}},
		{"features beyond memory", replace("features = 10", "features = 2000000000"), "", nil, 2, []string{"not enough memory", "2000000000"}},
		{"polynomial beyond memory", "[problem]\nkind = \"polynomial\"\ndim = 100000000\n[run]\nranks = 1000\noutput = \"out.h5\"\n", "", nil, 2, []string{"not enough memory", "dimension 100000000 for 1000 ranks"}},
		{"libsvm index beyond memory", svm(""), "1 1:1\n-1 2147483647:1\n", nil, 2, []string{"not enough memory", "d = 2147483647"}},
		{"out is a directory", small, "", []string{"-out", "adir"}, 2, []string{"adir", "is a directory"}},
		{"out is a directory with -overwrite", small, "", []string{"-out", "adir", "-overwrite"}, 2, []string{"adir", "is a directory"}},
		{"out is the config", small, "", []string{"-out", "cfg.toml", "-overwrite"}, 2, []string{"-out cfg.toml is the config cfg.toml"}},
		{"out is the dataset", svm(""), "1 1:1\n-1 2:1\n", []string{"-out", "data.svm", "-overwrite"}, 2, []string{"is the data data.svm"}},
		{"out links to the dataset", svm(""), "1 1:1\n-1 2:1\n", []string{"-out", "link.h5", "-overwrite"}, 2, []string{"link.h5 is the data", "through a link"}},
		{"out is a hard link to the x0 file", replace("[run]", "[init]\nx0 = \"x0.txt\"\n[run]"), "", []string{"-out", "hard.h5", "-overwrite"}, 2, []string{"hard.h5 is the x0 file x0.txt"}},
		{"pipe as data with tcp", svm(""), "", []string{"-transport", "tcp", "-set", `data.path="fifo"`}, 2, []string{"fifo", "not a regular file", "pipe"}},
		{"bad input creates no directory", svm(""), "", []string{"-out", "new/dir/x.h5"}, 2, []string{"data.svm"}},
		{"secret too short under mpirun", small, "", []string{"-quiet"}, 2, []string{"EFMPI_SECRET", "need at least"}},
		{"secret file readable by others", small, "", []string{"-quiet"}, 2, []string{"EFMPI_SECRET_FILE", "mode 0644"}},
		{"inspect truncated file", "", "", []string{"inspect", "trunc.h5"}, 2, []string{"trunc.h5", "truncated file"}},
		{"summarize -o an input", "", "", []string{"summarize", "-o", "trunc.h5", "trunc.h5"}, 2, []string{"-o trunc.h5 is the run file trunc.h5"}},
		{"plot -o links to an input", "", "", []string{"plot", "-o", "fig.png", "trunc.h5"}, 2, []string{"-o fig.png is the run file trunc.h5", "through a link"}},
		{"sweep table links to the config", "", "", []string{"sweep", "-config", "sweep.toml", "-grid", "run.seed=1,2", "-out", "adir"}, 2, []string{"sweep -out adir/sweep.csv is the config sweep.toml"}},
	}
	env := map[string][]string{
		"secret too short under mpirun":  {"OMPI_COMM_WORLD_RANK=0", "OMPI_COMM_WORLD_SIZE=2", "EFMPI_SECRET=abcd"},
		"secret file readable by others": {"OMPI_COMM_WORLD_RANK=1", "OMPI_COMM_WORLD_SIZE=2", "EFMPI_SECRET_FILE=secret.hex"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := tc.args
			if tc.config != "" {
				write(t, dir, "cfg.toml", tc.config)
				args = append([]string{"run", "-config", "cfg.toml"}, args...)
			}
			if tc.data != "" || strings.Contains(tc.name, "empty dataset") {
				write(t, dir, "data.svm", tc.data)
			}
			write(t, dir, "x0.txt", "1\n2\n3\n")
			setupCatalogue(t, dir)
			before := snapshot(t, dir)
			code, stdout, stderr := efmpiEnv(t, dir, env[tc.name], args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if strings.Contains(stderr, "HDF5-DIAG") || strings.Contains(stderr, "goroutine ") ||
				(!strings.Contains(stderr, "sage") && strings.Count(strings.TrimSpace(stderr), "\n") > 0) {
				t.Errorf("want one clear line, got:\n%s", stderr)
			}
			if after := snapshot(t, dir); after != before {
				t.Errorf("a rejected run changed its directory:\nbefore %s\nafter  %s", before, after)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Fatalf("message lacks %q:\n%s", w, stderr)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "out.h5")); err == nil {
				t.Fatal("a rejected run left an output file")
			}
		})
	}
}

// Resuming a finished run (no checkpoint left) is refused, naming the
// checkpoint directory, and the file is left as it was.
func TestResumeWithoutCheckpoint(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cfg.toml", small)
	if code, _, stderr := efmpi(t, dir, "run", "-config", "cfg.toml", "-quiet"); code != 0 {
		t.Fatal(stderr)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "out.h5"))
	code, _, stderr := efmpi(t, dir, "run", "-config", "cfg.toml", "-quiet", "-resume")
	if code != ExitBadInput || !strings.Contains(stderr, "no complete checkpoint") || !strings.Contains(stderr, "out.h5.ckpt") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "out.h5"))
	if !bytes.Equal(before, after) {
		t.Error("a refused resume changed the file")
	}
}

// An existing output file is refused without -overwrite and left untouched.
func TestRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cfg.toml", small)
	write(t, dir, "out.h5", "keep me")
	code, _, stderr := efmpi(t, dir, "run", "-config", "cfg.toml")
	if code != 2 || !strings.Contains(stderr, "out.h5") || !strings.Contains(stderr, "-overwrite") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "out.h5")); string(b) != "keep me" {
		t.Fatal("existing file was modified")
	}
	if code, _, stderr := efmpi(t, dir, "run", "-config", "cfg.toml", "-overwrite", "-quiet"); code != 0 {
		t.Fatalf("with -overwrite: exit %d: %s", code, stderr)
	}
}

// A good run exits 0, stores the effective config, and inspect -json reads it.
func TestRunInspectTheory(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cfg.toml", small)
	code, stdout, stderr := efmpi(t, dir, "run", "-config", "cfg.toml", "-set", "run.iterations=40", "-set", "run.seed=9")
	if code != 0 || !strings.Contains(stdout, "status completed") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	run, err := hdf5io.Open(filepath.Join(dir, "out.h5"))
	if err != nil {
		t.Fatal(err)
	}
	cfgText, _ := run.Attrs["config"].(string)
	if !strings.Contains(cfgText, "iterations = 40") || !strings.Contains(cfgText, "seed = 9") || run.Rows() != 41 {
		t.Fatalf("effective config %q, %d rows", cfgText, run.Rows())
	}
	code, stdout, _ = efmpi(t, dir, "inspect", "-json", "out.h5")
	var got []map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &got) != nil || got[0]["label"] != "||EF21|| top-1" || got[0]["last_iteration"] != 40.0 {
		t.Fatalf("inspect -json: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = efmpi(t, dir, "theory", "-config", "cfg.toml")
	if code != 0 || !strings.Contains(stdout, "α = 0.1") || !strings.Contains(stdout, "L_1") {
		t.Fatalf("theory: exit %d\n%s", code, stdout)
	}
}

// A diverging run exits 3 with status diverged recorded.
func TestDivergedExitCode(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cfg.toml", `[problem]
kind = "polynomial"
dim = 10
[algorithm]
method = "ef21"
compressor = "top-k"
k = 2
[stepsize]
rule = "ef21-theory"
factor = 1000.0
[run]
iterations = 500
ranks = 2
output = "out.h5"
`)
	code, _, stderr := efmpi(t, dir, "run", "-config", "cfg.toml", "-quiet")
	run, err := hdf5io.Open(filepath.Join(dir, "out.h5"))
	if code != 3 || err != nil || run.Attrs["status"] != "diverged" {
		t.Fatalf("exit %d (%s), file %v", code, stderr, err)
	}
	// The last finite iterate is kept as x_final.
	if len(run.XFinal) != 10 || !allFinite(run.XFinal) {
		t.Errorf("x_final = %v, want the last finite iterate", run.XFinal)
	}
	if reason := run.String("stop_reason"); !strings.Contains(reason, "non-finite") {
		t.Errorf("stop_reason %q", reason)
	}
}

func allFinite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// TestSecretNeverPrinted runs a spawned TCP job with a known secret and
// looks for it, in any case, in everything the job printed and recorded.
func TestSecretNeverPrinted(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cfg.toml", small)
	const secret = "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e7abcd"
	cmd := exec.Command(efmpiBin, "run", "-config", "cfg.toml", "-transport", "tcp", "-progress", "1ms")
	cmd.Dir, cmd.Env = dir, childEnv("EFMPI_SECRET="+secret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	h5, err := os.ReadFile(filepath.Join(dir, "out.h5"))
	if err != nil {
		t.Fatal(err)
	}
	for what, b := range map[string][]byte{"output": out, "HDF5 file": h5} {
		if bytes.Contains(bytes.ToLower(b), []byte(secret)) {
			t.Errorf("the secret appears in the %s", what)
		}
	}
}

// The shipped configs all load and validate.
func TestShippedConfigsValidate(t *testing.T) {
	root := testenv.RepoRoot()
	files, _ := filepath.Glob(filepath.Join(root, "configs", "*.toml"))
	if len(files) < 5 {
		t.Fatalf("found %d configs in configs/", len(files))
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
}

// setupCatalogue adds the files some catalogue cases need: a directory, a
// symbolic and a hard link, a FIFO, a secret file of mode 0644 and a
// truncated run file.
func setupCatalogue(t *testing.T, dir string) {
	t.Helper()
	os.Mkdir(filepath.Join(dir, "adir"), 0o755)
	write(t, dir, "sweep.toml", small)
	os.Symlink("../sweep.toml", filepath.Join(dir, "adir", "sweep.csv"))
	os.Symlink("trunc.h5", filepath.Join(dir, "fig.png"))
	os.Symlink("data.svm", filepath.Join(dir, "link.h5"))
	os.Link(filepath.Join(dir, "x0.txt"), filepath.Join(dir, "hard.h5"))
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "secret.hex", strings.Repeat("ab", 32))
	os.Chmod(filepath.Join(dir, "secret.hex"), 0o644)
	trunc := filepath.Join(dir, "trunc.h5")
	r, err := hdf5io.Create(trunc, false, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Append(hdf5io.Row{Iteration: 0})
	r.Close("completed")
	if err := os.Truncate(trunc, 3000); err != nil {
		t.Fatal(err)
	}
}

// snapshot describes every entry of dir (name, size, content hash), to
// check that a rejected command wrote nothing.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(&b, "%s:%d", rel, info.Size())
		if info.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			fmt.Fprintf(&b, ":%x", sha256.Sum256(data))
		}
		b.WriteString(" ")
		return nil
	})
	return b.String()
}

// efmpiEnv is efmpi with extra environment variables.
func efmpiEnv(t *testing.T, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(efmpiBin, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(childEnv(), env...)
	}
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, so.String(), se.String()
}
