package problems

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/efmpi/efmpi/datasets"
)

// LogReg is logistic regression with the nonconvex regulariser of SPEC §5 on one
// shard of m samples (a_j, b_j), b_j ∈ {−1, +1}:
//
//	f_i(x) = (1/m) Σ_j log(1 + exp(−b_j a_jᵀx)) + λ Σ_t x_t²/(1 + x_t²).
//
// The design matrix is used in place (sparse CSR or dense row-major), never
// copied; it must not be modified while the LogReg is in use. Grad and
// MinibatchGrad run in O(nnz) and allocate nothing. Grad keeps the margins
// of its point, so Value (the metric f_i) at that point costs O(m) and reads
// no matrix entry; ValueGrad gives both in one pass. A LogReg is not safe for
// concurrent use: the gradients work in preallocated scratch space and the
// margins cache (each client owns its objective).
//
// On amd64 with AVX2 the full row blocks run in assembly (kernel_amd64.s:
// margins, coefficients with the exponential, scatter, and the dense Aᵀc).
// Each assembly kernel performs the IEEE operations of its Go twin in the
// same order, without fused multiply-add, so the gradient has the same bits
// with and without it (TestGradAsmBits, TestLossCoefsAsmBits,
// TestAxpyRowsAsmBits); the Go code runs for partial blocks, for margins
// beyond ±708 and on other machines.
type LogReg struct {
	m, d   int
	lambda float64
	labels []float64
	ds     *datasets.Dataset

	// Sparse storage (nil when dense). binary records that every stored
	// value is 1 (one-hot LIBSVM data such as a1a–a9a): the gradient then
	// skips reading the values.
	rowPtr []int
	colIdx []int32
	val    []float64
	binary bool
	// Dense storage, row-major m×d (nil when sparse), and the scratch of the
	// dense gradient: block rows at a time (block·d ≤ 4096 values, at most
	// rowBlock), a buffer for a gathered minibatch block, the coefficients.
	dense []float64
	block int
	buf   []float64
	coef  [rowBlock]float64

	// The margins cache: after a full Grad at cx, t[j] = −b_j a_jᵀcx and
	// e[j] = e^{−|t[j]|} for every row, so Value at the same point needs no
	// second pass over the matrix (cached reports whether t, e and cx hold).
	cx, t, e []float64
	cached   bool
}

// NewLogReg returns the objective of ds with regularisation weight lambda. ds
// must hold at least one sample, exactly one of a sparse or dense matrix, and one
// label ±1 per row. The CSR structure is validated once here (row pointers,
// column indices in range) so the gradient loops need no checks of their own.
func NewLogReg(ds *datasets.Dataset, lambda float64) (*LogReg, error) {
	if err := validate(ds); err != nil {
		return nil, fmt.Errorf("logreg: %w", err)
	}
	if lambda < 0 || math.IsNaN(lambda) || math.IsInf(lambda, 0) {
		return nil, fmt.Errorf("logreg %s: lambda %v must be finite and non-negative", ds.Source, lambda)
	}
	p := &LogReg{m: ds.Rows(), d: ds.Cols(), lambda: lambda, labels: ds.Labels, ds: ds}
	p.ensureCache()
	if ds.Sparse != nil {
		p.rowPtr, p.colIdx, p.val = ds.Sparse.RowPtr, ds.Sparse.ColIdx, ds.Sparse.Val
		p.binary = true
		for _, v := range p.val {
			if v != 1 {
				p.binary = false
				break
			}
		}
	} else {
		p.dense = ds.Dense.Data
		p.block = max(1, min(rowBlock, 4096/p.d))
		p.buf = make([]float64, p.block*p.d)
	}
	return p, nil
}

// validate checks a dataset used as a logistic-regression shard: a valid
// design matrix with at least one row and one label ±1 per row.
func validate(ds *datasets.Dataset) error {
	if err := validateMatrix(ds); err != nil {
		return err
	}
	m := matrixRows(ds)
	if len(ds.Labels) != m {
		return fmt.Errorf("%s: %d rows but %d labels", ds.Source, m, len(ds.Labels))
	}
	for j, b := range ds.Labels {
		if b != 1 && b != -1 {
			return fmt.Errorf("%s row %d: label %v is not ±1", ds.Source, j, b)
		}
	}
	return nil
}

