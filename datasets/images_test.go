package datasets

import (
	"bytes"
	"compress/gzip"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/efmpi/efmpi/internal/testenv"
)

func writeFile(t *testing.T, path string, data []byte, gz bool) {
	t.Helper()
	if gz {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write(data)
		w.Close()
		data = b.Bytes()
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeMNIST writes a tiny MNIST-format directory: n images of 2×3 where
// image i has pixels 10i..10i+5, label i mod 10.
func writeMNIST(t *testing.T, dir string, n int, gz bool) {
	t.Helper()
	pix := make([]uint8, n*6)
	lab := make([]uint8, n)
	for i := 0; i < n; i++ {
		for j := 0; j < 6; j++ {
			pix[i*6+j] = uint8(10*i + j)
		}
		lab[i] = uint8(i % 10)
	}
	sfx := ""
	if gz {
		sfx = ".gz"
	}
	for _, pre := range []string{"train", "t10k"} {
		writeFile(t, filepath.Join(dir, pre+"-images-idx3-ubyte"+sfx), EncodeIDX([]int{n, 2, 3}, pix), gz)
		writeFile(t, filepath.Join(dir, pre+"-labels-idx1-ubyte"+sfx), EncodeIDX([]int{n}, lab), gz)
	}
}

func TestReadMNISTPlainAndGzip(t *testing.T) {
	for _, gz := range []bool{false, true} {
		dir := t.TempDir()
		writeMNIST(t, dir, 12, gz)
		train, test, err := ReadMNIST(dir)
		if err != nil {
			t.Fatal(err)
		}
		if train.N != 12 || test.N != 12 || train.H != 2 || train.W != 3 || train.C != 1 {
			t.Fatalf("gzip %v: got %d/%d images of %d×%d×%d", gz, train.N, test.N, train.C, train.H, train.W)
		}
		if train.Pixels[7*6+4] != 74 || train.Labels[11] != 1 {
			t.Fatalf("gzip %v: pixel %d label %d, want 74 and 1", gz, train.Pixels[7*6+4], train.Labels[11])
		}
		dst := make([]float64, 6)
		lab := make([]int32, 1)
		train.Fill(dst, lab, []int32{3})
		if want := (35.0/255 - MNISTMean) / MNISTStd; math.Abs(dst[5]-want) > 1e-12 || lab[0] != 3 {
			t.Fatalf("Fill: %v label %d, want last %v label 3", dst, lab[0], want)
		}
	}
}

func TestIDXErrorsNameFileAndRecord(t *testing.T) {
	dir := t.TempDir()
	good := EncodeIDX([]int{4, 2, 2}, make([]uint8, 16))
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"magic", append([]byte{1, 2}, good[2:]...), "not an IDX file"},
		{"type", append([]byte{0, 0, 0x0d}, good[3:]...), "element type 0x0d"},
		{"truncated", good[:len(good)-5], "truncated in record 2"},
		{"trailing", append(append([]byte{}, good...), 9), "trailing data"},
		{"header", good[:6], "dimension 0"},
	} {
		p := filepath.Join(dir, tc.name)
		writeFile(t, p, tc.data, false)
		_, err := ReadIDX(p)
		if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want ErrFormat naming %s and %q", tc.name, err, p, tc.want)
		}
	}
	// a label out of range names the labels file and the record
	d2 := t.TempDir()
	writeMNIST(t, d2, 3, false)
	writeFile(t, filepath.Join(d2, "train-labels-idx1-ubyte"), EncodeIDX([]int{3}, []uint8{1, 12, 0}), false)
	if _, _, err := ReadMNIST(d2); err == nil || !strings.Contains(err.Error(), "record 1") || !strings.Contains(err.Error(), "train-labels") {
		t.Errorf("label 12: error %v", err)
	}
	writeFile(t, filepath.Join(d2, "train-labels-idx1-ubyte"), EncodeIDX([]int{2}, []uint8{1, 0}), false)
	if _, _, err := ReadMNIST(d2); err == nil || !strings.Contains(err.Error(), "want 3 labels") {
		t.Errorf("2 labels for 3 images: error %v", err)
	}
	if _, _, err := ReadMNIST(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("empty directory: %v", err)
	}
}

