package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/collective/launch"
	"github.com/efmpi/efmpi/hdf5io"
)

// variantGrid is one sweep of two runs that outputs used to label
// differently: ||EF21-SGDM|| with η = 1 (that is ||EF21-SGD||) and ||EF21||
// with the identity (||GD||); the second unsets k, which the identity does
// not take.
const variantGrid = "variant=algorithm.method=ef21-sgdm algorithm.momentum=constant algorithm.eta=1.0 algorithm.batch=8|algorithm.compressor=identity algorithm.k="

func readTable(t *testing.T, text string) (map[string]int, [][]string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	h := map[string]int{}
	for i, n := range recs[0] {
		h[n] = i
	}
	return h, recs[1:]
}

// One vocabulary: sweep.csv, summarize, inspect and the plot legend name
// the same run the same way, and sweep.csv and summarize agree on every
// shared column name and value.
func TestOneVocabulary(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cfg.toml", small)
	code, so, se := efmpi(t, dir, "sweep", "-config", "cfg.toml", "-grid", variantGrid, "-target", "1e-2", "-out", "sw", "-quiet")
	if code != 0 {
		t.Fatalf("sweep: exit %d\n%s%s", code, so, se)
	}
	csvText, _ := os.ReadFile(filepath.Join(dir, "sw", "sweep.csv"))
	sh, srows := readTable(t, string(csvText))
	code, so, se = efmpi(t, dir, "summarize", "-csv", "-target", "1e-2", "sw")
	if code != 0 {
		t.Fatalf("summarize: exit %d\n%s", code, se)
	}
	mh, mrows := readTable(t, so)
	wantLabels := []string{"||EF21-SGD|| top-1", "||GD||"}
	if len(srows) != 2 || len(mrows) != 2 {
		t.Fatalf("%d sweep rows, %d summarize rows", len(srows), len(mrows))
	}
	for name := range mh {
		if _, ok := sh[name]; !ok {
			t.Errorf("summarize column %q is not in sweep.csv", name)
		}
	}
	for i := range srows {
		for name, j := range mh {
			if name == "file" {
				continue
			}
			if srows[i][sh[name]] != mrows[i][j] {
				t.Errorf("row %d column %s: sweep.csv %q, summarize %q", i, name, srows[i][sh[name]], mrows[i][j])
			}
		}
		if got := srows[i][sh["label"]]; got != wantLabels[i] {
			t.Errorf("row %d label %q, want %q", i, got, wantLabels[i])
		}
		if got := srows[i][sh["method"]]; got != []string{"ef21-sgdm", "ef21"}[i] {
			t.Errorf("row %d method %q is not the config key", i, got)
		}
	}
	code, so, _ = efmpi(t, dir, "inspect", "-json", "sw/point-000.h5", "sw/point-001.h5")
	var js []map[string]any
	if code != 0 || json.Unmarshal([]byte(so), &js) != nil || len(js) != 2 {
		t.Fatalf("inspect -json: %d\n%s", code, so)
	}
	for i, j := range js {
		if j["label"] != wantLabels[i] {
			t.Errorf("inspect label %v, want %q", j["label"], wantLabels[i])
		}
	}
	code, _, se = efmpi(t, dir, "plot", "-o", "f.svg", "sw/point-000.h5", "sw/point-001.h5")
	svg, _ := os.ReadFile(filepath.Join(dir, "f.svg"))
	for _, l := range wantLabels {
		if code != 0 || !strings.Contains(string(svg), l) {
			t.Errorf("plot legend lacks %q (exit %d %s)", l, code, se)
		}
	}
}