// matrixRows is the number of rows of the design matrix of a dataset that
// passed validateMatrix.
func matrixRows(ds *datasets.Dataset) int {
	if ds.Sparse != nil {
		return ds.Sparse.Rows
	}
	return ds.Dense.Rows
}

// validateMatrix checks that exactly one of the sparse and dense matrices is
// set, that it has at least one row and one column, and that its storage is
// consistent (CSR row pointers non-decreasing, column indices in range).
func validateMatrix(ds *datasets.Dataset) error {
	if ds == nil {
		return errors.New("nil dataset")
	}
	if (ds.Sparse == nil) == (ds.Dense == nil) {
		return fmt.Errorf("%s: exactly one of the sparse and dense matrices must be set", ds.Source)
	}
	if s := ds.Sparse; s != nil {
		m := s.Rows
		if m <= 0 || s.Cols <= 0 || s.Cols > math.MaxInt32 {
			return fmt.Errorf("%s: sparse matrix is %d×%d", ds.Source, m, s.Cols)
		}
		if len(s.RowPtr) != m+1 || s.RowPtr[0] != 0 || s.RowPtr[m] != len(s.Val) || len(s.ColIdx) != len(s.Val) {
			return fmt.Errorf("%s: inconsistent CSR (%d row pointers, %d indices, %d values for %d rows)",
				ds.Source, len(s.RowPtr), len(s.ColIdx), len(s.Val), m)
		}
		for r := range m {
			if s.RowPtr[r] > s.RowPtr[r+1] {
				return fmt.Errorf("%s row %d: decreasing row pointer", ds.Source, r)
			}
		}
		for k, c := range s.ColIdx {
			if c < 0 || int(c) >= s.Cols {
				return fmt.Errorf("%s: entry %d has column %d outside [0, %d)", ds.Source, k, c, s.Cols)
			}
		}
		return nil
	}
	dm := ds.Dense
	if dm.Rows <= 0 || dm.Cols <= 0 || len(dm.Data) != dm.Rows*dm.Cols {
		return fmt.Errorf("%s: dense matrix %d×%d holds %d values", ds.Source, dm.Rows, dm.Cols, len(dm.Data))
	}
	return nil
}

// Dim is the number of features d.
func (p *LogReg) Dim() int { return p.d }

// Samples is the number of samples m_i in the shard.
func (p *LogReg) Samples() int { return p.m }

// Lambda is the regularisation weight λ.
func (p *LogReg) Lambda() float64 { return p.lambda }

// Value returns f_i(x) = (1/m) Σ_j softplus(t_j) + λ Σ_t x_t²/(1+x_t²), with the
// margins t_j = −b_j a_jᵀx computed by the gradient's own kernels and
// log(1 + e^{−|t|}) by log1pUnit (within 2 ulp of math.Log1p). Right after
// Grad(·, x) (the same x, bit for bit) it reuses that pass's margins and
// exponentials and reads no matrix entry; otherwise it makes one pass for
// them. Both ways give the same bits.
func (p *LogReg) Value(x []float64) float64 {
	checkLen("Value", x, p.d)
	p.ensureCache()
	if !p.cachedAt(x) {
		p.fillCache(x)
	}
	return softplusSum(p.t, p.e)/float64(p.m) + p.regValue(x)
}

// ValueGrad writes ∇f_i(x) into dst and returns f_i(x): one pass over the
// matrix for both, with the bits of Grad and Value.
func (p *LogReg) ValueGrad(dst, x []float64) float64 {
	p.Grad(dst, x)
	return p.Value(x)
}