func TestRealMNIST(t *testing.T) {
	dir := testenv.MNISTDir(t)
	train, test, err := ReadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 60000 || test.N != 10000 || train.H != 28 || train.W != 28 {
		t.Fatalf("MNIST: %d and %d images of %d×%d", train.N, test.N, train.H, train.W)
	}
	// The first training digit is a 5, the first test digit a 7 (LeCun's
	// files); class counts of the test set: 980 zeros, 1135 ones.
	if train.Labels[0] != 5 || test.Labels[0] != 7 {
		t.Fatalf("first labels %d, %d; want 5, 7", train.Labels[0], test.Labels[0])
	}
	var counts [10]int
	for _, l := range test.Labels {
		counts[l]++
	}
	if counts[0] != 980 || counts[1] != 1135 {
		t.Fatalf("test class counts %v", counts)
	}
}

func TestCIFAR10Reader(t *testing.T) {
	dir := t.TempDir()
	pix := make([]uint8, 3*3072)
	for i := range pix {
		pix[i] = uint8(i * 7)
	}
	var b bytes.Buffer
	if err := EncodeCIFAR10(&b, []uint8{3, 9, 0}, pix); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		writeFile(t, filepath.Join(dir, "data_batch_"+string(rune('0'+i))+".bin"), b.Bytes(), false)
	}
	writeFile(t, filepath.Join(dir, "test_batch.bin"), b.Bytes()[:2*cifarRecord], false)
	train, test, err := ReadCIFAR10(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 15 || test.N != 2 || train.C != 3 || train.H != 32 {
		t.Fatalf("got %d and %d images of %d×%d", train.N, test.N, train.C, train.H)
	}
	// image 4 of the training set is record 1 of data_batch_2: label 9; its
	// green channel row 1 column 2 is byte 3072 + 1024 + 32 + 2 of pix.
	if train.Labels[4] != 9 || train.Pixels[4*3072+1024+34] != pix[3072+1024+34] {
		t.Fatalf("record layout wrong: label %d", train.Labels[4])
	}
	dst := make([]float64, 3072)
	lab := make([]int32, 1)
	train.Fill(dst, lab, []int32{4})
	if want := (float64(pix[3072+2048+5])/255 - CIFARMean[2]) / CIFARStd[2]; math.Abs(dst[2048+5]-want) > 1e-12 {
		t.Fatalf("blue pixel normalised to %v, want %v", dst[2048+5], want)
	}
	// a partial record and a bad label name the file and the record
	bad := filepath.Join(dir, "test_batch.bin")
	writeFile(t, bad, b.Bytes()[:2*cifarRecord+100], false)
	if _, _, err := ReadCIFAR10(dir); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "record 2") || !strings.Contains(err.Error(), bad) {
		t.Errorf("partial record: %v", err)
	}
	data := append([]byte{}, b.Bytes()...)
	data[cifarRecord] = 10
	writeFile(t, bad, data, false)
	if _, _, err := ReadCIFAR10(dir); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "record 1") || !strings.Contains(err.Error(), "label 10") {
		t.Errorf("label 10: %v", err)
	}
	os.Remove(filepath.Join(dir, "data_batch_3.bin"))
	if _, _, err := ReadCIFAR10(dir); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "data_batch_3") {
		t.Errorf("missing file: %v", err)
	}
}

func TestShardImages(t *testing.T) {
	labels := []uint8{2, 0, 1, 2, 0, 1, 2, 0, 1, 1, 0}
	seen := map[int32]int{}
	for r := 0; r < 3; r++ {
		idx, err := ShardImages(labels, 3, r, ShardOptions{})
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := ShardBounds(11, 3, r)
		if len(idx) != hi-lo || idx[0] != int32(lo) {
			t.Fatalf("contiguous rank %d: %v", r, idx)
		}
		sh, _ := ShardImages(labels, 3, r, ShardOptions{Shuffle: true, Seed: 5})
		for _, i := range sh {
			seen[i]++
		}
	}
	if len(seen) != 11 {
		t.Fatalf("shuffled shards cover %d of 11 images", len(seen))
	}
	// label split: stable by class → rank 0 gets the four 0s (1,4,7,10) in order, …
	idx, _ := ShardImages(labels, 2, 0, ShardOptions{Split: SplitLabel})
	if want := []int32{1, 4, 7, 10, 2}; len(idx) != 5 || idx[0] != want[0] || idx[3] != want[3] || idx[4] != want[4] {
		t.Fatalf("label split rank 0: %v, want %v", idx, want)
	}
	if _, err := ShardImages(labels[:2], 3, 0, ShardOptions{}); err == nil {
		t.Error("2 images for 3 ranks accepted")
	}
}
