package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/driver"
	"github.com/efmpi/efmpi/hdf5io"
)

const dataUsage = `usage:
  efmpi data convert FILE -o FILE.h5 [-features N] [-chunk N] [-overwrite]
        LIBSVM → efmpi's HDF5 CSR format (streaming: memory O(one chunk))
  efmpi data info [-json] FILE.h5...
        shape, nonzeros, labels and provenance of converted files
  efmpi data synth -samples M -features D [-nnz Z] [-exponent S] [-noise P] [-seed N] -o FILE.h5|FILE.svm
        write the synthetic-sparse dataset of [data] source = "synthetic-sparse" to a file
`

// cmdData is `efmpi data`: conversion of LIBSVM files to the HDF5 sparse
// input format, and summaries of such files.
func cmdData(args []string, stdout, stderr io.Writer) (int, error) {
	if len(args) == 0 {
		fmt.Fprint(stderr, dataUsage)
		return ExitBadInput, usageError{"want a subcommand: convert, info or synth"}
	}
	switch args[0] {
	case "convert":
		return cmdDataConvert(args[1:], stdout, stderr)
	case "info":
		return cmdDataInfo(args[1:], stdout, stderr)
	case "synth":
		return cmdDataSynth(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, dataUsage)
		return ExitOK, nil
	}
	fmt.Fprint(stderr, dataUsage)
	return ExitBadInput, usageError{fmt.Sprintf("unknown subcommand %q (want convert, info or synth)", args[0])}
}

// badData marks an input file that is not valid (exit 2).
func badData(err error) error { return fmt.Errorf("%w: %w", driver.ErrInvalid, err) }

func cmdDataConvert(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("data convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output `FILE.h5`")
	features := fs.Int("features", 0, "fix the dimension d (0: the largest index in the file)")
	chunk := fs.Int("chunk", 1<<20, "entries buffered before each write (memory is O(chunk))")
	overwrite := fs.Bool("overwrite", false, "replace an existing output file")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, nil
		}
		return ExitBadInput, err
	}
	switch {
	case len(files) != 1:
		return ExitBadInput, usageError{"convert: want one LIBSVM file (efmpi data convert FILE -o FILE.h5)"}
	case *out == "":
		return ExitBadInput, usageError{"convert: -o FILE.h5 is required"}
	case *features < 0:
		return ExitBadInput, usageError{fmt.Sprintf("convert: -features %d must be ≥ 0", *features)}
	case *chunk < 1:
		return ExitBadInput, usageError{fmt.Sprintf("convert: -chunk %d must be ≥ 1", *chunk)}
	}
	start := time.Now()
	info, sum, err := convertLIBSVM(files[0], *out, *features, *chunk, *overwrite)
	if err != nil {
		return exitCode(err), err
	}
	fmt.Fprintf(stdout, "%s → %s: %d × %d, %d nonzeros, labels %v → −1, %v → +1, sha256 %s…, %.2f s\n",
		files[0], *out, info.Rows, info.Cols, info.NNZ, info.Negative, info.Positive, sum[:12], time.Since(start).Seconds())
	return ExitOK, nil
}

