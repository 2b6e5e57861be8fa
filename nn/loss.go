package nn

import "math"

// SoftmaxCrossEntropy returns the mean over n samples of
// −log softmax(z_s)[label_s] for logits z (n×classes, row-major), the number
// of samples whose largest logit (first on ties) is the label, and, unless dz
// is nil, writes the gradient of the mean loss with respect to z into dz:
// (softmax(z_s) − onehot(label_s))/n.
func SoftmaxCrossEntropy(z []float64, labels []int32, n, classes int, dz []float64) (loss float64, correct int) {
	inv := 1 / float64(n)
	for s := 0; s < n; s++ {
		zs := z[s*classes : (s+1)*classes]
		mx, arg := zs[0], 0
		for j, v := range zs {
			if v > mx {
				mx, arg = v, j
			}
		}
		sum := 0.0
		for _, v := range zs {
			sum += math.Exp(v - mx)
		}
		lse := mx + math.Log(sum)
		y := int(labels[s])
		loss += lse - zs[y]
		if arg == y {
			correct++
		}
		if dz != nil {
			ds := dz[s*classes : (s+1)*classes]
			for j, v := range zs {
				ds[j] = math.Exp(v-lse) * inv
			}
			ds[y] -= inv
		}
	}
	return loss * inv, correct
}
