// Package nn holds small neural networks: layers with forward and backward
// passes (dense, ReLU, 2-D convolution by im2col over chunks of images + GEMM,
// max and global-average pooling, batch normalisation with running
// statistics, flatten) and the softmax cross-entropy loss, assembled into
// three models: a multilayer perceptron, a LeNet-5-style CNN for 28×28 images
// and ResNet-20 (He et al. 2016) for 32×32×3 images.
//
// A network computes in one precision T (Net[T], generic over float32 and
// float64): float32 on nn/engine's GEMM is what runs use, float64 on gonum's
// Dgemm the reference of the gradient checks. The trainable parameters are
// one flat slice laid out layer after layer; Network puts a Net of either
// precision behind the optimiser's float64 vectors (Load rounds x into the
// net's parameters once per call, the gradient comes back as float64). A Net
// owns its scratch space (activations, im2col blocks), its threads and its
// batch norms' running statistics (Stats: not parameters, never part of x).
//
// Work is split among the threads only through internal/par's static split,
// by images, chunks of images, channels or GEMM output tiles, and every sum
// runs in an order fixed by the sizes alone: the same parameters and inputs
// give the same bits on any number of threads, on every run and every
// transport. A Net is not safe for concurrent use: every rank owns its own.
//
// Batch normalisation has three modes (Mode): Train (the batch's statistics,
// running statistics updated as PyTorch with momentum 0.1 and the unbiased
// variance), Batch (the batch's statistics, running ones untouched) and Eval
// (the running statistics: an affine map).
//
// Tensors are NCHW: sample s, channel c, row h, column w is element
// ((s·C + c)·H + h)·W + w of a flat slice.
package nn