// A sweep refuses a folder that holds files; -resume keeps finished points
// and runs the rest; -overwrite runs everything again.
func TestSweepFolder(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cfg.toml", small)
	args := []string{"sweep", "-config", "cfg.toml", "-grid", "algorithm.k=1,2", "-out", "sw"}
	if code, so, se := efmpi(t, dir, args...); code != 0 {
		t.Fatalf("sweep: %d\n%s%s", code, so, se)
	}
	before, _ := hdf5io.Open(filepath.Join(dir, "sw", "point-001.h5"))
	code, _, se := efmpi(t, dir, args...)
	if code != ExitBadInput || !strings.Contains(se, "not empty") || !strings.Contains(se, "-overwrite") || !strings.Contains(se, "-resume") {
		t.Fatalf("second sweep into the folder: exit %d: %s", code, se)
	}
	// the second point's file is replaced by an unfinished one
	os.Remove(filepath.Join(dir, "sw", "point-001.h5"))
	rec, _ := hdf5io.Create(filepath.Join(dir, "sw", "point-001.h5"), true, 1, nil)
	rec.Close("interrupted")
	code, so, se := efmpi(t, dir, append(args, "-resume")...)
	if code != 0 || strings.Count(so, "kept from the earlier sweep") != 1 {
		t.Fatalf("-resume: %d\n%s%s", code, so, se)
	}
	after, _ := hdf5io.Open(filepath.Join(dir, "sw", "point-001.h5"))
	if after.Rows() != before.Rows() || !slices.Equal(after.Floats["grad_norm_sq"], before.Floats["grad_norm_sq"]) {
		t.Errorf("the rerun point differs from the first sweep's")
	}
	// a different grid cannot resume this folder
	if code, _, se := efmpi(t, dir, "sweep", "-config", "cfg.toml", "-grid", "algorithm.k=1,3", "-out", "sw", "-resume"); code != ExitBadInput || !strings.Contains(se, "different sweep") {
		t.Errorf("resume of a different sweep: %d %s", code, se)
	}
	if code, so, se := efmpi(t, dir, append(args, "-overwrite")...); code != 0 || strings.Contains(so, "kept") {
		t.Errorf("-overwrite: %d\n%s%s", code, so, se)
	}
}