// convertLIBSVM streams the LIBSVM file src into a new HDF5 CSR file dst and
// returns the file's summary and the hex SHA-256 of src.
func convertLIBSVM(src, dst string, features, chunk int, overwrite bool) (datasets.StreamInfo, string, error) {
	in, err := os.Open(src)
	if err != nil {
		return datasets.StreamInfo{}, "", badData(fmt.Errorf("libsvm: %w", err))
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return datasets.StreamInfo{}, "", fmt.Errorf("%w: %v", errOutput, err)
	}
	w, err := hdf5io.CreateCSR(dst, overwrite)
	if err != nil {
		return datasets.StreamInfo{}, "", err
	}
	h := sha256.New()
	info, err := datasets.StreamLIBSVM(io.TeeReader(in, h), src, datasets.ReadOptions{Features: features}, chunk,
		func(b *datasets.Block) error { return w.Append(b.RowPtr, b.ColIdx, b.Val, b.RawLabels) })
	if err != nil {
		w.Abort()
		return info, "", err
	}
	neg := info.Negative
	if err := w.MapLabels(func(y float64) float64 {
		if y == neg {
			return -1
		}
		return 1
	}); err != nil {
		w.Abort()
		return info, "", err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	abs, _ := filepath.Abs(src)
	attrs := []hdf5io.Attr{
		{Name: "source", Value: filepath.Base(src)},
		{Name: "source_path", Value: abs},
		{Name: "source_sha256", Value: sum},
		{Name: "source_format", Value: "libsvm"},
		{Name: "label_negative", Value: info.Negative},
		{Name: "label_positive", Value: info.Positive},
		{Name: "label_rule", Value: fmt.Sprintf("%v -> -1 (the smaller label), %v -> +1 (the larger)", info.Negative, info.Positive)},
		{Name: "features_rule", Value: featuresRule(features)},
		{Name: "created_by", Value: "efmpi " + Version + " data convert"},
		{Name: "created_at", Value: time.Now().UTC().Format(time.RFC3339)},
	}
	if err := w.Close(info.Cols, attrs); err != nil {
		os.Remove(dst)
		return info, "", err
	}
	return info, sum, nil
}

func featuresRule(features int) string {
	if features > 0 {
		return fmt.Sprintf("fixed: %d", features)
	}
	return "largest index in the file"
}

// dataInfo is what `efmpi data info` reports about one file.
type dataInfo struct {
	File       string            `json:"file"`
	Rows       int               `json:"rows"`
	Cols       int               `json:"cols"`
	NNZ        int64             `json:"nnz"`
	Density    float64           `json:"density"`
	RowNNZMin  int64             `json:"row_nnz_min"`
	RowNNZMax  int64             `json:"row_nnz_max"`
	RowNNZMean float64           `json:"row_nnz_mean"`
	Negative   int               `json:"labels_negative"`
	Positive   int               `json:"labels_positive"`
	CSRBytes   int64             `json:"csr_bytes"`
	Stored     hdf5io.ArrayTypes `json:"stored_types"`
	Attrs      map[string]any    `json:"attrs"`
}

func cmdDataInfo(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("data info", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "one JSON object per file")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, nil
		}
		return ExitBadInput, err
	}
	if len(files) == 0 {
		return ExitBadInput, usageError{"info: want at least one FILE.h5"}
	}
	enc := json.NewEncoder(stdout)
	for _, path := range files {
		di, err := readDataInfo(path)
		if err != nil {
			return ExitBadInput, badData(err)
		}
		if *asJSON {
			if err := enc.Encode(di); err != nil {
				return ExitOther, err
			}
			continue
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "file\t%s\n", di.File)
		fmt.Fprintf(tw, "shape\t%d × %d\n", di.Rows, di.Cols)
		fmt.Fprintf(tw, "nonzeros\t%d (density %.3g; per row min %d, mean %.2f, max %d)\n", di.NNZ, di.Density, di.RowNNZMin, di.RowNNZMean, di.RowNNZMax)
		fmt.Fprintf(tw, "labels\t%d × −1, %d × +1\n", di.Negative, di.Positive)
		fmt.Fprintf(tw, "CSR bytes\t%d in memory (data 8, indices 4, indptr 8 per element)\n", di.CSRBytes)
		fmt.Fprintf(tw, "stored as\tdata %s, indices %s, indptr %s, labels %s\n", di.Stored.Data, di.Stored.Indices, di.Stored.Indptr, di.Stored.Labels)
		keys := make([]string, 0, len(di.Attrs))
		for k := range di.Attrs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%v\n", k, di.Attrs[k])
		}
		if err := tw.Flush(); err != nil {
			return ExitOther, err
		}
	}
	return ExitOK, nil
}

