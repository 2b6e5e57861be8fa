#!/bin/sh
# Experiment (e) of EXPERIMENTS.md: ||EF21|| vs EF21 vs ||EF21-SGDM|| training
# LeNet-5 on MNIST (5 000 training images in 5 shuffled shards, 2 000 test
# images), minibatch 128 per worker, top-k with k = 1 % of d, constant steps.
#   1. grid: γ ∈ {0.03, 0.1} for each method, seed 1;
#   2. the γ with the lowest final training loss: seeds 2 and 3 for ||EF21||
#      and EF21, then for ||EF21-SGDM||.
# Runs already present in $OUT are kept. Needs make data-mnist and bin/efmpi.
# Each run takes 40–140 s on 2 cores (load average 2–4 besides it); all 15
# runs about 20 min (18 min measured).
set -e
EFMPI=${EFMPI:-bin/efmpi}
OUT=${OUT:-results/nn/e}
ITERS=${ITERS:-150}
mkdir -p "$OUT"
run() { # method normalize gamma seed name
	m=$1 norm=$2 g=$3 s=$4 name=$5
	f="$OUT/$name-g$g-s$s.h5"
	extra=""
	[ "$m" = ef21-sgdm ] && extra="-set algorithm.eta=0.1"
	[ -f "$f" ] && return 0
	"$EFMPI" run -config configs/nn/lenet_mnist.toml -out "$f" \
		-set algorithm.method="$m" -set algorithm.normalize="$norm" -set stepsize.gamma="$g" \
		-set run.seed="$s" -set run.iterations="$ITERS" -set run.log_every="${LOG_EVERY:-30}" \
		-set nn.train_samples=5000 -set nn.test_samples=2000 $extra >"$f.log" 2>&1
	tail -1 "$f.log"
}
best() { # name → the γ of seed 1 with the lowest final training loss
	/usr/bin/python3 scripts/nn_table.py --best "$OUT" "$1"
}
# method NAME: the grid at seed 1, then seeds 2 and 3 at the chosen γ
method() {
	name=$1
	shift
	for g in 0.03 0.1; do
		run "$@" $g 1 "$name"
	done
	for s in 2 3; do
		run "$@" "$(best "$name")" $s "$name"
	done
}
m_norm() { method ef21-norm ef21 true; }
m_ef21() { method ef21 ef21 false; }
m_sgdm() { method ef21-sgdm-norm ef21-sgdm true; }
# edges: one more grid point, seed 1, beyond the end of {0.03, 0.1} where
# each method's best step lay — 0.01 below 0.03, 0.3 above 0.1 (the seeds stay
# at the best of {0.03, 0.1}; edge points do not choose)
edge() { # name method normalize
	case "$(best "$1")" in
	0.03) g=0.01 ;;
	*) g=0.3 ;;
	esac
	run "$2" "$3" $g 1 "$1"
}
edges() {
	edge ef21-norm ef21 true
	edge ef21 ef21 false
	edge ef21-sgdm-norm ef21-sgdm true
}
# `experiment_e.sh ef21-norm` (or ef21, ef21-sgdm-norm) runs one method only,
# so the three can run side by side; with no argument all run in turn.
case "${1:-all}" in
ef21-norm) m_norm ;;
ef21) m_ef21 ;;
ef21-sgdm-norm) m_sgdm ;;
edges) edges ;;
all) m_norm; m_ef21; m_sgdm; edges ;;
*) echo "usage: $0 [ef21-norm|ef21|ef21-sgdm-norm|edges]" >&2; exit 2 ;;
esac
/usr/bin/python3 scripts/nn_table.py "$OUT"
