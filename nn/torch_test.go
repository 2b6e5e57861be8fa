package nn

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// python3Torch is a python3 that imports torch, or "" (the test is skipped:
// CI installs python3-torch).
func python3Torch(t *testing.T) string {
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if err := exec.Command(py, "-c", "import torch").Run(); err == nil {
			return py
		}
	}
	t.Skip("PyTorch is not installed here (apt-get install python3-torch): the comparison with PyTorch is skipped")
	return ""
}

// ResNet-20 in float64 against PyTorch's (scripts/torch_check.py, the
// authors' architecture with option-A shortcuts) on the same weights and
// images: three training-mode passes on three batches (loss and gradient of
// each, batch statistics), the running statistics after them (momentum 0.1,
// unbiased variance), and an eval-mode pass (running statistics) on the
// first batch.
func TestResNet20MatchesPyTorch(t *testing.T) {
	py := python3Torch(t)
	const nbatch, nb = 3, 8
	in := Shape{3, 32, 32}
	net, err := NewOf[float64](ModelResNet20, in, 10, nb, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(8, 9))
	x := make([]float64, net.Dim())
	net.Init(x, r)
	for i := range x {
		x[i] += 0.05 * r.NormFloat64() // batch-norm scales and shifts away from 1 and 0
	}
	dir := t.TempDir()
	le := binary.LittleEndian
	buf := le.AppendUint64(nil, nbatch)
	for _, v := range []int{nb, in.C, in.H, in.W, len(x)} {
		buf = le.AppendUint64(buf, uint64(v))
	}
	for _, v := range x {
		buf = le.AppendUint64(buf, math.Float64bits(v))
	}
	images := make([][]float64, nbatch)
	labels := make([][]int32, nbatch)
	for b := range images {
		images[b] = randVec(nb*in.Size(), r)
		for i := range images[b] {
			images[b][i] = 1.5*images[b][i] + 0.3*float64(b) // batches with other statistics
		}
		labels[b] = make([]int32, nb)
		for _, v := range images[b] {
			buf = le.AppendUint64(buf, math.Float64bits(v))
		}
		for i := range labels[b] {
			labels[b][i] = int32(r.IntN(10))
			buf = le.AppendUint64(buf, uint64(labels[b][i]))
		}
	}
	src, dst := filepath.Join(dir, "in.bin"), filepath.Join(dir, "out.bin")
	if err := os.WriteFile(src, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(py, "../scripts/torch_check.py", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("torch_check.py: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	ref := make([]float64, len(raw)/8)
	for i := range ref {
		ref[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
	}
	if want := nbatch*(1+len(x)) + len(net.Stats()) + 1 + len(x); len(ref) != want {
		t.Fatalf("PyTorch wrote %d values, want %d", len(ref), want)
	}
	g := make([]float64, len(x))
	compare := func(what string, b int) {
		copy(net.Input(), images[b])
		loss, _ := net.LossGrad(x, g, labels[b], nb)
		if math.Abs(loss-ref[0]) > 1e-12*math.Abs(ref[0]) {
			t.Errorf("%s: loss %.15g, PyTorch %.15g", what, loss, ref[0])
		}
		if e := relErr(g, ref[1:1+len(x)]); !(e < 1e-10) {
			t.Errorf("%s: gradient relative error %.3g against PyTorch", what, e)
		}
		ref = ref[1+len(x):]
	}
	for b := range nbatch {
		compare("training pass "+string(rune('1'+b)), b)
	}
	if e := relErr(net.Stats(), ref[:len(net.Stats())]); !(e < 1e-13) {
		t.Errorf("running statistics after %d passes: relative error %.3g against PyTorch", nbatch, e)
	}
	ref = ref[len(net.Stats()):]
	net.SetMode(Eval)
	compare("eval mode", 0)
}
