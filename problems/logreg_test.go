package problems

import (
	"math"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/datasets"
)

const lambda = 0.1

// gradCase is a dataset on which gradients are checked, with the scale of the
// test point.
type gradCase struct {
	name  string
	ds    func(t *testing.T) *datasets.Dataset
	sigma float64
}

func gradCases() []gradCase {
	return []gradCase{
		{"hand-csr", func(*testing.T) *datasets.Dataset { return handCSR() }, 1},
		{"hand-dense", func(*testing.T) *datasets.Dataset { return denseCopy(handCSR()) }, 1},
		{"a1a", func(t *testing.T) *datasets.Dataset { return loadLIBSVM(t, "a1a") }, 0.3},
		{"breast-cancer", func(t *testing.T) *datasets.Dataset { return loadLIBSVM(t, "breast-cancer_scale") }, 1},
		{"random-dense", func(*testing.T) *datasets.Dataset { return randomDense(60, 9, 1) }, 0.5},
	}
}

// TestLogRegGradFD checks Grad against central finite differences of Value,
// and Value against the naive formula log(1+exp(·)).
func TestLogRegGradFD(t *testing.T) {
	for _, c := range gradCases() {
		t.Run(c.name, func(t *testing.T) {
			ds := c.ds(t)
			p, err := NewLogReg(ds, lambda)
			if err != nil {
				t.Fatal(err)
			}
			x := randVec(p.Dim(), c.sigma, 3)
			a := denseRows(ds)
			if got, want := p.Value(x), naiveLoss(a, ds.Labels, lambda, nil, x); !relClose(got, want, 1e-13) {
				t.Errorf("Value = %.17g, naive %.17g", got, want)
			}
			g := make([]float64, p.Dim())
			p.Grad(g, x)
			checkClose(t, "Grad vs FD", g, fdGrad(p.Value, x, 1e-5), 1e-8)
		})
	}
}

// TestLogRegMinibatch checks MinibatchGrad against finite differences of the
// naively computed minibatch loss (duplicated rows count twice), MinibatchValue
// against that loss, the empty batch against the regulariser alone, and the
// batch 0..m−1 against Grad bit for bit.
func TestLogRegMinibatch(t *testing.T) {
	for _, c := range gradCases() {
		t.Run(c.name, func(t *testing.T) {
			ds := c.ds(t)
			p, err := NewLogReg(ds, lambda)
			if err != nil {
				t.Fatal(err)
			}
			m := p.Samples()
			batch := []int32{int32(m - 1), 0, 3 % int32(m), 3 % int32(m), int32(m / 2)}
			x := randVec(p.Dim(), c.sigma, 4)
			a := denseRows(ds)
			naive := func(x []float64) float64 { return naiveLoss(a, ds.Labels, lambda, batch, x) }
			if got, want := p.MinibatchValue(x, batch), naive(x); !relClose(got, want, 1e-13) {
				t.Errorf("MinibatchValue = %.17g, naive %.17g", got, want)
			}
			g := make([]float64, p.Dim())
			p.MinibatchGrad(g, x, batch)
			checkClose(t, "MinibatchGrad vs FD", g, fdGrad(naive, x, 1e-5), 1e-8)

			p.MinibatchGrad(g, x, nil)
			reg := func(x []float64) float64 { return naiveLoss(a, ds.Labels, lambda, []int32{}, x) }
			checkClose(t, "empty batch vs FD of regulariser", g, fdGrad(reg, x, 1e-5), 1e-8)

			all := make([]int32, m)
			for j := range all {
				all[j] = int32(j)
			}
			p.MinibatchGrad(g, x, all)
			full := make([]float64, p.Dim())
			p.Grad(full, x)
			for i := range g {
				if g[i] != full[i] {
					t.Fatalf("full batch: coordinate %d = %v, Grad %v", i, g[i], full[i])
				}
			}
		})
	}
}

// TestLogRegSparseDenseAgree checks the CSR and dense code paths against each
// other on the same data.
func TestLogRegSparseDenseAgree(t *testing.T) {
	for _, name := range []string{"a1a", "breast-cancer_scale"} {
		t.Run(name, func(t *testing.T) {
			ds := loadLIBSVM(t, name)
			sp, err := NewLogReg(ds, lambda)
			if err != nil {
				t.Fatal(err)
			}
			de, err := NewLogReg(denseCopy(ds), lambda)
			if err != nil {
				t.Fatal(err)
			}
			x := randVec(sp.Dim(), 1, 5)
			gs, gd := make([]float64, sp.Dim()), make([]float64, sp.Dim())
			sp.Grad(gs, x)
			de.Grad(gd, x)
			checkClose(t, "sparse vs dense Grad", gs, gd, 1e-12)
			batch := []int32{7, 1, 100, 7}
			sp.MinibatchGrad(gs, x, batch)
			de.MinibatchGrad(gd, x, batch)
			checkClose(t, "sparse vs dense MinibatchGrad", gs, gd, 1e-12)
			if vs, vd := sp.Value(x), de.Value(x); !relClose(vs, vd, 1e-12) {
				t.Errorf("Value sparse %v, dense %v", vs, vd)
			}
		})
	}
}

