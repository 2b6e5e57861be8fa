#!/bin/sh
# Experiment (e) of EXPERIMENTS.md: ||EF21|| vs EF21 vs ||EF21-SGDM|| training
# LeNet-5 on MNIST (5 000 training images in 5 shuffled shards, 2 000 test
# images), minibatch 128 per worker, top-k with k = 1 % of d, constant steps.
#   1. grid: γ ∈ {0.03, 0.1} for each method, seed 1;
#   2. the γ with the lowest final training loss: seeds 2 and 3 for ||EF21||
#      and EF21, then for ||EF21-SGDM||.
# Runs already present in $OUT are kept. Needs make data-mnist and bin/efmpi.
# Each run takes 6–10 min on 2 cores shared with other jobs (load average
# 10–15); the 12 runs about 1.5 h.
set -e
EFMPI=${EFMPI:-bin/efmpi}
OUT=${OUT:-results/nn/e}
ITERS=${ITERS:-150}
mkdir -p "$OUT"
run() { # method normalize gamma seed name [extra -set...]
	m=$1 norm=$2 g=$3 s=$4 name=$5
	shift 5
	f="$OUT/$name-g$g-s$s.h5"
	[ -f "$f" ] && return 0
	"$EFMPI" run -config configs/nn/lenet_mnist.toml -out "$f" \
		-set algorithm.method="$m" -set algorithm.normalize="$norm" -set stepsize.gamma="$g" \
		-set run.seed="$s" -set run.iterations="$ITERS" -set run.log_every="${LOG_EVERY:-30}" \
		-set nn.train_samples=5000 -set nn.test_samples=2000 "$@" >"$f.log" 2>&1
	tail -1 "$f.log"
}
for g in 0.03 0.1; do
	run ef21 true $g 1 ef21-norm
	run ef21 false $g 1 ef21
	run ef21-sgdm true $g 1 ef21-sgdm-norm -set algorithm.eta=0.1
done
best() { # name → the γ of seed 1 with the lowest final training loss
	/usr/bin/python3 scripts/nn_table.py --best "$OUT" "$1"
}
for s in 2 3; do
	run ef21 true "$(best ef21-norm)" $s ef21-norm
	run ef21 false "$(best ef21)" $s ef21
done
for s in 2 3; do
	run ef21-sgdm true "$(best ef21-sgdm-norm)" $s ef21-sgdm-norm -set algorithm.eta=0.1
done
/usr/bin/python3 scripts/nn_table.py "$OUT"
