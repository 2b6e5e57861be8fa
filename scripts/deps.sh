#!/usr/bin/env bash
# Installs the system packages efmpi needs, when they are missing.
#   scripts/deps.sh run    what the job needs: a C compiler and libhdf5 (cgo)
#   scripts/deps.sh test   also what the tests need: Open MPI, MPICH, h5dump,
#                          h5py/numpy, Slurm and munge
#   scripts/deps.sh mpi    what `make build-mpi` needs: also Open MPI and MPICH
#                          with their headers and wrapper compilers
# Debian/Ubuntu: installs with apt-get (as root, or through sudo). Elsewhere:
# prints what to install and exits non-zero.
set -euo pipefail
what=${1:-run}

run_pkgs=(gcc libhdf5-dev)
test_pkgs=(hdf5-tools openmpi-bin libopenmpi-dev mpich python3-h5py python3-numpy python3-scipy python3-torch slurm-wlm munge)

mpi_pkgs=(openmpi-bin libopenmpi-dev mpich libmpich-dev)

pkgs=("${run_pkgs[@]}")
[ "$what" = test ] && pkgs+=("${test_pkgs[@]}" libmpich-dev)
[ "$what" = mpi ] && pkgs+=("${mpi_pkgs[@]}")

if ! command -v go >/dev/null 2>&1; then
  echo "efmpi needs Go 1.26 or newer (https://go.dev/dl/); 'go' is not on PATH." >&2
  exit 1
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  cat >&2 <<MSG
This is not a Debian/Ubuntu system, so efmpi cannot install its dependencies itself.
Install the equivalents of: ${pkgs[*]}
(HDF5 1.10+ C library with headers; for tests also Open MPI, MPICH, h5dump, python3 h5py+numpy,
Slurm and munge),
or load them with your site's modules, e.g.:  module load gcc hdf5 openmpi
If HDF5 lives elsewhere, point cgo at it: export CGO_CFLAGS=-I/path/include CGO_LDFLAGS=-L/path/lib
MSG
  exit 1
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "missing packages: ${missing[*]} — run as root or install them: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
