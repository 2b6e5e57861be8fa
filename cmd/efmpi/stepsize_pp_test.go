package main

import (
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
)

// efmpi theory with participation prints EF21-PP's step: checked against
// factor/(L + √(B/θ_p)) evaluated from the printed L, L̃, θ, β, ρ (6 digits),
// with θ_p = pθ − ρ(1−p) and B = (βp + (1+1/ρ)(1−p))L̃².
func TestTheoryPrintsEF21PP(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cfg.toml", small)
	code, stdout, stderr := efmpi(t, dir, "theory", "-config", "cfg.toml", "-ranks", "4",
		"-set", "algorithm.normalize=false", "-set", "stepsize.rule=ef21-pp-theory", "-set", "algorithm.participation=0.25")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(strings.TrimRight(s, ",;:"), 64)
		if err != nil {
			t.Fatalf("%q: %v\n%s", s, err, stdout)
		}
		return v
	}
	var l, lt, theta, beta, gamma, rho, gammaEF float64
	for _, line := range strings.Split(stdout, "\n") {
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "L̃"):
			lt = num(f[4])
		case strings.HasPrefix(line, "L "):
			l = num(f[1])
		case strings.HasPrefix(line, "θ, β"):
			theta, beta = num(f[2]), num(f[3])
		case strings.HasPrefix(line, "ef21-theory γ"):
			gammaEF = num(f[2])
		case strings.HasPrefix(line, "ef21-pp-theory γ"):
			gamma, rho = num(f[2]), num(f[9])
		}
	}
	const p = 0.25
	thetaP := p*theta - rho*(1-p)
	b := (beta*p + (1+1/rho)*(1-p)) * lt * lt
	if want := 1 / (l + math.Sqrt(b/thetaP)); !(gamma > 0) || math.Abs(gamma-want) > 1e-4*want {
		t.Fatalf("ef21-pp-theory γ = %v, want %v\n%s", gamma, want, stdout)
	}
	if !(gamma < gammaEF) || !strings.Contains(stdout, "ef21-pp-theory: γ_0 = "+strconv.FormatFloat(gamma, 'g', 12, 64)) {
		t.Errorf("γ %v vs ef21-theory %v\n%s", gamma, gammaEF, stdout)
	}
}

// ef21-pp-theory under self-spawned TCP ranks (each process holds one rank and
// gets L and the L_i over the wire) gives the in-process run bit for bit: the
// same γ and trajectory.
func TestEF21PPTheoryDeterminismTCP(t *testing.T) {
	data := testenv.Dataset(t, "a1a")
	dir := t.TempDir()
	cfg := write(t, dir, "pp.toml", "[problem]\nkind = \"logreg\"\n[data]\nsource = \"libsvm\"\npath = \""+data+
		"\"\n[algorithm]\nmethod = \"ef21\"\ncompressor = \"top-k\"\nk = 2\nparticipation = 0.5\n[stepsize]\nrule = \"ef21-pp-theory\"\nfactor = 3\n"+
		"[run]\niterations = 60\nranks = 4\nseed = 5\noutput = \"out.h5\"\n")
	env := childEnv()
	runCmd(t, dir, env, efmpiBin, "run", "-config", cfg, "-quiet", "-out", "inproc.h5")
	runCmd(t, dir, env, efmpiBin, "run", "-config", cfg, "-quiet", "-transport", "tcp", "-out", "tcp.h5")
	ref, err := hdf5io.Open(filepath.Join(dir, "inproc.h5"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := hdf5io.Open(filepath.Join(dir, "tcp.h5"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"gamma", "pp_rho", "theta_p", "B_p", "L", "L_tilde"} {
		if ref.Attrs[k] == nil || got.Attrs[k] != ref.Attrs[k] {
			t.Errorf("attribute %s: tcp %v, inproc %v", k, got.Attrs[k], ref.Attrs[k])
		}
	}
	for col, want := range ref.Floats {
		if col != "time_s" && !bitsEqual(got.Floats[col], want) {
			t.Errorf("/trajectory/%s differs between inproc and tcp", col)
		}
	}
	if !bitsEqual(got.XFinal, ref.XFinal) || !slices.Equal(got.Ints["iteration"], ref.Ints["iteration"]) {
		t.Errorf("x_final or iterations differ")
	}
}
