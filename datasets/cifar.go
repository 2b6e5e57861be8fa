package datasets

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// CIFAR-10 binary format: each record is 1 label byte then 3072 pixel bytes
// (1024 red, 1024 green, 1024 blue, rows of 32), 10 000 records a file.
const (
	cifarRecord = 1 + 3*32*32
	// CIFARClasses is the number of CIFAR-10 classes.
	CIFARClasses = 10
)

// CIFAR-10 normalisation constants (per-channel mean and standard deviation
// of the training set).
var (
	CIFARMean = []float64{0.4914, 0.4822, 0.4465}
	CIFARStd  = []float64{0.2470, 0.2435, 0.2616}
)

// ReadCIFAR10Files reads CIFAR-10 binary files one after the other.
func ReadCIFAR10Files(paths ...string) (*Images, error) {
	im := &Images{C: 3, H: 32, W: 32, Classes: CIFARClasses, Mean: CIFARMean, Std: CIFARStd}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("cifar: %w", err)
		}
		if err := im.appendCIFARBinary(p, data); err != nil {
			return nil, err
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("cifar: %w: no files", ErrFormat)
	}
	im.Source = paths[0]
	return im, im.check()
}

// appendCIFARBinary appends the records of one CIFAR-10 binary file (named
// name in errors).
func (im *Images) appendCIFARBinary(name string, data []byte) error {
	if len(data) == 0 || len(data)%cifarRecord != 0 {
		return fmt.Errorf("cifar %s record %d: %w: %d bytes is not a whole number of %d-byte records", name, len(data)/cifarRecord, ErrFormat, len(data), cifarRecord)
	}
	for r := 0; r < len(data)/cifarRecord; r++ {
		rec := data[r*cifarRecord : (r+1)*cifarRecord]
		if rec[0] >= CIFARClasses {
			return fmt.Errorf("cifar %s record %d: %w: label %d outside [0, %d)", name, r, ErrFormat, rec[0], CIFARClasses)
		}
		im.Labels = append(im.Labels, rec[0])
		im.Pixels = append(im.Pixels, rec[1:]...)
	}
	im.N += len(data) / cifarRecord
	return nil
}

// ReadCIFAR10 reads the CIFAR-10 binary distribution in dir (the folder
// cifar-10-batches-bin of cifar-10-binary.tar.gz): data_batch_1.bin …
// data_batch_5.bin for training and test_batch.bin.
func ReadCIFAR10(dir string) (train, test *Images, err error) {
	var tr []string
	for i := 1; i <= 5; i++ {
		tr = append(tr, filepath.Join(dir, fmt.Sprintf("data_batch_%d.bin", i)))
	}
	if train, err = ReadCIFAR10Files(tr...); err != nil {
		return nil, nil, err
	}
	if test, err = ReadCIFAR10Files(filepath.Join(dir, "test_batch.bin")); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// EncodeCIFAR10 writes labels and images (3072 bytes each) as one CIFAR-10
// binary file's bytes (for tests and tools).
func EncodeCIFAR10(w io.Writer, labels []uint8, pixels []uint8) error {
	for i, l := range labels {
		if _, err := w.Write([]byte{l}); err != nil {
			return err
		}
		if _, err := w.Write(pixels[i*3072 : (i+1)*3072]); err != nil {
			return err
		}
	}
	return nil
}
