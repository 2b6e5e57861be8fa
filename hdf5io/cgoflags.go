package hdf5io

// Where HDF5 lives comes from CGO_CFLAGS and CGO_LDFLAGS, which `make build`
// sets through scripts/hdf5-flags.sh (CGO_* as given, HDF5_DIR/HDF5_ROOT,
// pkg-config, h5cc -show, the compiler's defaults). Go puts those before the
// #cgo flags of a package, so they are searched first. The directories
// below are only the fallback of a plain `go build` without them: the ones
// gonum.org/v1/hdf5 itself hard-codes in its cgoflags.go (Debian/Ubuntu's
// serial HDF5), so that this package and gonum's compile against the same
// headers. A missing directory is ignored by the compiler and the linker.

// #cgo linux,amd64 CFLAGS: -I/usr/lib/x86_64-linux-gnu/hdf5/serial/include
// #cgo linux,amd64 LDFLAGS: -L/usr/lib/x86_64-linux-gnu/hdf5/serial
// #cgo linux,arm64 CFLAGS: -I/usr/lib/aarch64-linux-gnu/hdf5/serial/include
// #cgo linux,arm64 LDFLAGS: -L/usr/lib/aarch64-linux-gnu/hdf5/serial
import "C"
