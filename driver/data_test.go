package driver

import (
	"context"
	"crypto/sha256"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/efmpi/efmpi/algorithms"
	"github.com/efmpi/efmpi/collective"
	"github.com/efmpi/efmpi/collective/inproc"
	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/hdf5io"
	"github.com/efmpi/efmpi/internal/testenv"
	"github.com/efmpi/efmpi/problems"
)

// writeCSR stores ds in the HDF5 sparse input format (one block), as
// `efmpi data convert` would.
func writeCSR(t testing.TB, ds *datasets.Dataset, path string) {
	t.Helper()
	w, err := hdf5io.CreateCSR(path, false)
	if err != nil {
		t.Fatal(err)
	}
	s := ds.Sparse
	if err := w.Append(s.RowPtr, s.ColIdx, s.Val, ds.Labels); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(s.Cols, nil); err != nil {
		t.Fatal(err)
	}
}

// a1aAsHDF5 converts a1a and returns both paths.
func a1aAsHDF5(t testing.TB) (svm, h5 string) {
	svm = testenv.Dataset(t, "a1a")
	ds, err := datasets.ReadLIBSVM(svm, datasets.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h5 = filepath.Join(t.TempDir(), "a1a.h5")
	writeCSR(t, ds, h5)
	return svm, h5
}

func viewHash(v *datasets.Dataset) [32]byte {
	h := sha256.New()
	hashShard(h, v)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Every rank's shard is the same bit for bit whether the process holds every
// rank (Prepare) or only that rank (PrepareRank), for every source and
// sharding option; and the HDF5 copy of a1a gives the LIBSVM file's shards.
func TestPrepareRankMatchesPrepare(t *testing.T) {
	svm, h5 := a1aAsHDF5(t)
	const n = 5
	type variant struct {
		name string
		edit func(*Spec)
	}
	sources := []variant{
		{"libsvm", func(s *Spec) { s.Source, s.DataPath, s.Features = SourceLIBSVM, svm, 0 }},
		{"hdf5", func(s *Spec) { s.Source, s.DataPath, s.Features = SourceHDF5, h5, 0 }},
		{"synthetic", func(s *Spec) {}},
		{"synthetic-sparse", func(s *Spec) {
			s.Source, s.Samples, s.Features, s.RowNNZ, s.Exponent, s.LabelNoise = SourceSyntheticSparse, 400, 300, 7, 1, 0.1
		}},
	}
	options := []variant{
		{"contiguous", func(s *Spec) {}},
		{"shuffle", func(s *Spec) { s.Shuffle = true }},
		{"label", func(s *Spec) { s.Split = datasets.SplitLabel }},
		{"shuffle+label", func(s *Spec) { s.Shuffle, s.Split = true, datasets.SplitLabel }},
		{"dirichlet", func(s *Spec) { s.Split, s.SplitAlpha = datasets.SplitDirichlet, 0.5 }},
	}
	for _, opt := range options {
		var libsvmHashes [n][32]byte
		for _, src := range sources {
			t.Run(src.name+"/"+opt.name, func(t *testing.T) {
				spec := baseSpec(t)
				spec.Rule = algorithms.RuleNormTheory
				src.edit(&spec)
				opt.edit(&spec)
				all, err := Prepare(spec, n)
				if err != nil {
					t.Fatal(err)
				}
				for r := range n {
					one, err := PrepareRank(spec, n, r)
					if err != nil {
						t.Fatal(err)
					}
					want := viewHash(all.views[r])
					if one.rowsHash != want || len(one.views) != 1 || one.Dim != all.Dim {
						t.Fatalf("rank %d: PrepareRank's shard differs from Prepare's", r)
					}
					if one.Data != all.Data || all.Data.Rows == 0 || all.Data.NNZ == 0 {
						t.Fatalf("rank %d: data print %v, Prepare's %v", r, one.Data, all.Data)
					}
					for i, s := range all.ShardSizes {
						if one.ShardSizes[i] != s {
							t.Fatalf("rank %d: shard sizes %v, Prepare %v", r, one.ShardSizes, all.ShardSizes)
						}
					}
					switch src.name {
					case "libsvm":
						libsvmHashes[r] = want
					case "hdf5":
						if want != libsvmHashes[r] {
							t.Fatalf("rank %d: the HDF5 shard differs from the LIBSVM shard", r)
						}
					}
				}
			})
		}
	}
}

// A rank reading an HDF5 file reads only its rows of indptr, indices and
// data (plus the O(m) labels and the two ends of indptr checked at open).
func TestHDF5RankReadsOnlyItsRows(t *testing.T) {
	svm, h5 := a1aAsHDF5(t)
	full, err := datasets.ReadLIBSVM(svm, datasets.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := baseSpec(t)
	spec.Rule, spec.Source, spec.DataPath, spec.Features = algorithms.RuleNormTheory, SourceHDF5, h5, 0
	const n = 6
	m := full.Rows()
	total := hdf5io.ReadCounts{}
	for r := range n {
		sh, err := PrepareRank(spec, n, r)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := datasets.ShardBounds(m, n, r)
		nnz := int64(full.Sparse.RowPtr[hi] - full.Sparse.RowPtr[lo])
		want := hdf5io.ReadCounts{Indptr: int64(hi-lo+1) + 2, Indices: nnz, Data: nnz, Labels: int64(m)}
		if sh.Read != want {
			t.Fatalf("rank %d read %+v, want %+v", r, sh.Read, want)
		}
		total.Indices += sh.Read.Indices
	}
	if total.Indices != int64(full.Sparse.NNZ()) {
		t.Fatalf("ranks read %d entries in all, the file has %d", total.Indices, full.Sparse.NNZ())
	}
}

// The ef21-theory constants computed by n processes that each hold one rank
// (L_i from their own shard, L by a Lanczos iteration whose products are
// summed with collective.Allreduce) equal the single-process values bit for
// bit; L agrees with the whole-matrix Lanczos to 1e-12 and with a dense
// eigen-solver to 1e-8.
func TestDistributedSmoothness(t *testing.T) {
	svm, h5 := a1aAsHDF5(t)
	full, err := datasets.ReadLIBSVM(svm, datasets.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	whole, err := problems.LogRegSmoothness(full, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	dense := denseLambdaMax(t, full)/(4*float64(full.Rows())) + 0.2
	for _, opts := range []struct {
		shuffle bool
		split   string
	}{{false, "contiguous"}, {true, datasets.SplitLabel}} {
		spec := baseSpec(t)
		spec.Source, spec.DataPath, spec.Features = SourceHDF5, h5, 0
		spec.Shuffle, spec.Split = opts.shuffle, opts.split
		const n = 5
		all, err := Prepare(spec, n)
		if err != nil {
			t.Fatal(err)
		}
		L := all.Theory.L
		if math.Abs(L-whole) > 1e-12*whole || math.Abs(L-dense) > 1e-8*dense {
			t.Fatalf("L = %.17g; whole-matrix Lanczos %.17g, dense %.17g", L, whole, dense)
		}
		world, err := inproc.NewWorld(n)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]*algorithms.Theory, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for r := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := world[r]
				defer c.Finalize()
				if errs[r] = c.Init(); errs[r] != nil {
					return
				}
				sh, err := PrepareRank(spec, n, r)
				if err != nil {
					errs[r] = err
					return
				}
				if !sh.pendingL || sh.Theory != nil {
					t.Errorf("rank %d: constants computed before the communicator exists", r)
				}
				errs[r] = sh.connect(c)
				got[r] = sh.Theory
			}()
		}
		wg.Wait()
		for r := range n {
			if errs[r] != nil {
				t.Fatal(errs[r])
			}
			g, w := got[r], all.Theory
			if math.Float64bits(g.L) != math.Float64bits(w.L) || math.Float64bits(g.LTilde) != math.Float64bits(w.LTilde) ||
				math.Float64bits(g.Gamma) != math.Float64bits(w.Gamma) {
				t.Fatalf("rank %d: L, L̃, γ = %.17g, %.17g, %.17g; single process %.17g, %.17g, %.17g",
					r, g.L, g.LTilde, g.Gamma, w.L, w.LTilde, w.Gamma)
			}
		}
	}
}

// The in-process run on the HDF5 copy of a1a is bit for bit the run on the
// LIBSVM file (shuffled, split by label, ef21-theory).
func TestHDF5RunEqualsLIBSVMRun(t *testing.T) {
	svm, h5 := a1aAsHDF5(t)
	var ref Result
	for i, src := range []struct{ source, path string }{{SourceLIBSVM, svm}, {SourceHDF5, h5}} {
		spec := baseSpec(t)
		spec.Source, spec.DataPath, spec.Features = src.source, src.path, 0
		spec.Shuffle, spec.Split, spec.K, spec.Iterations = true, datasets.SplitLabel, 3, 60
		sh, err := Prepare(spec, 4)
		if err != nil {
			t.Fatal(err)
		}
		res, err := RunInproc(context.Background(), sh, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			ref = res
			continue
		}
		for j := range res.X {
			if math.Float64bits(res.X[j]) != math.Float64bits(ref.X[j]) || math.Float64bits(res.G[j]) != math.Float64bits(ref.G[j]) {
				t.Fatalf("x or g differs at %d: %v vs %v", j, res.X[j], ref.X[j])
			}
		}
	}
}

// sumLikeAllreduce adds the ranks' vectors in exactly the order of
// collective.Allreduce, bit for bit, for several world sizes. The values span
// many magnitudes, so that another order gives other bits (checked: the
// reversed order differs for some n).
func TestSumLikeAllreduce(t *testing.T) {
	const d = 64
	r := rand.New(rand.NewPCG(5, 6))
	reversedDiffers := false
	for n := 1; n <= 9; n++ {
		parts := make([][]float64, n)
		for i := range parts {
			parts[i] = make([]float64, d)
			for j := range parts[i] {
				parts[i][j] = r.NormFloat64() * math.Exp2(float64(r.IntN(60)-30))
			}
		}
		world, err := inproc.NewWorld(n)
		if err != nil {
			t.Fatal(err)
		}
		got := make([][]float64, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := world[i]
				defer c.Finalize()
				if errs[i] = c.Init(); errs[i] == nil {
					got[i] = make([]float64, d)
					errs[i] = collective.Allreduce(c, parts[i], got[i])
				}
			}()
		}
		wg.Wait()
		want := make([]float64, d)
		scratch := make([]float64, (n-1)*d)
		sumLikeAllreduce(want, parts, scratch)
		rev := make([]float64, d)
		back := slices.Clone(parts)
		slices.Reverse(back)
		sumLikeAllreduce(rev, back, scratch)
		for i := range n {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			for j := range d {
				if math.Float64bits(got[i][j]) != math.Float64bits(want[j]) {
					t.Fatalf("n = %d rank %d: Allreduce[%d] = %v, sumLikeAllreduce %v: the collective's summation order changed", n, i, j, got[i][j], want[j])
				}
			}
		}
		for j := range d {
			reversedDiffers = reversedDiffers || math.Float64bits(rev[j]) != math.Float64bits(want[j])
		}
	}
	if !reversedDiffers {
		t.Fatal("the test vectors do not tell summation orders apart")
	}
}

// In process the ranks' shards are views of one copy of the data: their
// columns and values alias the block's arrays (only row pointers are per
// view), shuffled or not.
func TestInprocViewsShareOneCopy(t *testing.T) {
	svm, _ := a1aAsHDF5(t)
	for _, shuffle := range []bool{false, true} {
		spec := baseSpec(t)
		spec.Rule, spec.Source, spec.DataPath, spec.Features, spec.Shuffle = algorithms.RuleNormTheory, SourceLIBSVM, svm, 0, shuffle
		sh, err := Prepare(spec, 7)
		if err != nil {
			t.Fatal(err)
		}
		b := sh.block.Sparse
		at, row := 0, 0
		for r, v := range sh.views {
			s := v.Sparse
			if &s.Val[0] != &b.Val[at] || &s.ColIdx[0] != &b.ColIdx[at] || &v.Labels[0] != &sh.block.Labels[row] {
				t.Fatalf("shuffle=%v rank %d: the shard is a copy, not a view of the block", shuffle, r)
			}
			at += s.NNZ()
			row += v.Rows()
		}
		if at != b.NNZ() {
			t.Fatalf("views cover %d of %d entries", at, b.NNZ())
		}
	}
}

// The data print (checkpoints, cross-rank agreement) changes with the file's
// contents: a LIBSVM value, an HDF5 label.
func TestDataPrintSeesChanges(t *testing.T) {
	dir := t.TempDir()
	svm := filepath.Join(dir, "d.svm")
	spec := baseSpec(t)
	spec.Rule, spec.Source, spec.DataPath, spec.Features = algorithms.RuleNormTheory, SourceLIBSVM, svm, 0
	os.WriteFile(svm, []byte("1 1:1 2:2\n-1 2:1\n1 1:3\n"), 0o644)
	a, err := PrepareRank(spec, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(svm, []byte("1 1:1 2:2\n-1 2:1\n1 1:4\n"), 0o644)
	b, err := PrepareRank(spec, 2, 0) // rank 0 does not hold the changed row
	if err != nil {
		t.Fatal(err)
	}
	if a.Data == b.Data || a.Data.Rows != 3 || a.Data.NNZ != 4 {
		t.Fatalf("prints %v and %v of different files", a.Data, b.Data)
	}
	ds, _ := datasets.ReadLIBSVM(svm, datasets.ReadOptions{})
	h5 := filepath.Join(dir, "d.h5")
	writeCSR(t, ds, h5)
	spec.Source, spec.DataPath = SourceHDF5, h5
	c, err := Prepare(spec, 2)
	if err != nil {
		t.Fatal(err)
	}
	ds.Labels[0], ds.Labels[1] = ds.Labels[1], ds.Labels[0]
	os.Remove(h5)
	writeCSR(t, ds, h5)
	d, err := Prepare(spec, 2)
	if err != nil {
		t.Fatal(err)
	}
	if c.Data == d.Data || c.Data.Rows != 3 {
		t.Fatalf("prints %v and %v of files with different labels", c.Data, d.Data)
	}
}

// Processes holding one rank each get, over the communicator, the label
// counts and the ef21-theory constants a single process computes (also for
// least squares, whose L is λ_max((1/n) Σ_i A_iᵀA_i/m_i) + λ), bit for bit;
// and L agrees with a dense eigen-solver on the shards' weighted Gram
// matrix to 1e-8 (the split is Dirichlet: shards of unequal sizes).
func TestDistributedCountsAndLeastSq(t *testing.T) {
	_, h5 := a1aAsHDF5(t)
	for _, problem := range []string{"logreg", "leastsq"} {
		spec := baseSpec(t)
		spec.Problem, spec.Source, spec.DataPath, spec.Features = problem, SourceHDF5, h5, 0
		spec.Split, spec.SplitAlpha, spec.Shuffle = datasets.SplitDirichlet, 0.3, true
		const n = 4
		all, err := Prepare(spec, n)
		if err != nil {
			t.Fatal(err)
		}
		want := weightedLambdaMax(t, all.views) + spec.Lambda // least squares
		if problem == "logreg" {
			want = weightedLambdaMax(t, all.views)/4 + 2*spec.Lambda
		}
		if L := all.Theory.L; math.Abs(L-want) > 1e-8*want {
			t.Fatalf("%s: L = %.17g, dense (1/n)Σ A_iᵀA_i/m_i gives %.17g", problem, L, want)
		}
		world, err := inproc.NewWorld(n)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]*Shared, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for r := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := world[r]
				defer c.Finalize()
				if errs[r] = c.Init(); errs[r] != nil {
					return
				}
				if got[r], errs[r] = PrepareRank(spec, n, r); errs[r] == nil {
					errs[r] = got[r].connect(c)
				}
			}()
		}
		wg.Wait()
		for r := range n {
			if errs[r] != nil {
				t.Fatal(errs[r])
			}
			g := got[r]
			if math.Float64bits(g.Theory.L) != math.Float64bits(all.Theory.L) || math.Float64bits(g.Schedule.Gamma) != math.Float64bits(all.Schedule.Gamma) {
				t.Fatalf("%s rank %d: L, γ = %v, %v; single process %v, %v", problem, r, g.Theory.L, g.Schedule.Gamma, all.Theory.L, all.Schedule.Gamma)
			}
			if !slices.Equal(g.Classes, all.Classes) || len(g.LabelCounts) != n {
				t.Fatalf("rank %d: classes %v, single process %v", r, g.Classes, all.Classes)
			}
			for q := range n {
				if !slices.Equal(g.LabelCounts[q], all.LabelCounts[q]) {
					t.Fatalf("rank %d: counts of rank %d %v, single process %v", r, q, g.LabelCounts[q], all.LabelCounts[q])
				}
			}
		}
	}
}