// TestLogRegBinaryKernel checks that the kernel for 0/1 data, which skips the
// stored values, gives the general kernel's bits.
func TestLogRegBinaryKernel(t *testing.T) {
	ds := loadLIBSVM(t, "a1a")
	p, err := NewLogReg(ds, lambda)
	if err != nil {
		t.Fatal(err)
	}
	if !p.binary {
		t.Fatal("a1a: binary kernel not selected")
	}
	general := *p
	general.binary = false
	if q, _ := NewLogReg(valued(ds, 0.5), lambda); q.binary {
		t.Error("values 0.5: binary kernel selected")
	}
	x := randVec(p.Dim(), 1, 6)
	g1, g2 := make([]float64, p.Dim()), make([]float64, p.Dim())
	batch := []int32{5, 1600, 5, 77}
	for _, mb := range [][]int32{nil, batch} {
		if mb == nil {
			p.Grad(g1, x)
			general.Grad(g2, x)
		} else {
			p.MinibatchGrad(g1, x, mb)
			general.MinibatchGrad(g2, x, mb)
		}
		for i := range g1 {
			if g1[i] != g2[i] {
				t.Fatalf("batch %v: coordinate %d: binary %v, general %v", mb, i, g1[i], g2[i])
			}
		}
	}
}

// TestLossCoefs checks the gradient weights −b σ(−b z)/count against the naive
// formula −b/(1+e^{bz})/count at moderate margins and their limits at huge ones.
func TestLossCoefs(t *testing.T) {
	labels := []float64{-1, 1}
	var rows [rowBlock]int
	var z [rowBlock]float64
	for i := range rowBlock {
		rows[i] = i % 2
	}
	for _, zs := range [][]float64{
		{-30, -5, -1, -0.1, 0, 0.1, 1, 5, 30, -12.5, 12.5, 2, -2, 0.5, -0.5, 7},
		{1e4, -1e4, 800, -800, 1e300, -1e300, 0, 0, 1e4, -1e4, 745, -745, 710, -710, 40, -40},
	} {
		copy(z[:], zs)
		var tt, ee [rowBlock]float64
		lossCoefs(&z, tt[:], ee[:], &rows, labels, rowBlock, 0.25)
		for i, zi := range zs {
			b := labels[rows[i]]
			var want float64
			switch {
			case math.Abs(zi) <= 30:
				want = -b / (1 + math.Exp(b*zi)) * 0.25
			case b*zi > 0: // σ(−b z) = e^{−|z|}/(1+e^{−|z|}) ≈ e^{−|z|}
				want = -b * math.Exp(-math.Abs(zi)) * 0.25
			default: // σ(−b z) → 1
				want = -b * 0.25
			}
			if !relClose(z[i], want, 1e-14) {
				t.Errorf("b=%v z=%v: weight %v, want %v", b, zi, z[i], want)
			}
		}
	}
}

// TestLogRegHugeMargins checks that margins |aᵀx| ~ 1e4 give finite values and
// the limits of the loss gradient: −b a/m on rows with b aᵀx ≪ 0, 0 otherwise.
func TestLogRegHugeMargins(t *testing.T) {
	ds := handCSR()
	p, err := NewLogReg(ds, 0)
	if err != nil {
		t.Fatal(err)
	}
	x := []float64{1e4, -1e4, 1e4, 1e4, -1e4, 0}
	a := denseRows(ds)
	want := make([]float64, p.Dim())
	var wantValue float64
	for j, row := range a {
		var z float64
		for i := range x {
			z += row[i] * x[i]
		}
		if ds.Labels[j]*z < 0 { // softplus(−bz) = −bz exactly at this size
			wantValue += -ds.Labels[j] * z
			for i := range want {
				want[i] -= ds.Labels[j] * row[i] / 5
			}
		} else if z == 0 { // softplus(0) = log 2, σ(0) = 1/2
			wantValue += math.Ln2
			for i := range want {
				want[i] -= ds.Labels[j] * row[i] / 2 / 5
			}
		}
	}
	wantValue /= 5
	if v := p.Value(x); !relClose(v, wantValue, 1e-15) {
		t.Errorf("Value = %v, want %v", v, wantValue)
	}
	g := make([]float64, p.Dim())
	p.Grad(g, x)
	checkClose(t, "Grad at huge margins", g, want, 1e-15)
}

