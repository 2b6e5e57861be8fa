package datasets

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrFormat marks a file whose contents are not what its format requires
// (the driver reports it as bad input).
var ErrFormat = errors.New("bad file format")

// IDX is the content of an IDX file (LeCun's format for MNIST): unsigned
// bytes of the given dimensions, row-major.
type IDX struct {
	Dims []int
	Data []uint8
}

// ReadIDX reads an IDX file of unsigned bytes (type 0x08), plain or gzip
// compressed (recognised by its magic bytes, whatever the name).
func ReadIDX(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("idx: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	var r io.Reader = br
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("idx %s: gzip: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	return parseIDX(r, path)
}

func parseIDX(r io.Reader, name string) (*IDX, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("idx %s: %w: %s", name, ErrFormat, fmt.Sprintf(format, args...))
	}
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, bad("header: %v", err)
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, bad("magic % x: not an IDX file", head[:])
	}
	if head[2] != 0x08 {
		return nil, bad("element type 0x%02x: only unsigned bytes (0x08) are supported", head[2])
	}
	nd := int(head[3])
	if nd < 1 || nd > 4 {
		return nil, bad("%d dimensions (want 1 to 4)", nd)
	}
	dims := make([]int, nd)
	total := 1
	for i := range dims {
		var v uint32
		if err := binary.Read(r, binary.BigEndian, &v); err != nil {
			return nil, bad("dimension %d: %v", i, err)
		}
		if v == 0 || v > 1<<24 {
			return nil, bad("dimension %d = %d", i, v)
		}
		dims[i] = int(v)
		total *= dims[i]
		if total > 1<<31 {
			return nil, bad("%v: too large", dims[:i+1])
		}
	}
	data := make([]uint8, total)
	if n, err := io.ReadFull(r, data); err != nil {
		rec := 1
		for _, d := range dims[1:] {
			rec *= d
		}
		return nil, bad("truncated in record %d: %d of %d data bytes (%v)", n/rec, n, total, err)
	}
	var extra [1]byte
	if n, _ := r.Read(extra[:]); n > 0 {
		return nil, bad("trailing data after %d bytes of %v", total, dims)
	}
	return &IDX{Dims: dims, Data: data}, nil
}

// ReadIDXImages reads a pair of IDX files: images (N×H×W) and labels (N),
// with the given number of classes and the normalisation mean and std.
func ReadIDXImages(imagesPath, labelsPath string, classes int, mean, std float64) (*Images, error) {
	img, err := ReadIDX(imagesPath)
	if err != nil {
		return nil, err
	}
	lab, err := ReadIDX(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(img.Dims) != 3 {
		return nil, fmt.Errorf("idx %s: %w: dimensions %v, want images N×H×W", imagesPath, ErrFormat, img.Dims)
	}
	if len(lab.Dims) != 1 || lab.Dims[0] != img.Dims[0] {
		return nil, fmt.Errorf("idx %s: %w: dimensions %v, want %d labels for %s", labelsPath, ErrFormat, lab.Dims, img.Dims[0], imagesPath)
	}
	for i, l := range lab.Data {
		if int(l) >= classes {
			return nil, fmt.Errorf("idx %s record %d: %w: label %d outside [0, %d)", labelsPath, i, ErrFormat, l, classes)
		}
	}
	im := &Images{N: img.Dims[0], C: 1, H: img.Dims[1], W: img.Dims[2], Pixels: img.Data, Labels: lab.Data,
		Classes: classes, Mean: []float64{mean}, Std: []float64{std}, Source: imagesPath}
	return im, im.check()
}

// MNIST normalisation (the usual constants of the training set).
const (
	MNISTMean = 0.1307
	MNISTStd  = 0.3081
)

// findFile returns dir/name or dir/name.gz, whichever exists.
func findFile(dir, name string) (string, error) {
	for _, n := range []string{name, name + ".gz"} {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("idx: %s/%s(.gz): %w", dir, name, os.ErrNotExist)
}

// ReadMNIST reads the MNIST (or Fashion-MNIST: same file names and format)
// training and test sets from dir: train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte,
// each plain or with .gz.
func ReadMNIST(dir string) (train, test *Images, err error) {
	var paths [4]string
	for i, n := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		if paths[i], err = findFile(dir, n); err != nil {
			return nil, nil, err
		}
	}
	if train, err = ReadIDXImages(paths[0], paths[1], 10, MNISTMean, MNISTStd); err != nil {
		return nil, nil, err
	}
	if test, err = ReadIDXImages(paths[2], paths[3], 10, MNISTMean, MNISTStd); err != nil {
		return nil, nil, err
	}
	if test.H != train.H || test.W != train.W {
		return nil, nil, fmt.Errorf("idx %s: %w: images of %d×%d, the training set has %d×%d", paths[2], ErrFormat, test.H, test.W, train.H, train.W)
	}
	return train, test, nil
}

// EncodeIDX writes bytes of the given dimensions in IDX format (for tests
// and tools).
func EncodeIDX(dims []int, data []uint8) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 0x08, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}
