package problems

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/efmpi/efmpi/datasets"
	"github.com/efmpi/efmpi/nn"
)

// tinyImages is n random 1×4×4 images with labels in [0, 3).
func tinyImages(n int, seed uint64) *datasets.Images {
	r := rand.New(rand.NewPCG(seed, 9))
	im := &datasets.Images{N: n, C: 1, H: 4, W: 4, Classes: 3, Mean: []float64{0.5}, Std: []float64{0.25}, Source: "tiny"}
	for i := 0; i < n*16; i++ {
		im.Pixels = append(im.Pixels, uint8(r.IntN(256)))
	}
	for i := 0; i < n; i++ {
		im.Labels = append(im.Labels, uint8(r.IntN(3)))
	}
	return im
}

func tinyNN(t *testing.T, model string, chunk int) (*NN, []float64, *datasets.Images) {
	t.Helper()
	var widths []int
	if model == nn.ModelMLP {
		widths = []int{6}
	}
	net, err := nn.New(model, nn.Float64, nn.Shape{C: 1, H: 4, W: 4}, 3, chunk, widths, 1)
	if err != nil {
		t.Fatal(err)
	}
	im := tinyImages(13, 1)
	rows := []int32{12, 0, 3, 5, 7, 8, 9, 1, 2, 11} // a shard of 10
	o, err := NewNN(net, im, rows)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, o.Dim())
	net.Init(x, rand.New(rand.NewPCG(2, 2)))
	return o, x, im
}

func TestNNValueIsTheMeanOfPerImageLosses(t *testing.T) {
	o, x, im := tinyNN(t, nn.ModelMLP, 4) // chunks of 4, 4, 2
	one, _ := nn.New(nn.ModelMLP, nn.Float64, nn.Shape{C: 1, H: 4, W: 4}, 3, 1, []int{6}, 1)
	one.Load(x)
	sum := 0.0
	lab := make([]int32, 1)
	for _, r := range o.rows {
		im.Fill(one.Input(), lab, []int32{r})
		l, _ := one.Loss(lab, 1)
		sum += l
	}
	if got, want := o.Value(x), sum/10; math.Abs(got-want) > 1e-13*want {
		t.Fatalf("Value %v, mean of per-image losses %v", got, want)
	}
	o.SetTest(im, []int32{0, 1, 2, 3, 4, 5})
	loss, acc, ok := o.Evaluate(x)
	correct, tl := 0, 0.0
	for r := int32(0); r < 6; r++ {
		im.Fill(one.Input(), lab, []int32{r})
		l, c := one.Loss(lab, 1)
		tl += l
		correct += c
	}
	if !ok || math.Abs(loss-tl/6) > 1e-13 || acc != float64(correct)/6 {
		t.Fatalf("Evaluate = %v %v %v, want %v %v", loss, acc, ok, tl/6, float64(correct)/6)
	}
}

func TestNNGradAgainstFiniteDifferences(t *testing.T) {
	for _, model := range []string{nn.ModelMLP} {
		o, x, _ := tinyNN(t, model, 4)
		g := make([]float64, len(x))
		o.Grad(g, x)
		for j := 0; j < len(x); j += 3 {
			old := x[j]
			x[j] = old + 1e-5
			fp := o.Value(x)
			x[j] = old - 1e-5
			fm := o.Value(x)
			x[j] = old
			if fd := (fp - fm) / 2e-5; math.Abs(fd-g[j]) > 1e-6*(1+math.Abs(fd)) {
				t.Fatalf("%s: ∂f/∂x[%d] = %v, central difference %v", model, j, g[j], fd)
			}
		}
		// Value then Grad at the same x: the cached gradient, bit for bit.
		o.Value(x)
		g2 := make([]float64, len(x))
		o.Grad(g2, x)
		for j := range g {
			if g[j] != g2[j] {
				t.Fatalf("cached gradient differs at %d", j)
			}
		}
		// a minibatch of the whole shard in one chunk is the full gradient
		o10, _, _ := tinyNN(t, model, 10)
		o10.Grad(g, x)
		o10.MinibatchGrad(g2, x, []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
		for j := range g {
			if math.Abs(g[j]-g2[j]) > 1e-15 {
				t.Fatalf("minibatch of the whole shard: %v, full %v", g2[j], g[j])
			}
		}
	}
	o, _, _ := tinyNN(t, nn.ModelMLP, 4)
	if _, err := o.Smoothness(nil); !errors.Is(err, ErrNoSmoothness) {
		t.Fatalf("Smoothness: %v", err)
	}
}

func TestNNMinibatchGradDoesNotAllocate(t *testing.T) {
	o, x, _ := tinyNN(t, nn.ModelMLP, 4)
	g := make([]float64, len(x))
	b := []int32{3, 1, 4}
	if a := testing.AllocsPerRun(20, func() { o.MinibatchGrad(g, x, b) }); a != 0 {
		t.Fatalf("MinibatchGrad allocates %v times per call", a)
	}
}

func BenchmarkNNMinibatchLeNet(b *testing.B) {
	net, _ := nn.New(nn.ModelLeNet, nn.Float32, nn.Shape{C: 1, H: 28, W: 28}, 10, 128, nil, 1)
	im := &datasets.Images{N: 256, C: 1, H: 28, W: 28, Classes: 10, Mean: []float64{0.13}, Std: []float64{0.3},
		Pixels: make([]uint8, 256*784), Labels: make([]uint8, 256)}
	rows := make([]int32, 256)
	for i := range rows {
		rows[i] = int32(i)
		im.Pixels[i*784+i] = 255
		im.Labels[i] = uint8(i % 10)
	}
	o, _ := NewNN(net, im, rows)
	x := make([]float64, o.Dim())
	net.Init(x, rand.New(rand.NewPCG(1, 1)))
	g := make([]float64, len(x))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o.MinibatchGrad(g, x, rows[:128])
	}
	b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "images/s")
}
