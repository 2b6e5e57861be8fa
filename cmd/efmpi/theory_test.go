package main

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/internal/testenv"
)

// efmpi theory prints L_AM beside L̃: checked against the mean and the
// quadratic mean of the L_i it prints, and the ef21-theory-am step against
// 1/(L + L_AM √(β/θ)) from the printed L, θ, β (printed to 6 digits).
func TestTheoryPrintsLAM(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cfg.toml", small)
	code, stdout, stderr := efmpi(t, dir, "theory", "-config", "cfg.toml", "-ranks", "4", "-set", "data.split=dirichlet", "-set", "data.alpha=0.2")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	num := func(line string, field int) float64 {
		f := strings.Fields(strings.TrimSpace(line))
		v, err := strconv.ParseFloat(strings.TrimSuffix(f[field], ","), 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		return v
	}
	var li []float64
	var l, lt, lam, theta, beta, gam float64
	for _, line := range strings.Split(stdout, "\n") {
		switch {
		case strings.HasPrefix(line, "L_AM"):
			lam = num(line, 4)
		case strings.HasPrefix(line, "L_"):
			li = append(li, num(line, 1))
		case strings.HasPrefix(line, "L̃"):
			lt = num(line, 4)
		case strings.HasPrefix(line, "L "):
			l = num(line, 1)
		case strings.HasPrefix(line, "θ, β"):
			theta, beta = num(line, 2), num(line, 3)
		case strings.HasPrefix(line, "ef21-theory-am γ"):
			gam = num(line, 2)
		}
	}
	if len(li) != 4 {
		t.Fatalf("%d L_i lines\n%s", len(li), stdout)
	}
	mean, sq := 0.0, 0.0
	for _, x := range li {
		mean += x / 4
		sq += x * x / 4
	}
	if math.Abs(lam-mean) > 1e-10*mean || math.Abs(lt-math.Sqrt(sq)) > 1e-10*lt || !(lam <= lt) {
		t.Fatalf("L_AM %v L̃ %v, want %v and %v\n%s", lam, lt, mean, math.Sqrt(sq), stdout)
	}
	if want := 1 / (l + lam*math.Sqrt(beta/theta)); math.Abs(gam-want) > 1e-5*want {
		t.Fatalf("ef21-theory-am γ = %v, want %v\n%s", gam, want, stdout)
	}
}

// efmpi theory on a Dirichlet split of a1a (shards of unequal sizes) prints
// the L of f = (1/n) Σ_i f_i, λ_max((1/n) Σ_i A_iᵀA_i/m_i)/4 + 2λ, checked
// against gonum's dense eigen-solver on that matrix formed from the shards.
func TestTheoryDirichletL(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cfg.toml", small)
	data := testenv.Dataset(t, "a1a")
	code, stdout, stderr := efmpi(t, dir, "theory", "-config", "cfg.toml", "-ranks", "4", "-set", "data.source=libsvm",
		"-set", "data.path="+data, "-unset", "data.features", "-unset", "data.samples", "-set", "data.split=dirichlet", "-set", "data.alpha=0.3", "-set", "run.seed=3")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var l float64
	for _, line := range strings.Split(stdout, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "L" {
			var err error
			if l, err = strconv.ParseFloat(f[1], 64); err != nil {
				t.Fatal(err)
			}
		}
	}
	full, err := datasets.ReadLIBSVM(data, datasets.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	d := full.Cols()
	h := mat.NewSymDense(d, nil)
	sizes := map[int]bool{}
	for r := range n {
		s, err := datasets.Shard(full, n, r, datasets.ShardOptions{Split: "dirichlet", Alpha: 0.3, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		sizes[s.Rows()] = true
		dense := s.Sparse.ToDense()
		var g mat.SymDense
		g.SymOuterK(1/float64(n*dense.Rows), mat.NewDense(dense.Rows, dense.Cols, dense.Data).T())
		h.AddSym(h, &g)
	}
	if len(sizes) < 2 {
		t.Fatalf("shard sizes %v: the test needs unequal shards", sizes)
	}
	var eig mat.EigenSym
	if !eig.Factorize(h, false) {
		t.Fatal("EigenSym did not converge")
	}
	vals := eig.Values(nil)
	want := vals[d-1]/4 + 2*0.1
	if math.Abs(l-want) > 1e-10*want {
		t.Fatalf("efmpi theory prints L = %.12g, dense (1/n)Σ A_iᵀA_i/m_i gives %.12g\n%s", l, want, stdout)
	}
}