// ensureCache allocates the margins cache for m rows and d columns if it is
// not (a LogReg built by another constructor gets it on first use).
func (p *LogReg) ensureCache() {
	if len(p.t) != p.m || len(p.e) != p.m || len(p.cx) != p.d {
		p.cx, p.t, p.e = make([]float64, p.d), make([]float64, p.m), make([]float64, p.m)
		p.cached = false
	}
}

// cachedAt reports whether the margins cache holds the point x.
func (p *LogReg) cachedAt(x []float64) bool {
	if !p.cached {
		return false
	}
	cx := p.cx[:len(x)]
	for i, v := range x {
		if math.Float64bits(v) != math.Float64bits(cx[i]) {
			return false
		}
	}
	return true
}

// fillCache computes the margins and exponentials of every row at x into the
// cache, with the gradient's kernels but without its scatter.
func (p *LogReg) fillCache(x []float64) {
	p.cached = false
	if p.dense != nil {
		p.denseLoss(nil, x, nil, p.m)
	} else {
		p.sparseLoss(nil, x, nil, p.m)
	}
}

// MinibatchValue returns the loss averaged over the rows in batch plus the full
// regulariser: the function whose gradient MinibatchGrad computes. An empty
// batch gives the regulariser alone.
func (p *LogReg) MinibatchValue(x []float64, batch []int32) float64 {
	checkLen("MinibatchValue", x, p.d)
	var s float64
	for _, j := range batch {
		s += Softplus(-p.labels[j] * p.rowDot(int(j), x))
	}
	if len(batch) > 0 {
		s /= float64(len(batch))
	}
	return s + p.regValue(x)
}

// rowDot returns a_jᵀx (not on the hot path).
func (p *LogReg) rowDot(j int, x []float64) float64 {
	if p.dense != nil {
		return denseDot(p.dense[j*p.d:(j+1)*p.d], x)
	}
	lo, hi := p.rowPtr[j], p.rowPtr[j+1]
	return sparseDot(p.colIdx[lo:hi], p.val[lo:hi], x)
}

// regValue returns λ Σ_t x_t²/(1+x_t²).
func (p *LogReg) regValue(x []float64) float64 {
	var s float64
	for _, xt := range x {
		x2 := float64(xt * xt)
		s += x2 / (1 + x2)
	}
	return p.lambda * s
}

// Grad writes ∇f_i(x) into dst. It makes one pass over the rows of the shard:
// the dot product a_jᵀx, then dst += c_j a_j with c_j = −b_j σ(−b_j a_jᵀx)/m.
// It keeps the margins for a following Value at the same x.
func (p *LogReg) Grad(dst, x []float64) {
	checkLen("Grad", x, p.d)
	checkLen("Grad", dst, p.d)
	clear(dst)
	if p.dense != nil {
		p.denseLoss(dst, x, nil, p.m)
	} else {
		p.sparseLoss(dst, x, nil, p.m)
	}
	p.addRegGrad(dst, x)
}

// MinibatchGrad writes into dst the gradient of the loss averaged over the rows
// listed in batch (each counted as often as it appears), plus the full
// regulariser gradient. An empty batch gives the regulariser gradient alone.
// A row outside [0, Samples()) panics.
func (p *LogReg) MinibatchGrad(dst, x []float64, batch []int32) {
	checkLen("MinibatchGrad", x, p.d)
	checkLen("MinibatchGrad", dst, p.d)
	clear(dst)
	if len(batch) > 0 {
		if p.dense != nil {
			p.denseLoss(dst, x, batch, len(batch))
		} else {
			p.sparseLoss(dst, x, batch, len(batch))
		}
	}
	p.addRegGrad(dst, x)
}

// addRegGrad adds λ·2x_t/(1+x_t²)² to dst.
func (p *LogReg) addRegGrad(dst, x []float64) {
	l2 := 2 * p.lambda
	dst = dst[:len(x)]
	for t, xt := range x {
		q := 1 + float64(xt*xt)
		dst[t] += l2 * xt / float64(q*q)
	}
}

