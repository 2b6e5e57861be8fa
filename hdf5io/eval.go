package hdf5io

import (
	"fmt"

	"gonum.org/v1/hdf5"
)

// EvalRow is one row of the group /eval that network runs write next to
// /trajectory at every recorded iteration: the training loss and ‖∇f‖² (as
// in the trajectory), the test loss and accuracy (rank 0's test set), the
// cumulative bits per worker, and the wall time of the test pass.
type EvalRow struct {
	Iteration     int64
	BitsPerWorker int64
	TrainLoss     float64
	GradNormSq    float64
	TestLoss      float64
	TestAccuracy  float64
	TimeS         float64 // wall seconds since start
	EvalS         float64 // seconds the test pass took
}

// EvalColumns names the /eval datasets in EvalRow order.
var EvalColumns = []string{"iteration", "bits_per_worker", "train_loss", "grad_norm_sq", "test_loss", "test_accuracy", "time_s", "eval_s"}

// AppendEval appends one row to /eval (created with the first row) and
// flushes: rows are few, each costs a pass over the test set.
func (r *Recorder) AppendEval(row EvalRow) error {
	lib.Lock()
	defer lib.Unlock()
	ints := []int64{row.Iteration, row.BitsPerWorker}
	floats := []float64{row.TrainLoss, row.GradNormSq, row.TestLoss, row.TestAccuracy, row.TimeS, row.EvalS}
	if !r.file.LinkExists("eval") {
		if err := r.createEval(); err != nil {
			return fmt.Errorf("hdf5 %s: /eval: %w", r.path, err)
		}
	}
	for i, name := range EvalColumns {
		ds, err := r.file.OpenDataset("eval/" + name)
		if err != nil {
			return fmt.Errorf("hdf5 %s: /eval/%s: %w", r.path, name, err)
		}
		sp := ds.Space()
		dims, _, err := sp.SimpleExtentDims()
		sp.Close()
		if err == nil {
			if i < 2 {
				v := ints[i : i+1]
				err = appendRows(ds, int(dims[0]), 1, &v)
			} else {
				v := floats[i-2 : i-1]
				err = appendRows(ds, int(dims[0]), 1, &v)
			}
		}
		ds.Close()
		if err != nil {
			return fmt.Errorf("hdf5 %s: /eval/%s: %w", r.path, name, err)
		}
	}
	return flushFile(r.file)
}

func (r *Recorder) createEval() error {
	g, err := r.file.CreateGroup("eval")
	if err != nil {
		return err
	}
	defer g.Close()
	dcpl, err := hdf5.NewPropList(hdf5.P_DATASET_CREATE)
	if err != nil {
		return err
	}
	defer dcpl.Close()
	if err := dcpl.SetChunk([]uint{64}); err != nil {
		return err
	}
	space, err := hdf5.CreateSimpleDataspace([]uint{0}, []uint{unlimited})
	if err != nil {
		return err
	}
	defer space.Close()
	for i, name := range EvalColumns {
		dtype := hdf5.T_NATIVE_DOUBLE
		if i < 2 {
			dtype = hdf5.T_NATIVE_INT64
		}
		ds, err := g.CreateDatasetWith(name, dtype, space, dcpl)
		if err != nil {
			return err
		}
		ds.Close()
	}
	return nil
}

// ReadEval reads /eval of a run file (nil, nil when the run has none).
func ReadEval(path string) ([]EvalRow, error) {
	lib.Lock()
	defer lib.Unlock()
	f, err := hdf5.OpenFile(path, hdf5.F_ACC_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("hdf5 %s: %w", path, err)
	}
	defer f.Close()
	if !f.LinkExists("eval") {
		return nil, nil
	}
	cols := make([]any, len(EvalColumns))
	n := -1
	for i, name := range EvalColumns {
		ds, err := f.OpenDataset("eval/" + name)
		if err != nil {
			return nil, fmt.Errorf("hdf5 %s: /eval/%s: %w", path, name, err)
		}
		sp := ds.Space()
		dims, _, err := sp.SimpleExtentDims()
		sp.Close()
		if err != nil || (n >= 0 && int(dims[0]) != n) {
			ds.Close()
			return nil, fmt.Errorf("hdf5 %s: /eval/%s: inconsistent length", path, name)
		}
		n = int(dims[0])
		if i < 2 {
			v := make([]int64, n)
			if n > 0 {
				err = ds.Read(&v)
			}
			cols[i] = v
		} else {
			v := make([]float64, n)
			if n > 0 {
				err = ds.Read(&v)
			}
			cols[i] = v
		}
		ds.Close()
		if err != nil {
			return nil, fmt.Errorf("hdf5 %s: /eval/%s: %w", path, name, err)
		}
	}
	rows := make([]EvalRow, n)
	for k := range rows {
		fl := func(i int) float64 { return cols[i].([]float64)[k] }
		rows[k] = EvalRow{Iteration: cols[0].([]int64)[k], BitsPerWorker: cols[1].([]int64)[k],
			TrainLoss: fl(2), GradNormSq: fl(3), TestLoss: fl(4), TestAccuracy: fl(5), TimeS: fl(6), EvalS: fl(7)}
	}
	return rows, nil
}