// -slurm submits the same points as a job array. Without a live Slurm,
// sbatch is a script that records its arguments, and the array is then run
// by hand: slurm/sweep.sbatch for every task id, with an srun that runs its
// command in place. The files and table equal a local sweep's, bit for bit.
func TestSweepSlurmArray(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cfg.toml", small)
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	// the first call (the array) logs to $FAKE_SBATCH_LOG, the second (the
	// job that writes sweep.csv) to $FAKE_SBATCH_LOG.2
	write(t, bin, "sbatch", "#!/bin/sh\nf=\"$FAKE_SBATCH_LOG\"; id=77\n[ -e \"$f\" ] && f=\"$f.2\" && id=90\n"+
		"printf '%s\\n' \"$@\" > \"$f\"\necho \"EFMPI_SWEEP_DIR=$EFMPI_SWEEP_DIR\" >> \"$f\"\necho \"Submitted batch job $id\"\n")
	write(t, bin, "srun", "#!/bin/sh\nwhile [ \"${1#-}\" != \"$1\" ]; do shift; done\nexec \"$@\"\n") // srun's own options, then the command
	os.Chmod(filepath.Join(bin, "sbatch"), 0o755)
	os.Chmod(filepath.Join(bin, "srun"), 0o755)
	script, _ := filepath.Abs("../../slurm/sweep.sbatch")
	log := filepath.Join(dir, "sbatch.log")
	grid := []string{"-grid", "variant=algorithm.method=ef21 algorithm.normalize=false stepsize.rule=ef21-theory|algorithm.method=ef14 algorithm.normalize=false stepsize.rule=ef21-theory|algorithm.method=ef21",
		"-grid", "algorithm.k=1,3", "-set", "run.iterations=20"}

	cmd := exec.Command(efmpiBin, append(append([]string{"sweep", "-config", "cfg.toml", "-out", "slurm-sw", "-slurm", "-slurm-script", script}, grid...),
		"--", "--time=00:10:00", "--partition=debug")...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), "EFMPI_SBATCH="+filepath.Join(bin, "sbatch"), "FAKE_SBATCH_LOG="+log)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Submitted batch job 77") {
		t.Fatalf("sweep -slurm: %v\n%s", err, out)
	}
	logged, _ := os.ReadFile(log)
	argv := strings.Split(strings.TrimSpace(string(logged)), "\n")
	wantArgv := []string{"--array=0-5", "--time=00:10:00", "--partition=debug", script, "slurm-sw/grid.txt", "cfg.toml",
		"-set", "run.iterations=20", "-quiet", "EFMPI_SWEEP_DIR=slurm-sw"}
	if !slices.Equal(argv, wantArgv) {
		t.Fatalf("sbatch argv\n%q\nwant\n%q", argv, wantArgv)
	}
	// then the job that writes sweep.csv when the array has ended
	logged2, _ := os.ReadFile(log + ".2")
	argv2 := strings.Split(strings.TrimSpace(string(logged2)), "\n")
	wantArgv2 := []string{"--dependency=afterany:77", "--time=00:10:00", "--partition=debug", "--job-name=efmpi-sweep-summary",
		"--ntasks=1", "--time=00:10:00", "--output=slurm-sw/summarize-%j.out",
		"--wrap=" + efmpiBin + " summarize -allow-missing -o slurm-sw/sweep.csv slurm-sw"}
	if len(argv2) < len(wantArgv2) || !slices.Equal(argv2[:len(wantArgv2)], wantArgv2) {
		t.Fatalf("summary job argv\n%q\nwant\n%q", argv2, wantArgv2)
	}
	// run the array tasks as Slurm would
	for i := 0; i < 6; i++ {
		task := exec.Command("bash", append([]string{script}, argv[4:9]...)...)
		task.Dir = dir
		task.Env = append(cleanEnv(), "PATH="+bin+":"+os.Getenv("PATH"), "EFMPI="+efmpiBin, "EFMPI_SWEEP_DIR=slurm-sw",
			"SLURM_ARRAY_TASK_ID="+strconv.Itoa(i), "SLURM_ARRAY_JOB_ID=77", "SLURM_JOB_ID="+strconv.Itoa(78+i),
			"SLURM_ARRAY_TASK_MIN=0", "SLURM_ARRAY_TASK_MAX=5")
		if out, err := task.CombinedOutput(); err != nil {
			t.Fatalf("array task %d: %v\n%s", i, err, out)
		}
	}
	// the same sweep, locally
	if code, so, se := efmpi(t, dir, append([]string{"sweep", "-config", "cfg.toml", "-out", "local-sw", "-quiet"}, grid...)...); code != 0 {
		t.Fatalf("local sweep: %d\n%s%s", code, so, se)
	}
	_, s1, _ := efmpi(t, dir, "summarize", "-csv", "slurm-sw")
	_, s2, _ := efmpi(t, dir, "summarize", "-csv", "local-sw")
	h, r1 := readTable(t, s1)
	_, r2 := readTable(t, s2)
	if len(r1) != 6 || len(r2) != 6 {
		t.Fatalf("%d and %d rows", len(r1), len(r2))
	}
	for i := range r1 {
		for name, j := range h {
			if name == "file" || name == "time_s" {
				continue
			}
			if r1[i][j] != r2[i][j] {
				t.Errorf("point %d %s: slurm %q, local %q", i, name, r1[i][j], r2[i][j])
			}
		}
		if filepath.Base(r1[i][h["file"]]) != filepath.Base(r2[i][h["file"]]) {
			t.Errorf("point %d files %s and %s", i, r1[i][h["file"]], r2[i][h["file"]])
		}
	}
	if r1[5][h["label"]] != "||EF21|| top-3" || r1[2][h["label"]] != "EF14 top-1" {
		t.Errorf("labels %q %q", r1[5][h["label"]], r1[2][h["label"]])
	}
	// a resumed submission only asks for the points not yet finished
	os.Remove(filepath.Join(dir, "slurm-sw", "point-004.h5"))
	os.Remove(log)
	os.Remove(log + ".2")
	cmd = exec.Command(efmpiBin, append([]string{"sweep", "-config", "cfg.toml", "-out", "slurm-sw", "-resume", "-slurm", "-slurm-script", script}, grid...)...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), "EFMPI_SBATCH="+filepath.Join(bin, "sbatch"), "FAKE_SBATCH_LOG="+log)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("resume -slurm: %v\n%s", err, out)
	}
	logged, _ = os.ReadFile(log)
	if !strings.HasPrefix(string(logged), "--array=4\n") {
		t.Errorf("resumed submission: %q", logged)
	}
}