// lossCoefs replaces the margins z[i] = a_jᵀx (i < n, j = rows[i]) by the
// loss-gradient weights −b_j σ(−b_j z_i)·inv, and leaves t_i = −b_j z_i in
// t[i] and e^{−|t_i|} in e[i] (len(t), len(e) ≥ n; the loss value needs
// them). With e = e^{−|t|}, σ(t) = 1/(1+e) for t ≥ 0 and e/(1+e) otherwise:
// no overflow for any margin, and the choice is a select, not a branch,
// which matters because labels alternate unpredictably. A full block runs
// in lossCoefs16AVX2 where there is AVX2 (the same bits).
func lossCoefs(z *[rowBlock]float64, t, e []float64, rows *[rowBlock]int, labels []float64, n int, inv float64) {
	if n == rowBlock && useAsm {
		var lb *[rowBlock]float64
		if r0 := rows[0]; rows[rowBlock-1] == r0+rowBlock-1 && r0+rowBlock <= len(labels) && contiguous(rows) {
			lb = (*[rowBlock]float64)(labels[r0 : r0+rowBlock]) // rows in order: the labels in place
		} else {
			var b [rowBlock]float64
			for i, r := range rows {
				b[i] = labels[r]
			}
			lb = &b
		}
		if lossCoefsAsm(z, lb, (*[rowBlock]float64)(t), (*[rowBlock]float64)(e), inv) {
			return
		}
	}
	lossCoefsGo(z, t, e, rows, labels, n, inv)
}

// contiguous reports whether rows[i] = rows[0] + i for every i.
func contiguous(rows *[rowBlock]int) bool {
	for i, r := range rows {
		if r != rows[0]+i {
			return false
		}
	}
	return true
}

// lossCoefsGo is lossCoefs in Go: the twin of lossCoefs16AVX2, and the code
// for partial blocks, for margins beyond ±708 and where there is no AVX2.
func lossCoefsGo(z *[rowBlock]float64, t, e []float64, rows *[rowBlock]int, labels []float64, n int, inv float64) {
	t, e = t[:n], e[:n]
	for i := range t {
		b := labels[rows[i]]
		ti := -b * z[i]
		t[i] = ti
		e[i] = -math.Abs(ti)
	}
	expNonPosSlice(e)
	for i, ei := range e {
		b := labels[rows[i]]
		num := ei
		if t[i] >= 0 {
			num = 1
		}
		z[i] = -b * inv * num / (1 + ei)
	}
}

// rowBlock is the number of rows whose margins are computed before their
// coefficients: the exponentials of a block are independent of each other, so
// they overlap in the pipeline instead of each stalling the row loop. The rows
// of a block are still in L1 when they are read again for the axpy, so memory
// sees a single pass over the matrix.
const rowBlock = 16

// sparseLoss adds (1/count) Σ_j −b_j σ(−b_j a_jᵀx) a_j to dst over rows 0..m−1
// (batch == nil) or the rows in batch. Rows are taken in blocks of rowBlock:
// first every margin a_jᵀx of the block, then every coefficient, then every
// axpy. Summation order is fixed, so results are bitwise reproducible. A full
// pass (batch == nil) fills the margins cache; with dst == nil it does only
// that. A full pass on 0/1 data runs its full blocks in gradBinaryBlocks
// (assembly, the same operations) where there is AVX2.
func (p *LogReg) sparseLoss(dst, x []float64, batch []int32, count int) {
	inv := 1 / float64(count)
	if batch == nil {
		p.ensureCache()
	}
	var rows [rowBlock]int
	var coef, t, e [rowBlock]float64
	i0 := 0
	if batch == nil && dst != nil && p.binary {
		i0 = p.gradBinaryAsm(dst, x, inv) // the same operations, blocks in assembly end to end
	}
	for ; i0 < count; i0 += rowBlock {
		nb := min(rowBlock, count-i0)
		for b := range nb {
			r := i0 + b
			if batch != nil {
				r = int(batch[r])
			}
			rows[b] = r
		}
		if p.binary {
			p.marginsBinary(&coef, &rows, nb, x)
		} else {
			p.margins(&coef, &rows, nb, x)
		}
		ts, es := t[:], e[:]
		if batch == nil { // straight into the margins cache
			ts, es = p.t[i0:i0+nb], p.e[i0:i0+nb]
		}
		lossCoefs(&coef, ts, es, &rows, p.labels, nb, inv)
		if dst == nil {
			continue
		}
		if p.binary {
			p.scatterBinary(dst, &coef, &rows, nb)
		} else {
			p.scatter(dst, &coef, &rows, nb)
		}
	}
	if batch == nil {
		copy(p.cx, x)
		p.cached = true
	}
}

