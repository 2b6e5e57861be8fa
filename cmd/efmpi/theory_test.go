package main

import (
	"math"
	"strconv"
	"strings"
	"testing"
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
