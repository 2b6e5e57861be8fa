package nn

import (
	"slices"
	"testing"
)

// TestTensorsLeNet checks the boundaries against the sizes of PyTorch's
// LeNet-5 parameters, counted by hand: conv 6×1×5×5 and its bias, conv
// 16×6×5×5 and its bias, linear 120×400, 84×120, 10×84 and their biases.
func TestTensorsLeNet(t *testing.T) {
	net, err := NewOf[float64](ModelLeNet, Shape{1, 28, 28}, 10, 2, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	sizes := []int{150, 6, 2400, 16, 48000, 120, 10080, 84, 840, 10}
	want := []int{0}
	for _, s := range sizes {
		want = append(want, want[len(want)-1]+s)
	}
	if got := net.Tensors(); !slices.Equal(got, want) {
		t.Fatalf("tensors %v, want %v", got, want)
	}
}

// TestTensorsResNet20 checks ResNet-20's 59 tensors (conv, γ, β; nine
// blocks of conv, γ, β, conv, γ, β; linear weight and bias) and a few sizes
// counted by hand.
func TestTensorsResNet20(t *testing.T) {
	net, err := NewOf[float32](ModelResNet20, Shape{3, 32, 32}, 10, 2, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	b := net.Tensors()
	if len(b) != 60 || b[0] != 0 || b[59] != net.Dim() {
		t.Fatalf("%d boundaries from %d to %d, want 60 from 0 to %d", len(b), b[0], b[len(b)-1], net.Dim())
	}
	size := func(i int) int { return b[i+1] - b[i] }
	// conv1 16×3×3×3, bn1 γ and β, block 1's conv 16×16×3×3, stage 2's
	// first conv 32×16×3×3 (tensor 3+3·6), the linear 10×64 and its bias
	for i, want := range map[int]int{0: 432, 1: 16, 2: 16, 3: 2304, 4: 16, 21: 4608, 24: 9216, 57: 640, 58: 10} {
		if size(i) != want {
			t.Errorf("tensor %d has %d values, want %d", i, size(i), want)
		}
	}
}