// margins sets z[b] = a_rᵀx for the rows r = rows[b], b < nb, each with four
// partial sums combined in a fixed order.
func (p *LogReg) margins(z *[rowBlock]float64, rows *[rowBlock]int, nb int, x []float64) {
	if p.marginsAsm(z, rows, nb, x) {
		return
	}
	rowPtr, colIdx, val := p.rowPtr, p.colIdx, p.val
	for b, r := range rows[:nb] {
		lo, hi := rowPtr[r], rowPtr[r+1]
		z[b] = sparseDot(colIdx[lo:hi], val[lo:hi], x)
	}
}

// scatter adds c[b]·a_r to dst for the rows r = rows[b], b < nb.
func (p *LogReg) scatter(dst []float64, c *[rowBlock]float64, rows *[rowBlock]int, nb int) {
	if p.scatterAsm(dst, c, rows, nb) {
		return
	}
	rowPtr, colIdx, val := p.rowPtr, p.colIdx, p.val
	for b, r := range rows[:nb] {
		lo, hi := rowPtr[r], rowPtr[r+1]
		cols := colIdx[lo:hi]
		vals := val[lo:hi]
		vals = vals[:len(cols)]
		cb := c[b]
		k := 0
		for ; k+4 <= len(cols); k += 4 {
			c4, v4 := cols[k:k+4:k+4], vals[k:k+4:k+4]
			dst[c4[0]] += float64(cb * v4[0])
			dst[c4[1]] += float64(cb * v4[1])
			dst[c4[2]] += float64(cb * v4[2])
			dst[c4[3]] += float64(cb * v4[3])
		}
		for ; k < len(cols); k++ {
			dst[cols[k]] += float64(cb * vals[k])
		}
	}
}

// marginsBinary is margins for a matrix whose stored values are all 1: the
// values are not read. Since 1·x = x exactly, it gives the same bits.
func (p *LogReg) marginsBinary(z *[rowBlock]float64, rows *[rowBlock]int, nb int, x []float64) {
	if p.marginsBinaryAsm(z, rows, nb, x) {
		return
	}
	rowPtr, colIdx := p.rowPtr, p.colIdx
	for b, r := range rows[:nb] {
		cols := colIdx[rowPtr[r]:rowPtr[r+1]]
		var s0, s1, s2, s3 float64
		k := 0
		for ; k+4 <= len(cols); k += 4 {
			c4 := cols[k : k+4 : k+4]
			s0 += x[c4[0]]
			s1 += x[c4[1]]
			s2 += x[c4[2]]
			s3 += x[c4[3]]
		}
		for ; k < len(cols); k++ {
			s0 += x[cols[k]]
		}
		z[b] = (s0 + s1) + (s2 + s3)
	}
}

// scatterBinary is scatter for a matrix whose stored values are all 1: the
// values are not read. Since c·1 = c exactly, it gives the same bits.
func (p *LogReg) scatterBinary(dst []float64, c *[rowBlock]float64, rows *[rowBlock]int, nb int) {
	if p.scatterBinaryAsm(dst, c, rows, nb) {
		return
	}
	rowPtr, colIdx := p.rowPtr, p.colIdx
	for b, r := range rows[:nb] {
		cols := colIdx[rowPtr[r]:rowPtr[r+1]]
		cb := c[b]
		k := 0
		for ; k+4 <= len(cols); k += 4 {
			c4 := cols[k : k+4 : k+4]
			dst[c4[0]] += cb
			dst[c4[1]] += cb
			dst[c4[2]] += cb
			dst[c4[3]] += cb
		}
		for ; k < len(cols); k++ {
			dst[cols[k]] += cb
		}
	}
}