// cleanEnv is the environment without Slurm's and MPI's variables, so the
// tests behave the same inside an allocation.
func cleanEnv() []string {
	var out []string
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "SLURM_") || strings.HasPrefix(e, "OMPI_") || strings.HasPrefix(e, "PMI") || strings.HasPrefix(e, "EFMPI_") {
			continue
		}
		out = append(out, e)
	}
	return out
}

// export writes the file's own numbers, exactly, for R or a spreadsheet.
func TestExport(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cfg.toml", small)
	if code, _, se := efmpi(t, dir, "run", "-config", "cfg.toml", "-quiet"); code != 0 {
		t.Fatal(se)
	}
	if code, so, se := efmpi(t, dir, "export", "out.h5", "-o", "run.csv"); code != 0 || !strings.Contains(so, "run.csv") {
		t.Fatalf("export: %d %s", code, se)
	}
	run, err := hdf5io.Open(filepath.Join(dir, "out.h5"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "run.csv"))
	h, rows := readTable(t, string(b))
	if len(rows) != run.Rows() {
		t.Fatalf("%d lines, %d rows in the file", len(rows), run.Rows())
	}
	for i, r := range rows {
		g, _ := strconv.ParseFloat(r[h["grad_norm_sq"]], 64)
		it, _ := strconv.ParseInt(r[h["iteration"]], 10, 64)
		bits, _ := strconv.ParseInt(r[h["bits_per_worker"]], 10, 64)
		if g != run.Floats["grad_norm_sq"][i] || it != run.Ints["iteration"][i] || bits != run.Ints["bits_per_worker"][i] {
			t.Errorf("line %d: %v", i, r)
		}
	}
	code, so, _ := efmpi(t, dir, "export", "-what", "columns", "out.h5")
	if code != 0 || !strings.Contains(so, "bits_per_worker,bit,") || !strings.Contains(so, "time_s,s,") {
		t.Errorf("columns: %d\n%s", code, so)
	}
	code, so, _ = efmpi(t, dir, "export", "-what", "attrs", "out.h5")
	if code != 0 || !strings.Contains(so, `label,"||EF21|| top-1, γ = γ0/√(K+1), γ0 = 1"`) || !strings.Contains(so, "status,completed") {
		t.Errorf("attrs: %d\n%s", code, so)
	}
	for _, bad := range [][]string{{"export"}, {"export", "a.h5", "b.h5"}, {"export", "-what", "x", "out.h5"}, {"export", "missing.h5"}} {
		if code, _, _ := efmpi(t, dir, bad...); code != ExitBadInput {
			t.Errorf("%q: exit %d", bad, code)
		}
	}
}

// Under a launcher whose world size differs from [run] ranks, rank 0 says
// which one wins; progress lines carry no terminal control characters when
// stdout is not a terminal, nor under a launcher (mpirun hands its ranks a
// pseudo-terminal even when its output goes to a file); the file records
// its paths as given and absolute.
func TestLauncherWarningProgressAndPaths(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cfg.toml", strings.Replace(small, "ranks = 2", "ranks = 3", 1))
	cmd := exec.Command(efmpiBin, "run", "-config", "cfg.toml", "-progress", "1ns")
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), "OMPI_COMM_WORLD_RANK=0", "OMPI_COMM_WORLD_SIZE=1", "OMPI_COMM_WORLD_LOCAL_SIZE=1")
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s%s", err, so.String(), se.String())
	}
	if !strings.Contains(se.String(), "mpirun started 1 ranks; [run] ranks = 3 in cfg.toml is ignored") {
		t.Errorf("no world-size warning: %q", se.String())
	}
	if strings.ContainsAny(so.String(), "\r\x1b") || !strings.Contains(so.String(), "iter 30/30") {
		t.Errorf("progress output %q", so.String())
	}
	run, err := hdf5io.Open(filepath.Join(dir, "out.h5"))
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.EvalSymlinks(dir)
	got, _ := filepath.EvalSymlinks(filepath.Dir(run.String("output_path_abs")))
	if run.String("output_path") != "out.h5" || got != abs || !filepath.IsAbs(run.String("config_path_abs")) ||
		run.String("config_path") != "cfg.toml" || run.Attrs["ranks_configured"] != int64(3) || run.Attrs["n_ranks"] != int64(1) {
		t.Errorf("paths %q %q %q %q, ranks %v/%v", run.String("output_path"), run.String("output_path_abs"),
			run.String("config_path"), run.String("config_path_abs"), run.Attrs["ranks_configured"], run.Attrs["n_ranks"])
	}
}

