package runfile

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/efmpi/efmpi/hdf5io"
)

// TrajectoryColumns names the /trajectory columns of a run in file order
// (the recorder's columns first, then any others the file holds).
func TrajectoryColumns(run *hdf5io.Run) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range hdf5io.Columns {
		_, isInt := run.Ints[c]
		_, isFloat := run.Floats[c]
		if isInt || isFloat {
			out = append(out, c)
			seen[c] = true
		}
	}
	var extra []string
	for c := range run.Ints {
		if !seen[c] {
			extra = append(extra, c)
		}
	}
	for c := range run.Floats {
		if !seen[c] {
			extra = append(extra, c)
		}
	}
	sort.Strings(extra)
	return append(out, extra...)
}

// WriteTrajectoryCSV writes a run's trajectory as CSV: a header of column
// names, then one line per recorded row. Integers are written as integers
// and floats with the fewest digits that read back to the same float64
// (NaN as "NaN", so R's read.csv and spreadsheets read the table).
func WriteTrajectoryCSV(w io.Writer, run *hdf5io.Run) error {
	cols := TrajectoryColumns(run)
	cw := csv.NewWriter(w)
	if err := cw.Write(cols); err != nil {
		return err
	}
	row := make([]string, len(cols))
	for i := range run.Rows() {
		for j, c := range cols {
			if v, ok := run.Ints[c]; ok {
				row[j] = strconv.FormatInt(v[i], 10)
			} else {
				row[j] = strconv.FormatFloat(run.Floats[c][i], 'g', -1, 64)
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteColumnsCSV writes the meaning of the trajectory columns of a run:
// name, units, description (one line per column of WriteTrajectoryCSV).
func WriteColumnsCSV(w io.Writer, run *hdf5io.Run) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"column", "units", "description"}); err != nil {
		return err
	}
	for _, c := range TrajectoryColumns(run) {
		info, _ := hdf5io.Describe("trajectory/" + c)
		if err := cw.Write([]string{c, info.Units, info.Description}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteAttrsCSV writes a run's root attributes as name,value lines, sorted
// by name, with the run's label first.
func WriteAttrsCSV(w io.Writer, run *hdf5io.Run) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"attribute", "value"}); err != nil {
		return err
	}
	if err := cw.Write([]string{"label", Label(run.Attrs)}); err != nil {
		return err
	}
	names := make([]string, 0, len(run.Attrs))
	for k := range run.Attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := cw.Write([]string{k, AttrText(run.Attrs[k])}); err != nil {
			return fmt.Errorf("attribute %s: %w", k, err)
		}
	}
	cw.Flush()
	return cw.Error()
}