func TestLogRegSmoothness(t *testing.T) {
	ds := loadLIBSVM(t, "breast-cancer_scale")
	p, err := NewLogReg(ds, lambda)
	if err != nil {
		t.Fatal(err)
	}
	lmax, err := LambdaMaxAtA(ds)
	if err != nil {
		t.Fatal(err)
	}
	want := lmax/(4*float64(ds.Rows())) + 2*lambda
	got, err := p.Smoothness(nil)
	if err != nil || got != want {
		t.Errorf("Smoothness = %v, %v; want %v", got, err, want)
	}
	whole, err := LogRegSmoothness(ds, lambda)
	if err != nil || whole != want {
		t.Errorf("LogRegSmoothness = %v, %v; want %v", whole, err, want)
	}
	// L bounds the curvature: ‖∇f(x) − ∇f(y)‖ ≤ L‖x − y‖ on random pairs.
	gx, gy := make([]float64, p.Dim()), make([]float64, p.Dim())
	for s := range uint64(20) {
		x, y := randVec(p.Dim(), 1, 10+s), randVec(p.Dim(), 1, 100+s)
		p.Grad(gx, x)
		p.Grad(gy, y)
		var num, den float64
		for i := range x {
			num += (gx[i] - gy[i]) * (gx[i] - gy[i])
			den += (x[i] - y[i]) * (x[i] - y[i])
		}
		if r := math.Sqrt(num / den); r > want {
			t.Errorf("gradient Lipschitz ratio %v exceeds L = %v", r, want)
		}
	}
}

func TestLogRegAllocs(t *testing.T) {
	for _, ds := range []*datasets.Dataset{handCSR(), randomDense(50, 7, 2)} {
		p, err := NewLogReg(ds, lambda)
		if err != nil {
			t.Fatal(err)
		}
		x, g := randVec(p.Dim(), 1, 1), make([]float64, p.Dim())
		batch := []int32{0, 2, 4}
		if n := testing.AllocsPerRun(100, func() { p.Grad(g, x) }); n != 0 {
			t.Errorf("%s: Grad allocates %v times", ds.Source, n)
		}
		if n := testing.AllocsPerRun(100, func() { p.MinibatchGrad(g, x, batch) }); n != 0 {
			t.Errorf("%s: MinibatchGrad allocates %v times", ds.Source, n)
		}
	}
}

func TestNewLogRegErrors(t *testing.T) {
	bad := func(edit func(ds *datasets.Dataset)) *datasets.Dataset {
		ds := handCSR()
		s := *ds.Sparse
		s.RowPtr = append([]int(nil), s.RowPtr...)
		s.ColIdx = append([]int32(nil), s.ColIdx...)
		ds.Sparse = &s
		ds.Labels = append([]float64(nil), ds.Labels...)
		edit(ds)
		return ds
	}
	for _, c := range []struct {
		name   string
		ds     *datasets.Dataset
		lambda float64
		want   string
	}{
		{"nil", nil, 0.1, "nil dataset"},
		{"neither", &datasets.Dataset{Labels: []float64{1}, Source: "x"}, 0.1, "exactly one"},
		{"both", bad(func(ds *datasets.Dataset) { ds.Dense = &datasets.Dense{Rows: 5, Cols: 6, Data: make([]float64, 30)} }), 0.1, "exactly one"},
		{"label", bad(func(ds *datasets.Dataset) { ds.Labels[2] = 2 }), 0.1, "row 2: label 2"},
		{"labels count", bad(func(ds *datasets.Dataset) { ds.Labels = ds.Labels[:4] }), 0.1, "5 rows but 4 labels"},
		{"column", bad(func(ds *datasets.Dataset) { ds.Sparse.ColIdx[5] = 6 }), 0.1, "column 6 outside"},
		{"rowptr", bad(func(ds *datasets.Dataset) { ds.Sparse.RowPtr[2] = 1 }), 0.1, "decreasing row pointer"},
		{"dense size", &datasets.Dataset{Dense: &datasets.Dense{Rows: 2, Cols: 2, Data: make([]float64, 3)}, Labels: []float64{1, -1}}, 0.1, "holds 3 values"},
		{"lambda", handCSR(), -1, "lambda -1"},
		{"lambda NaN", handCSR(), math.NaN(), "lambda NaN"},
	} {
		_, err := NewLogReg(c.ds, c.lambda)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "logreg") {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
