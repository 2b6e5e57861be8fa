// Package datasets reads LIBSVM files into sparse matrices, generates synthetic
// data, maps labels to ±1 and splits samples into per-rank shards.
package datasets

// CSR is a sparse matrix in compressed sparse row form: the entries of row r are
// ColIdx[RowPtr[r]:RowPtr[r+1]] (0-based, strictly increasing) with values
// Val[RowPtr[r]:RowPtr[r+1]].
type CSR struct {
	Rows, Cols int
	RowPtr     []int
	ColIdx     []int32
	Val        []float64
}

// NNZ is the number of stored entries.
func (m *CSR) NNZ() int { return len(m.Val) }

// Dense is a row-major dense matrix: entry (r, c) is Data[r*Cols+c].
type Dense struct {
	Rows, Cols int
	Data       []float64
}

// Dataset is a labelled design matrix: exactly one of Sparse and Dense is set.
// Labels are ±1, one per row.
type Dataset struct {
	Sparse *CSR
	Dense  *Dense
	Labels []float64
	// Source names where the data came from (a file path or "synthetic"), for
	// error messages and the HDF5 record.
	Source string
	// ColsFrom, when set, says what set the number of features, as a LIBSVM
	// reader reports it ("feature index 123 on libsvm a1a line 17"), for
	// messages about the dimension d. Shards and gathers keep it.
	ColsFrom string
}

// Rows is the number of samples.
func (d *Dataset) Rows() int { return len(d.Labels) }

// Cols is the number of features d.
func (d *Dataset) Cols() int {
	if d.Sparse != nil {
		return d.Sparse.Cols
	}
	return d.Dense.Cols
}
