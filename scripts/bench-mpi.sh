#!/usr/bin/env bash
# The MPI benchmarks of README "MPI", one rank per core (2 ranks):
#  1. one EF21 communication round (k = 10, 100000) over the mpi transport
#     beside a bare MPI_Allgatherv of the same bytes, for Open MPI and MPICH;
#  2. whole iterations (EF21 top-1, log_every 100) on a1a and a9a: in-process,
#     under mpirun with -transport tcp, under mpirun with -transport mpi,
#     and under MPICH's mpiexec with mpi.
# The in-process and tcp rounds are `go test -bench Aggregate ./collective`.
# Usage: scripts/bench-mpi.sh [ITERATIONS]   (default 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
iters=${1:-20000}
data=${EFMPI_DATASETS:-../shared/datasets}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

CC=mpicc.openmpi go build -tags mpi -o "$tmp/efmpi-openmpi" ./cmd/efmpi
CC=mpicc.mpich go build -tags mpi -o "$tmp/efmpi-mpich" ./cmd/efmpi
CC=mpicc.openmpi go build -tags mpi -o "$tmp/mpibench-openmpi" ./collective/mpi/internal/mpibench
CC=mpicc.mpich go build -tags mpi -o "$tmp/mpibench-mpich" ./collective/mpi/internal/mpibench

echo "== EF21 round, 2 ranks"
mpirun.openmpi -n 2 "$tmp/mpibench-openmpi"
mpiexec.mpich -n 2 "$tmp/mpibench-mpich"

# µs per iteration from a run file: time_s of the last row / iterations
per_it() {
  "$tmp/efmpi-openmpi" inspect -json "$1" | sed -n 's/.*"time_s": *\([0-9.e+-]*\).*/\1/p' | head -1 |
    awk -v n="$iters" '{ printf "%.1f", $1 / n * 1e6 }'
}

for ds in a1a a9a; do
  [ -f "$data/$ds" ] || { echo "$data/$ds missing: skipped"; continue; }
  cat >"$tmp/$ds.toml" <<TOML
[data]
source = "libsvm"
path = "$(realpath "$data/$ds")"
[algorithm]
method = "ef21"
compressor = "top-k"
k = 1
[run]
iterations = $iters
log_every = 100
ranks = 2
TOML
  cfg=$tmp/$ds.toml
  "$tmp/efmpi-openmpi" run -config "$cfg" -quiet -out "$tmp/$ds-inproc.h5" >/dev/null
  mpirun.openmpi -n 2 "$tmp/efmpi-openmpi" run -config "$cfg" -quiet -transport tcp -out "$tmp/$ds-tcp.h5" >/dev/null
  mpirun.openmpi -n 2 "$tmp/efmpi-openmpi" run -config "$cfg" -quiet -out "$tmp/$ds-ompi.h5" >/dev/null
  mpiexec.mpich -n 2 "$tmp/efmpi-mpich" run -config "$cfg" -quiet -out "$tmp/$ds-mpich.h5" >/dev/null
  echo "== $ds EF21 top-1, 2 ranks, $iters iterations: µs per iteration"
  echo "inproc $(per_it "$tmp/$ds-inproc.h5")  mpirun+tcp $(per_it "$tmp/$ds-tcp.h5")  mpirun+mpi $(per_it "$tmp/$ds-ompi.h5")  mpiexec.mpich+mpi $(per_it "$tmp/$ds-mpich.h5")"
done
