// Package nn holds small neural networks written on gonum's BLAS: layers with
// forward and backward passes (dense, ReLU, 2-D convolution by im2col + GEMM,
// max and global-average pooling, batch normalisation, flatten) and the
// softmax cross-entropy loss, assembled into three models: a multilayer
// perceptron, a LeNet-5-style CNN for 28×28 images and ResNet-20 (He et al.
// 2016) for 32×32×3 images.
//
// The trainable parameters of a network are one flat []float64 (the
// optimiser's iterate x), laid out layer after layer; a Net owns only scratch
// space (activations, im2col buffers, batch-norm statistics), so one Net
// evaluates any parameter vector. Arithmetic is float64 with a fixed order of
// summation: the same parameters and inputs give the same bits on every run
// and every transport. A Net is not safe for concurrent use: every rank owns
// its own.
//
// Batch normalisation always uses the statistics of the batch it is given
// ("train mode"); there are no running statistics. A full pass over a data set
// is therefore defined as the average over fixed, consecutive chunks (see
// problems.NN), which makes it a deterministic function of x whose gradient is
// the average of the chunk gradients.
//
// Tensors are NCHW: sample s, channel c, row h, column w is element
// ((s·C + c)·H + h)·W + w of a flat slice.
package nn
