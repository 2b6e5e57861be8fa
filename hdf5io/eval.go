package hdf5io

import (
	"fmt"

	"gonum.org/v1/hdf5"
)

// EvalRow is one evaluation of the iterate on the training and the test set
// (group /eval, one row every eval_every iterations).
type EvalRow struct {
	Iteration     int64
	TrainLoss     float64 // data loss on the training set, without the regulariser
	TrainAccuracy float64 // fraction of training samples classified correctly
	TestLoss      float64 // the same on the held-out test set (NaN without one)
	TestAccuracy  float64
}

// EvalColumns names the /eval datasets in EvalRow order.
var EvalColumns = []string{"iteration", "train_loss", "train_accuracy", "test_loss", "test_accuracy"}

// PrepareEval creates the empty /eval datasets. Call it before the first
// trajectory row: once rows are flushed the file is in SWMR mode, which
// allows datasets to grow but not to be created (AppendEval would then
// have to leave SWMR writing for good).
func (r *Recorder) PrepareEval() error {
	lib.Lock()
	defer lib.Unlock()
	return r.prepareEvalLocked()
}

func (r *Recorder) prepareEvalLocked() error {
	if r.file.LinkExists("eval") && r.file.LinkExists("eval/iteration") {
		return nil
	}
	if err := r.endSWMR(); err != nil {
		return err
	}
	if err := r.ensureGroup("eval"); err != nil {
		return err
	}
	if err := r.createEval(); err != nil {
		return fmt.Errorf("hdf5 %s: /eval: %w", r.path, err)
	}
	return nil
}

// AppendEval appends one row to /eval (created if PrepareEval was not
// called) and flushes: evaluations are few, so each is on disk at once.
func (r *Recorder) AppendEval(row EvalRow) error {
	lib.Lock()
	defer lib.Unlock()
	if err := r.prepareEvalLocked(); err != nil {
		return err
	}
	vals := []float64{0, row.TrainLoss, row.TrainAccuracy, row.TestLoss, row.TestAccuracy}
	for i, name := range EvalColumns {
		ds, err := r.file.OpenDataset("eval/" + name)
		if err != nil {
			return fmt.Errorf("hdf5 %s: /eval/%s: %w", r.path, name, err)
		}
		n, err := length(ds)
		if err == nil {
			if i == 0 {
				it := []int64{row.Iteration}
				err = appendRows(ds, n, 1, &it)
			} else {
				v := []float64{vals[i]}
				err = appendRows(ds, n, 1, &v)
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
	dcpl, err := hdf5.NewPropList(hdf5.P_DATASET_CREATE)
	if err != nil {
		return err
	}
	defer dcpl.Close()
	if err := dcpl.SetChunk([]uint{256}); err != nil {
		return err
	}
	space, err := hdf5.CreateSimpleDataspace([]uint{0}, []uint{unlimited})
	if err != nil {
		return err
	}
	defer space.Close()
	for i, name := range EvalColumns {
		dtype := hdf5.T_NATIVE_DOUBLE
		if i == 0 {
			dtype = hdf5.T_NATIVE_INT64
		}
		ds, err := r.file.CreateDatasetWith("eval/"+name, dtype, space, dcpl)
		if err != nil {
			return err
		}
		err = describeDataset(ds, "eval/"+name)
		ds.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// readEval reads /eval into ints (iteration) and floats (the others).
func readEval(f *hdf5.File, run *Run) error {
	it, err := readInts(f, "eval/iteration")
	if err != nil {
		return err
	}
	run.EvalIteration = it
	run.Eval = map[string][]float64{}
	for _, name := range EvalColumns[1:] {
		v, err := readFloats(f, "eval/"+name)
		if err != nil {
			return fmt.Errorf("/eval/%s: %w", name, err)
		}
		run.Eval[name] = v
	}
	return nil
}

// cutEval drops the /eval rows after iteration keepThrough (see Resume).
func cutEval(f *hdf5.File, keepThrough int64) error {
	if !f.LinkExists("eval") || !f.LinkExists("eval/iteration") {
		return nil
	}
	iters, err := readInts(f, "eval/iteration")
	if err != nil {
		return fmt.Errorf("/eval/iteration: %w", err)
	}
	keep := 0
	for keep < len(iters) && iters[keep] <= keepThrough {
		keep++
	}
	for _, name := range EvalColumns {
		ds, err := f.OpenDataset("eval/" + name)
		if err != nil {
			return fmt.Errorf("/eval/%s: %w", name, err)
		}
		err = setExtent(ds, uint(keep))
		ds.Close()
		if err != nil {
			return fmt.Errorf("/eval/%s: %w", name, err)
		}
	}
	return nil
}
