//go:build !amd64

package x86

// HasAVX2 is false off amd64: the pure-Go kernels run.
const HasAVX2 = false

// HasFMA is false off amd64.
const HasFMA = false

// HasAVX512 is false off amd64.
const HasAVX512 = false
