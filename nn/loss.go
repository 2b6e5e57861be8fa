package nn

import "math"

// SoftmaxCrossEntropy returns the mean over n samples of
// −log softmax(z_s)[label_s] for logits z (n×classes, row-major), the number
// of samples whose largest logit (first on ties) is the label, and, unless dz
// is nil, writes the gradient of the mean loss with respect to z into dz:
// (softmax(z_s) − onehot(label_s))/n. It computes in float64 whatever T.
func SoftmaxCrossEntropy[T Float](z []T, labels []int32, n, classes int, dz []T) (loss float64, correct int) {
	inv := 1 / float64(n)
	for s := 0; s < n; s++ {
		zs := z[s*classes : (s+1)*classes]
		mx, arg := float64(zs[0]), 0
		for j, v := range zs {
			if float64(v) > mx {
				mx, arg = float64(v), j
			}
		}
		sum := 0.0
		for _, v := range zs {
			sum += math.Exp(float64(v) - mx)
		}
		lse := mx + math.Log(sum)
		y := int(labels[s])
		loss += lse - float64(zs[y])
		if arg == y {
			correct++
		}
		if dz != nil {
			ds := dz[s*classes : (s+1)*classes]
			for j, v := range zs {
				g := math.Exp(float64(v)-lse) * inv
				if j == y {
					g -= inv
				}
				ds[j] = T(g)
			}
		}
	}
	return loss * inv, correct
}
