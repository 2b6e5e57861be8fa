#!/bin/bash
# Experiment (f) of EXPERIMENTS.md, the neighbours of the paper (issue 16):
#   (f1) EF21-W vs EF21 on shards with unequal L_i (dirichlet split), the L̃ and L_AM steps
#   (f2) Signum / signSGD with majority vote vs ||EF21-SGDM|| under Student-t noise, ν ∈ {1.5, 3}
#   (f3) EF21 with partial participation, p ∈ {0.1, 0.5, 1}: EF21's step and EF21-PP's own
# Runs under results/paper/f/, figures docs/figures/f_*.png, a summary in
# results/paper/f/tables.md. Environment as configs/paper/reproduce.sh (which
# calls this); about 7 minutes on the 2-core development machine, plus about 2 for
# EF21-PP's own step (pp_theory).
set -euo pipefail
cd "$(dirname "$0")/../.."
EFMPI=${EFMPI:-bin/efmpi}
OUT=${OUT:-results/paper}/f
FIG=${FIG:-docs/figures}
P=configs/paper
mkdir -p "$OUT" "$FIG"

sweep() { # DIR ARGS...
	local dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	echo "== efmpi sweep $* -out $dir"
	# -overwrite: the log below already sits in the folder when the sweep starts
	"$EFMPI" sweep "$@" -out "$dir" -quiet -overwrite | tee "$dir/sweep.log.tmp"
	mv "$dir/sweep.log.tmp" "$dir/sweep.log"
}

echo "### (f1) EF21-W vs EF21, unequal L_i"
for ds in a1a breast_cancer; do
	"$EFMPI" theory -config "$P/f_w_$ds.toml" >"$OUT/theory_w_$ds.txt"
	sweep "$OUT/w_$ds" -config "$P/f_w_$ds.toml" -grid algorithm.method=ef21,ef21-w \
		-grid stepsize.rule=ef21-theory,ef21-theory-am -target 1e-4
done
"$EFMPI" plot -o "$FIG/f1_ef21w.png" -rows dataset -dpi 110 -target 1e-4 \
	-title "(f1) EF21 vs EF21-W, dirichlet split α = 0.1, top-1: L̃ and L_AM steps" \
	"$OUT"/w_a1a/point-00[0-3].h5 "$OUT"/w_breast_cancer/point-00[0-3].h5

echo "### (f2) sign methods with majority vote vs ||EF21-SGDM||, Student-t noise"
for scale in 0.1 1; do
	sweep "$OUT/sign_s$scale" -config "$P/f_sign_a1a.toml" -set noise.scale=$scale \
		-grid noise.nu=1.5,3 -grid stepsize.gamma=3e-4,1e-3,3e-3 -target 3e-2
	sweep "$OUT/signsgd_s$scale" -config "$P/f_sign_a1a.toml" -set noise.scale=$scale -set algorithm.eta=1 \
		-grid noise.nu=1.5,3 -target 3e-2
	sweep "$OUT/sgdm_s$scale" -config "$P/f_sgdm_a1a.toml" -set noise.scale=$scale \
		-grid noise.nu=1.5,3 -grid stepsize.gamma0=1,3,10 -target 3e-2
	# the chosen parameters over three seeds
	sweep "$OUT/sign_seeds_s$scale" -config "$P/f_sign_a1a.toml" -set noise.scale=$scale \
		-grid noise.nu=1.5,3 -grid run.seed=1,2,3 -target 3e-2
	sweep "$OUT/sgdm_seeds_s$scale" -config "$P/f_sgdm_a1a.toml" -set noise.scale=$scale \
		-grid noise.nu=1.5,3 -grid run.seed=1,2,3 -target 3e-2
done
# seed 1 of the chosen parameters, scale 0.1: rows ν = 1.5, 3
"$EFMPI" plot -o "$FIG/f2_sign_noise.png" -rows noise_nu -dpi 90 -width 13 -target 3e-2 -logbits \
	-title "(f2) a1a, n = 5, b = 32, Student-t noise ×0.1, seed 1" \
	"$OUT"/sign_seeds_s0.1/point-000.h5 "$OUT"/sign_seeds_s0.1/point-003.h5 \
	"$OUT"/signsgd_s0.1/point-000.h5 "$OUT"/signsgd_s0.1/point-001.h5 \
	"$OUT"/sgdm_seeds_s0.1/point-000.h5 "$OUT"/sgdm_seeds_s0.1/point-003.h5

echo "### (f3) partial participation"
sweep "$OUT/pp" -config "$P/f_pp_a1a.toml" -grid algorithm.participation=0.1,0.5,1 -target 1e-3
sweep "$OUT/pp_factor30" -config "$P/f_pp_a1a.toml" -set stepsize.factor=30 -set run.iterations=10000 \
	-grid algorithm.participation=0.1,0.5,1 -target 1e-3
sweep "$OUT/pp_norm" -config "$P/f_pp_a1a.toml" -set algorithm.normalize=true -set stepsize.rule=norm-theory \
	-set run.iterations=10000 -grid algorithm.participation=0.1,0.5,1 -target 1e-3
# EF21-PP's own step (ef21-pp-theory, issue 16; p = 1 is the ef21-theory run above, bit for bit)
"$EFMPI" theory -config "$P/f_pp_a1a.toml" -set stepsize.rule=ef21-pp-theory -set algorithm.participation=0.1 >"$OUT/theory_pp_a1a.txt"
sweep "$OUT/pp_theory" -config "$P/f_pp_a1a.toml" -set stepsize.rule=ef21-pp-theory -set run.iterations=800000 \
	-set run.log_every=100 -grid algorithm.participation=0.1,0.5 -target 1e-3
"$EFMPI" plot -o "$FIG/f3_participation.png" -dpi 110 -target 1e-3 -logbits \
	-title "(f3) EF21-PP on a1a, n = 10, top-1: p ∈ {0.1, 0.5, 1}; EF21's step ×1 and ×30, ||EF21||" \
	"$OUT"/pp/point-00[0-2].h5 "$OUT"/pp_factor30/point-00[0-2].h5 "$OUT"/pp_norm/point-00[0-2].h5

{
	for f in "$OUT"/theory_*.txt; do
		echo "## $(basename "$f")"
		grep -E "^(L|L̃|L_AM|ef21-theory|ef21-pp-theory)" "$f"
	done
	for d in "$OUT"/*/; do
		echo "## $(basename "$d")"
		sed -n '2,$p' "$d/sweep.log"
	done
} >"$OUT/tables.md"
echo "f: done — figures $FIG/f*.png, tables $OUT/tables.md"