func TestLiveProgressRule(t *testing.T) {
	tty, err := os.Open(os.DevNull) // a character device, as a terminal is
	if err != nil {
		t.Skip(err)
	}
	defer tty.Close()
	var buf strings.Builder
	for _, c := range []struct {
		w                  any
		launcher, override string
		want               bool
	}{
		{tty, "inproc", "", os.Getenv("TERM") != "dumb"}, {tty, "spawned", "", os.Getenv("TERM") != "dumb"},
		{tty, "mpirun", "", false}, {tty, "srun", "", false}, {tty, "mpich", "", false},
		{&buf, "inproc", "", false}, {&buf, "inproc", "bar", true}, {tty, "inproc", "lines", false},
	} {
		w, _ := c.w.(interface{ Write([]byte) (int, error) })
		if got := liveProgress(w, c.launcher, c.override); got != c.want {
			t.Errorf("liveProgress(%T, %s, %q) = %v", c.w, c.launcher, c.override, got)
		}
	}
}

func TestWorldSizeWarningRule(t *testing.T) {
	cfg, err := loadConfig(&runFlags{})
	if err != nil {
		t.Fatal(err)
	}
	mpirun := func(size int) launch.Env { return launch.Env{Launcher: launch.LauncherOpenMPI, Rank: 0, Size: size} }
	if w := worldSizeWarning(cfg, &runFlags{}, mpirun(4)); w != "" {
		t.Errorf("default ranks agree: %q", w)
	}
	if w := worldSizeWarning(cfg, &runFlags{}, mpirun(8)); !strings.Contains(w, "[run] ranks = 4") {
		t.Errorf("embedded default sets ranks = 4: %q", w)
	}
	if w := worldSizeWarning(cfg, &runFlags{ranks: 2}, mpirun(8)); !strings.Contains(w, "-ranks 2 is ignored") {
		t.Errorf("-ranks: %q", w)
	}
	if w := worldSizeWarning(cfg, &runFlags{}, launch.Env{Launcher: launch.LauncherOpenMPI, Rank: 1, Size: 8}); w != "" {
		t.Errorf("rank 1 warned: %q", w)
	}
	if w := worldSizeWarning(cfg, &runFlags{}, launch.Env{Launcher: launch.LauncherNone, Size: 1}); w != "" {
		t.Errorf("no launcher: %q", w)
	}
}

// -unset KEY (= -set KEY=) drops a key of the file: the strict config
// refuses gamma0 under ef21-theory unless it is unset.
func TestUnsetFlag(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cfg.toml", strings.Replace(small, `rule = "norm-theory"`, "rule = \"norm-theory\"\ngamma0 = 0.5", 1))
	args := []string{"run", "-config", "cfg.toml", "-quiet", "-set", "stepsize.rule=ef21-theory", "-set", "algorithm.normalize=false"}
	if code, _, se := efmpi(t, dir, args...); code != ExitBadInput || !strings.Contains(se, "gamma0") {
		t.Fatalf("without -unset: %d %s", code, se)
	}
	if code, _, se := efmpi(t, dir, append(args, "-unset", "stepsize.gamma0")...); code != 0 {
		t.Fatalf("-unset: %d %s", code, se)
	}
	run, _ := hdf5io.Open(filepath.Join(dir, "out.h5"))
	if run.Attrs["stepsize_rule"] != "ef21-theory" || strings.Contains(run.String("config"), "gamma0") {
		t.Errorf("rule %v, config\n%s", run.Attrs["stepsize_rule"], run.String("config"))
	}
	if code, _, _ := efmpi(t, dir, "run", "-config", "cfg.toml", "-unset", "gamma0"); code != ExitBadInput {
		t.Errorf("-unset without a section: exit %d", code)
	}
}
