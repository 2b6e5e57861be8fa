#!/usr/bin/env bash
# The scale measurements of the README ("Data at scale"): peak RSS (GNU time),
# setup (wall time minus the iteration loop) and time per iteration of
#   - a9a with 20, 1024 and 4096 in-process ranks (EF21 top-1, ef21-theory,
#     200 iterations, log_every 100);
#   - synthetic-sparse m = 2e6, d = 1e6, 20 per row on 16 in-process ranks,
#     and the same with m = 1600 (the per-rank state alone);
#   - synthetic-sparse m = 2e6, d = 1000 as HDF5 and as LIBSVM, 2 in-process
#     ranks against each process of mpirun -np 2 (bitwise-equal /x_final).
# Needs bin/efmpi (make build), /usr/bin/time, python3-h5py, Open MPI ($MPIRUN,
# default mpirun.openmpi), the datasets (../shared/datasets or $EFMPI_DATASETS),
# about 4 GB of memory (13 GB for the 4096-rank run without issue 10's
# in-process collectives) and 3 GB of disk in $SCALE_DIR (default: a temporary
# directory). Takes minutes.
# SCALE_QUICK=1 runs the same steps at toy sizes (a check of the script).
set -euo pipefail
cd "$(dirname "$0")/.."
EFMPI=${EFMPI:-$PWD/bin/efmpi}
DATA=${EFMPI_DATASETS:-$PWD/../shared/datasets}
DIR=${SCALE_DIR:-$(mktemp -d)}
PY=/usr/bin/python3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
RANKS="20 1024 4096" M=2000000 D=1000000
[ -n "${SCALE_QUICK:-}" ] && RANKS="20 64" M=20000 D=10000
echo "# in $DIR; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# measure NAME OUT.h5 CMD...: one table row from GNU time and the run file.
measure() {
  local name=$1 out=$2; shift 2
  local t0 t1 rss
  t0=$(date +%s.%N)
  rss=$( { /usr/bin/time -f '%M' "$@" >/dev/null; } 2>&1 | tail -1)
  t1=$(date +%s.%N)
  "$PY" - "$name" "$out" "$t0" "$t1" "$rss" <<'EOF'
import sys, h5py
name, out, t0, t1, rss = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
f = h5py.File(out, "r")
tm, it = f["timing"].attrs, int(f.attrs["iterations_done"])
loop = tm["total_s"] - tm["setup_s"]
print(f"| {name} | {rss/1024:.0f} MB | {t1 - t0 - loop:.2f} s | {1000 * loop / max(it, 1):.1f} ms |")
EOF
}

cat > "$DIR/a9a.toml" <<EOF
[data]
source = "libsvm"
path = "$DATA/a9a"
[algorithm]
method = "ef21"
compressor = "top-k"
k = 1
[run]
iterations = 200
log_every = 100
EOF
echo "| run | peak RSS | setup | per iteration |"
echo "|---|---|---|---|"
for n in $RANKS; do
  measure "a9a, $n in-process ranks" "$DIR/a9a-$n.h5" \
    "$EFMPI" run -config "$DIR/a9a.toml" -ranks "$n" -out "$DIR/a9a-$n.h5" -overwrite -quiet
done

cat > "$DIR/ss.toml" <<EOF
[data]
source = "synthetic-sparse"
samples = $M
features = $D
nnz_per_row = 20
[algorithm]
method = "ef21"
normalize = true
compressor = "top-k"
k = 10
[stepsize]
rule = "norm-theory"
[run]
iterations = 20
log_every = 10
ranks = 16
EOF
measure "synthetic-sparse $M × $D, 20 per row, 16 in-process ranks" "$DIR/ss.h5" \
  "$EFMPI" run -config "$DIR/ss.toml" -out "$DIR/ss.h5" -overwrite -quiet
measure "the same with m = 1600 (per-rank state only)" "$DIR/ss-small.h5" \
  "$EFMPI" run -config "$DIR/ss.toml" -set data.samples=1600 -out "$DIR/ss-small.h5" -overwrite -quiet

"$EFMPI" data synth -samples "$M" -features 1000 -nnz 20 -o "$DIR/syn.h5" -overwrite >/dev/null
"$EFMPI" data synth -samples "$M" -features 1000 -nnz 20 -o "$DIR/syn.svm" -overwrite >/dev/null
for fmt in hdf5 libsvm; do
  file="$DIR/syn.h5"; [ "$fmt" = libsvm ] && file="$DIR/syn.svm"
  cat > "$DIR/mp-$fmt.toml" <<EOF
[data]
source = "$fmt"
path = "$file"
[algorithm]
method = "ef21"
normalize = true
compressor = "top-k"
k = 10
[stepsize]
rule = "norm-theory"
[run]
iterations = 10
log_every = 5
ranks = 2
EOF
  measure "synthetic-sparse $M × 1000 ($fmt), 2 in-process ranks" "$DIR/mp-$fmt-in.h5" \
    "$EFMPI" run -config "$DIR/mp-$fmt.toml" -out "$DIR/mp-$fmt-in.h5" -overwrite -quiet
  rss=$(${MPIRUN:-mpirun.openmpi} -np 2 --oversubscribe /usr/bin/time -f 'rss %M' "$EFMPI" run -config "$DIR/mp-$fmt.toml" \
        -out "$DIR/mp-$fmt-mpi.h5" -overwrite -quiet 2>&1 | awk '/^rss/ {printf "%.0f MB ", $2/1024}')
  echo "| the same under mpirun -np 2, each process | $rss| | |"
done
"$PY" - "$DIR" <<'EOF'
import sys, h5py, numpy as np
d = sys.argv[1]
x = [h5py.File(f"{d}/{n}.h5", "r")["x_final"][:] for n in ("mp-hdf5-in", "mp-hdf5-mpi", "mp-libsvm-in", "mp-libsvm-mpi")]
print("# the four 2-rank runs end at the same /x_final, bit for bit:", all(np.array_equal(x[0], y) for y in x))
EOF