// A test set or the training-set evaluation makes every process hold every
// row (rank 0 scores the whole data).
func TestPrepareRankWholeDataForEvaluation(t *testing.T) {
	svm, _ := a1aAsHDF5(t)
	spec := baseSpec(t)
	spec.Rule, spec.Source, spec.DataPath, spec.Features = algorithms.RuleNormTheory, SourceLIBSVM, svm, 0
	spec.TestFraction = 0.2
	sh, err := PrepareRank(spec, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(sh.views) != 3 || sh.full == nil || sh.Test == nil || sh.Test.Rows() != 321 {
		t.Fatalf("holds %d views, full %v, test %v", len(sh.views), sh.full != nil, sh.Test)
	}
}

// A LIBSVM feature index of 2 147 483 647 makes d too large for memory: the
// refusal names the index, the file and the line that set d, for a process
// holding every rank (whole read) and one holding a single rank (counted,
// shard-local read).
func TestHugeIndexNamesLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.svm")
	if err := os.WriteFile(path, []byte("+1 1:1\n-1 3:1\n+1 2147483647:1\n-1 2:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if avail, ok := availableMemory(); !ok || float64(avail) >= 2147483647*8*vectorsPerRank {
		t.Skip("this machine has the memory for d = 2^31−1")
	}
	spec := baseSpec(t)
	spec.Source, spec.DataPath, spec.Features, spec.Rule = SourceLIBSVM, path, 0, algorithms.RuleNormTheory
	want := "feature index 2147483647 on libsvm " + path + " line 3"
	if _, err := Prepare(spec, 2); err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("Prepare: %v; want an invalid-input error naming %q", err, want)
	}
	if _, err := PrepareRank(spec, 2, 1); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("PrepareRank: %v; want an error naming %q", err, want)
	}
}