// denseLoss is sparseLoss for a dense row-major matrix. A block of rows is an
// nb×d matrix A_B, so its margins z = A_B x and its contribution dst += A_Bᵀc
// are two matrix-vector products (gonum's Dgemv, vectorised assembly on
// amd64). For a minibatch the rows are first gathered into a contiguous
// buffer, so a minibatch of all rows in order gives Grad's bits exactly. Like
// sparseLoss, a full pass fills the margins cache, and dst == nil does only
// that.
func (p *LogReg) denseLoss(dst, x []float64, batch []int32, count int) {
	inv := 1 / float64(count)
	if batch == nil {
		p.ensureCache()
	}
	d := p.d
	data, labels := p.dense, p.labels
	var impl gonum.Implementation
	var rows [rowBlock]int
	var t, e [rowBlock]float64
	coef := p.coef[:]
	for i0 := 0; i0 < count; i0 += p.block {
		nb := min(p.block, count-i0)
		var a []float64
		if batch == nil {
			for b := range nb {
				rows[b] = i0 + b
			}
			a = data[i0*d : (i0+nb)*d]
		} else {
			a = p.buf[:nb*d]
			for b := range nb {
				r := int(batch[i0+b])
				rows[b] = r
				copy(a[b*d:(b+1)*d], data[r*d:(r+1)*d])
			}
		}
		impl.Dgemv(blas.NoTrans, nb, d, 1, a, d, x, 1, 0, coef[:nb], 1)
		ts, es := t[:], e[:]
		if batch == nil {
			ts, es = p.t[i0:i0+nb], p.e[i0:i0+nb]
		}
		lossCoefs(&p.coef, ts, es, &rows, labels, nb, inv)
		if dst != nil && !axpyRowsAsm(dst, a, coef, nb, d) {
			impl.Dgemv(blas.Trans, nb, d, 1, a, d, coef[:nb], 1, 1, dst, 1)
		}
	}
	if batch == nil {
		copy(p.cx, x)
		p.cached = true
	}
}

// sparseDot returns Σ_k vals[k]·x[cols[k]] with the same four-way partial sums
// as the gradient loop.
func sparseDot(cols []int32, vals, x []float64) float64 {
	vals = vals[:len(cols)]
	var s0, s1, s2, s3 float64
	k := 0
	for ; k+4 <= len(cols); k += 4 {
		c4, v4 := cols[k:k+4:k+4], vals[k:k+4:k+4]
		s0 += float64(v4[0] * x[c4[0]])
		s1 += float64(v4[1] * x[c4[1]])
		s2 += float64(v4[2] * x[c4[2]])
		s3 += float64(v4[3] * x[c4[3]])
	}
	for ; k < len(cols); k++ {
		s0 += float64(vals[k] * x[cols[k]])
	}
	return (s0 + s1) + (s2 + s3)
}

// denseDot returns aᵀx (len(a) == len(x)) with four partial sums combined in a
// fixed order.
func denseDot(a, x []float64) float64 {
	x = x[:len(a)]
	var s0, s1, s2, s3 float64
	k := 0
	for ; k+4 <= len(a); k += 4 {
		a4, x4 := a[k:k+4:k+4], x[k:k+4:k+4]
		s0 += float64(a4[0] * x4[0])
		s1 += float64(a4[1] * x4[1])
		s2 += float64(a4[2] * x4[2])
		s3 += float64(a4[3] * x4[3])
	}
	for ; k < len(a); k++ {
		s0 += float64(a[k] * x[k])
	}
	return (s0 + s1) + (s2 + s3)
}

// Smoothness returns L_i = λ_max(A_iᵀA_i)/(4 m_i) + 2λ; x0 is unused. The
// eigenvalue is computed afresh by LambdaMaxAtA on every call.
func (p *LogReg) Smoothness(x0 []float64) (float64, error) {
	return LogRegSmoothness(p.ds, p.lambda)
}
