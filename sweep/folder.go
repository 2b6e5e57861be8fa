package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/efmpi/efmpi/runfile"
)

// Mode says what a sweep does with an output folder that already holds
// files.
type Mode int

const (
	// Fresh refuses a folder that is not empty.
	Fresh Mode = iota
	// Overwrite deletes the files a sweep writes (point-*.h5 and their
	// checkpoints, sweep.csv, sweep.json, grid.txt) and starts again;
	// other files are left alone.
	Overwrite
	// Resume keeps the folder's finished runs and runs only the other
	// points; the folder must hold the same sweep (its sweep.json).
	Resume
)

// ErrNotEmpty is returned by PrepareDir when a fresh sweep is given a
// folder that holds files.
var ErrNotEmpty = errors.New("output folder is not empty")

// ManifestName is the file in a sweep's folder that records what the sweep is.
const ManifestName = "sweep.json"

// Manifest describes a sweep: its base config, the overrides common to
// every point, and every point's own overrides. A resumed sweep must match
// the manifest in its folder.
type Manifest struct {
	Config string   `json:"config"`
	Sets   []string `json:"sets"`
	// Points are the points' overrides (Point.String), in index order.
	Points []string `json:"points"`
	// KSearch is the -choose-k specification ("" without).
	KSearch string `json:"choose_k,omitempty"`
}

// sweepFile reports whether a file name is one a sweep writes.
func sweepFile(name string) bool {
	if name == ManifestName || name == "sweep.csv" || name == GridFileName {
		return true
	}
	return strings.HasPrefix(name, "point-") &&
		(strings.HasSuffix(name, ".h5") || strings.HasSuffix(name, ".h5.ckpt") || strings.HasSuffix(name, ".h5.reserve"))
}

// PrepareDir makes dir ready for the sweep m: it creates it, or applies
// mode to a folder that holds files, and writes the manifest.
func PrepareDir(dir string, mode Mode, m Manifest) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if len(names) > 0 {
		switch mode {
		case Fresh:
			shown := names
			if len(shown) > 3 {
				shown = append(shown[:3:3], "…")
			}
			return fmt.Errorf("%w: %s holds %d files (%s): pass -overwrite to replace the sweep's files, or -resume to run only the points not yet finished",
				ErrNotEmpty, dir, len(names), strings.Join(shown, ", "))
		case Overwrite:
			for _, n := range names {
				if sweepFile(n) {
					if err := os.RemoveAll(filepath.Join(dir, n)); err != nil {
						return err
					}
				}
			}
		case Resume:
			old, err := ReadManifest(dir)
			if err != nil {
				return fmt.Errorf("-resume: %w", err)
			}
			if err := sameSweep(old, m); err != nil {
				return fmt.Errorf("-resume: %s holds a different sweep: %v (use -overwrite or another -out)", dir, err)
			}
			return nil
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return WriteManifest(dir, m)
}

func sameSweep(old, m Manifest) error {
	switch {
	case old.Config != m.Config:
		return fmt.Errorf("config %q, now %q", old.Config, m.Config)
	case !slices.Equal(old.Sets, m.Sets):
		return fmt.Errorf("-set %q, now %q", old.Sets, m.Sets)
	case old.KSearch != m.KSearch:
		return fmt.Errorf("-choose-k %q, now %q", old.KSearch, m.KSearch)
	case len(old.Points) != len(m.Points):
		return fmt.Errorf("%d points, now %d", len(old.Points), len(m.Points))
	}
	for i := range m.Points {
		if old.Points[i] != m.Points[i] {
			return fmt.Errorf("point %d was %q, now %q", i, old.Points[i], m.Points[i])
		}
	}
	return nil
}

// WriteManifest writes m to dir/sweep.json.
func WriteManifest(dir string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ManifestName), append(b, '\n'), 0o644)
}

// ReadManifest reads dir/sweep.json.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return m, fmt.Errorf("%s: not a sweep folder: %w", dir, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestName), err)
	}
	return m, nil
}

// GridFileName is the grid file a Slurm sweep writes into its folder: one
// point per line, its overrides separated by spaces; array task i runs line
// i (from 0). slurm/sweep.sbatch reads it.
const GridFileName = "grid.txt"

// WriteGridFile writes the points to dir/grid.txt for a Slurm job array.
// An override holding white space cannot travel in that format and is an
// error.
func WriteGridFile(dir string, points []Point) (string, error) {
	var b strings.Builder
	b.WriteString("# efmpi sweep: one point per line; array task i runs line i (from 0)\n")
	for _, p := range points {
		for _, o := range p.Overrides() {
			if strings.ContainsAny(o, " \t\n") {
				return "", fmt.Errorf("point %d: override %q holds white space, which a Slurm grid file cannot carry", p.Index, o)
			}
		}
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	path := filepath.Join(dir, GridFileName)
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

// PointFileName is the file of point i: point-NNN.h5 (three digits at least),
// for local and Slurm sweeps alike.
func PointFileName(i int) string { return fmt.Sprintf("point-%03d.h5", i) }

// FindPointFile returns the file of point i in dir: point-NNN.h5, or the
// older name point-<i>.h5 (arrays submitted by hand before the names were
// unified) when only that exists; "" when neither does.
func FindPointFile(dir string, i int) string {
	for _, name := range []string{PointFileName(i), fmt.Sprintf("point-%d.h5", i)} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// PointState is what a sweep folder holds for one point.
type PointState struct {
	Index int
	// File is the point's file ("" if none); Status its status attribute,
	// "missing" without a file, "unreadable" when it cannot be read.
	File, Status string
}

// Unfinished lists the points of the sweep in dir (its manifest) whose
// file is missing, unreadable or not finished (runfile.Finished), in index
// order.
func Unfinished(dir string) ([]PointState, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	var out []PointState
	for i := range m.Points {
		st := PointState{Index: i, File: FindPointFile(dir, i), Status: "missing"}
		if st.File != "" {
			sum, err := runfile.SummarizeFile(st.File)
			switch {
			case err != nil:
				st.Status = "unreadable"
			case runfile.Finished(sum.Status):
				continue
			default:
				st.Status = sum.Status
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// ArraySpec writes point indices (increasing) as a Slurm --array list:
// runs of consecutive indices as ranges, "0-8" or "1,3-5".
func ArraySpec(indices []int) string {
	var parts []string
	for i := 0; i < len(indices); {
		j := i
		for j+1 < len(indices) && indices[j+1] == indices[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, fmt.Sprint(indices[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", indices[i], indices[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
