package datasets

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Image folder formats ReadImageFolder recognises.
const (
	FormatCIFARBinary = "cifar10-bin"    // cifar-10-batches-bin: data_batch_1.bin …
	FormatCIFARPython = "cifar10-python" // cifar-10-batches-py: pickled data_batch_1 …
	FormatIDX         = "idx"            // MNIST, Fashion-MNIST: train-images-idx3-ubyte(.gz) …
)

// imageFolder is one format of a training and a test set in a folder: the
// file whose presence identifies it, the [nn] data name it serves, and its
// reader. A new format is one more entry of imageFormats.
type imageFolder struct {
	format, data, marker string
	read                 func(files) (train, test *Images, err error)
}

var imageFormats = []imageFolder{
	{FormatCIFARBinary, "cifar10", "data_batch_1.bin", readCIFARFiles(".bin", (*Images).appendCIFARBinary)},
	{FormatCIFARPython, "cifar10", "data_batch_1", readCIFARFiles("", (*Images).appendCIFARPython)},
	{FormatIDX, "mnist", "train-images-idx3-ubyte", func(f files) (*Images, *Images, error) { return ReadMNIST(f.dir) }},
}

// files is a folder on disk, or the members of a .tar.gz read into memory
// (by base name).
type files struct {
	dir     string
	members map[string][]byte
}

func (f files) name(n string) string {
	if f.members != nil {
		return f.dir + ":" + n
	}
	return filepath.Join(f.dir, n)
}

func (f files) exists(n string) bool {
	if f.members != nil {
		_, ok := f.members[n]
		return ok
	}
	_, err := os.Stat(filepath.Join(f.dir, n))
	if err != nil {
		_, err = os.Stat(filepath.Join(f.dir, n+".gz"))
	}
	return err == nil
}

func (f files) read(n string) ([]byte, error) {
	if f.members != nil {
		if b, ok := f.members[n]; ok {
			return b, nil
		}
		return nil, fmt.Errorf("%s: %w", f.name(n), os.ErrNotExist)
	}
	return os.ReadFile(filepath.Join(f.dir, n))
}

// readCIFARFiles reads data_batch_1…5 and test_batch (with the suffix) with
// one file's decoder.
func readCIFARFiles(suffix string, add func(*Images, string, []byte) error) func(files) (*Images, *Images, error) {
	return func(f files) (train, test *Images, err error) {
		set := func(names ...string) (*Images, error) {
			im := &Images{C: 3, H: 32, W: 32, Classes: CIFARClasses, Mean: CIFARMean, Std: CIFARStd, Source: f.name(names[0])}
			for _, n := range names {
				b, err := f.read(n)
				if err != nil {
					return nil, fmt.Errorf("cifar: %w", err)
				}
				if err := add(im, f.name(n), b); err != nil {
					return nil, err
				}
			}
			return im, im.check()
		}
		var names []string
		for i := 1; i <= 5; i++ {
			names = append(names, fmt.Sprintf("data_batch_%d%s", i, suffix))
		}
		if train, err = set(names...); err != nil {
			return nil, nil, err
		}
		if test, err = set("test_batch" + suffix); err != nil {
			return nil, nil, err
		}
		return train, test, nil
	}
}

// ReadImageFolder reads the training and test images of a folder in any
// format it recognises (CIFAR-10 binary, CIFAR-10 python, IDX), or of a
// downloaded CIFAR-10 archive (cifar-10-python.tar.gz or
// cifar-10-binary.tar.gz, read into memory). data ("mnist", "cifar10" or
// "" for any) is the kind of images the caller expects; a folder of another
// kind is an error. It returns the format found.
func ReadImageFolder(p, data string) (train, test *Images, format string, err error) {
	f := files{dir: p}
	if strings.HasSuffix(p, ".tar.gz") || strings.HasSuffix(p, ".tgz") {
		if f.members, err = readTarGz(p); err != nil {
			return nil, nil, "", err
		}
	}
	var found []string
	for _, im := range imageFormats {
		if !f.exists(im.marker) {
			continue
		}
		if data != "" && im.data != data {
			found = append(found, im.format)
			continue
		}
		train, test, err = im.read(f)
		return train, test, im.format, err
	}
	if len(found) > 0 {
		return nil, nil, "", fmt.Errorf("images %s: %w: it holds %s, not %s images", p, ErrFormat, strings.Join(found, ", "), data)
	}
	var want []string
	for _, im := range imageFormats {
		if data == "" || im.data == data {
			want = append(want, im.marker+" ("+im.format+")")
		}
	}
	return nil, nil, "", fmt.Errorf("images %s: no %s: %w", p, strings.Join(want, " or "), os.ErrNotExist)
}

// readTarGz reads the regular files of a gzip-compressed tar archive, keyed
// by base name.
func readTarGz(p string) (map[string][]byte, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	defer fh.Close()
	gz, err := gzip.NewReader(fh)
	if err != nil {
		return nil, fmt.Errorf("images %s: %w: gzip: %v", p, ErrFormat, err)
	}
	tr := tar.NewReader(gz)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("images %s: %w: tar: %v", p, ErrFormat, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if h.Size > 1<<30 {
			return nil, fmt.Errorf("images %s: %w: member %s of %d bytes", p, ErrFormat, h.Name, h.Size)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("images %s member %s: %w: %v", p, h.Name, ErrFormat, err)
		}
		out[path.Base(h.Name)] = b
	}
}