// readDataInfo checks a whole file (every row) and summarises it.
func readDataInfo(path string) (*dataInfo, error) {
	f, err := hdf5io.OpenCSR(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	labels, err := f.Labels()
	if err != nil {
		return nil, err
	}
	di := &dataInfo{File: path, Rows: f.M, Cols: f.D, NNZ: f.NNZ, Attrs: f.Attrs, Stored: f.Types,
		Density: float64(f.NNZ) / float64(f.M) / float64(f.D), RowNNZMin: -1}
	for _, y := range labels {
		if y < 0 {
			di.Negative++
		} else {
			di.Positive++
		}
	}
	// Read (and so check) every row, a block at a time.
	const block = 1 << 16
	for lo := 0; lo < f.M; lo += block {
		hi := min(lo+block, f.M)
		rr, err := f.ReadRange(lo, hi)
		if err != nil {
			return nil, err
		}
		for r := range hi - lo {
			n := int64(rr.RowPtr[r+1] - rr.RowPtr[r])
			if di.RowNNZMin < 0 || n < di.RowNNZMin {
				di.RowNNZMin = n
			}
			di.RowNNZMax = max(di.RowNNZMax, n)
		}
	}
	di.RowNNZMean = float64(f.NNZ) / float64(f.M)
	di.CSRBytes = 12*f.NNZ + 8*int64(f.M+1)
	if strings.TrimSpace(fmt.Sprint(di.Attrs["efmpi_format"])) == "" {
		di.Attrs["efmpi_format"] = "(none: not written by efmpi)"
	}
	return di, nil
}

func cmdDataSynth(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("data synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output `FILE`: .h5/.hdf5 for the HDF5 CSR format, anything else LIBSVM text")
	g := datasets.SparseSynthetic{}
	fs.IntVar(&g.M, "samples", 1000, "m")
	fs.IntVar(&g.D, "features", 10000, "d")
	fs.IntVar(&g.NNZ, "nnz", 20, "nonzeros per row")
	fs.Float64Var(&g.Exponent, "exponent", 1, "column popularity ∝ (c+1)^−exponent")
	fs.Float64Var(&g.Noise, "noise", 0.05, "probability of flipping a planted label")
	seed := fs.Uint64("seed", 1, "the seed ([run] seed of a run using source = \"synthetic-sparse\")")
	overwrite := fs.Bool("overwrite", false, "replace an existing output file")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, nil
		}
		return ExitBadInput, err
	}
	g.Seed = *seed
	switch {
	case len(files) > 0:
		return ExitBadInput, usageError{fmt.Sprintf("synth: unexpected argument %q", files[0])}
	case *out == "":
		return ExitBadInput, usageError{"synth: -o FILE is required"}
	}
	if err := g.Check(); err != nil {
		return ExitBadInput, badData(err)
	}
	start := time.Now()
	if err := writeSynth(g, *out, *overwrite); err != nil {
		return exitCode(err), err
	}
	fmt.Fprintf(stdout, "%s: synthetic-sparse %d × %d, %d nonzeros per row, seed %d, %.2f s\n",
		*out, g.M, g.D, g.NNZ, g.Seed, time.Since(start).Seconds())
	return ExitOK, nil
}

// writeSynth streams g's rows into path, a block of rows at a time.
func writeSynth(g datasets.SparseSynthetic, path string, overwrite bool) error {
	if _, err := os.Stat(path); err == nil && !overwrite {
		return fmt.Errorf("%s: %w", path, hdf5io.ErrExists)
	}
	const block = 1 << 16
	rows := make([]int, 0, block)
	each := func(f func(*datasets.Dataset) error) error {
		for lo := 0; lo < g.M; lo += block {
			rows = rows[:0]
			for j := lo; j < min(lo+block, g.M); j++ {
				rows = append(rows, j)
			}
			ds, err := g.Rows(rows)
			if err != nil {
				return err
			}
			if err := f(ds); err != nil {
				return err
			}
		}
		return nil
	}
	if ext := filepath.Ext(path); ext == ".h5" || ext == ".hdf5" {
		w, err := hdf5io.CreateCSR(path, overwrite)
		if err != nil {
			return err
		}
		err = each(func(ds *datasets.Dataset) error {
			return w.Append(ds.Sparse.RowPtr, ds.Sparse.ColIdx, ds.Sparse.Val, ds.Labels)
		})
		if err != nil {
			w.Abort()
			return err
		}
		return w.Close(g.D, []hdf5io.Attr{
			{Name: "source", Value: datasets.SparseSyntheticSource},
			{Name: "synthetic", Value: fmt.Sprintf("m=%d d=%d nnz_per_row=%d exponent=%v label_noise=%v seed=%d", g.M, g.D, g.NNZ, g.Exponent, g.Noise, g.Seed)},
			{Name: "created_by", Value: "efmpi " + Version + " data synth"},
		})
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("%w: %v", errOutput, err)
	}
	err = each(func(ds *datasets.Dataset) error { return datasets.WriteLIBSVM(f, ds) })
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}
