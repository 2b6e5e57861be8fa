#!/bin/bash
# Experiment (f) of EXPERIMENTS.md, the neighbours of the paper (issue 16):
#   (f1) EF21-W vs EF21 on shards with unequal L_i (dirichlet split), the L̃ and L_AM steps
#   (f2) Signum / signSGD with majority vote vs ||EF21-SGDM|| under Student-t noise, ν ∈ {1.5, 3}
#   (f3) EF21 with partial participation, p ∈ {0.1, 0.5, 1}: EF21's step and EF21-PP's own
# Runs under results/paper/f/, figures docs/figures/f_*.png, a summary in
# results/paper/f/tables.md. Environment as configs/paper/reproduce.sh.
#
# configs/paper/reproduce.sh sources this file and queues (f)'s sweeps with
# its own (f_sweeps), then makes the figures (f_plots) and the summary
# (f_tables); run alone, the script does the same for (f) only, its sweeps
# PAR at once (scripts/sweeppool.sh).

# CPU seconds of each sweep, measured on 2026-12-01 (2 shared cores, the code
# of main 819b7eb, GOMAXPROCS=1): they only order the queue, longest first
declare -A F_COST=(
	[w_a1a]=8 [w_breast_cancer]=2
	[sign_s0.1]=8 [signsgd_s0.1]=2 [sgdm_s0.1]=8 [sign_seeds_s0.1]=8 [sgdm_seeds_s0.1]=9
	[sign_s1]=8 [signsgd_s1]=2 [sgdm_s1]=9 [sign_seeds_s1]=7 [sgdm_seeds_s1]=10
	[pp]=5 [pp_factor30]=1 [pp_norm]=1 [pp_theory]=21
)

f_sweep() { # NAME ARGS...: queue a sweep into $F_OUT/NAME
	local name=$1
	shift
	pool_sweep "${F_COST[$name]:-1}" "$F_OUT/$name" "$@"
}

# f_sweeps: the theory summaries of (f1), then queue every sweep of (f)
f_sweeps() {
	F_OUT=${OUT:-results/paper}/f
	F_FIG=${FIG:-docs/figures}
	local P=configs/paper ds scale
	mkdir -p "$F_OUT" "$F_FIG"

	# (f1) EF21-W vs EF21, unequal L_i
	for ds in a1a breast_cancer; do
		"$EFMPI" theory -config "$P/f_w_$ds.toml" >"$F_OUT/theory_w_$ds.txt"
		f_sweep "w_$ds" -config "$P/f_w_$ds.toml" -grid algorithm.method=ef21,ef21-w \
			-grid stepsize.rule=ef21-theory,ef21-theory-am -target 1e-4
	done

	# (f2) sign methods with majority vote vs ||EF21-SGDM||, Student-t noise
	for scale in 0.1 1; do
		f_sweep "sign_s$scale" -config "$P/f_sign_a1a.toml" -set noise.scale=$scale \
			-grid noise.nu=1.5,3 -grid stepsize.gamma=3e-4,1e-3,3e-3 -target 3e-2
		f_sweep "signsgd_s$scale" -config "$P/f_sign_a1a.toml" -set noise.scale=$scale -set algorithm.eta=1 \
			-grid noise.nu=1.5,3 -target 3e-2
		f_sweep "sgdm_s$scale" -config "$P/f_sgdm_a1a.toml" -set noise.scale=$scale \
			-grid noise.nu=1.5,3 -grid stepsize.gamma0=1,3,10 -target 3e-2
		# the chosen parameters over three seeds
		f_sweep "sign_seeds_s$scale" -config "$P/f_sign_a1a.toml" -set noise.scale=$scale \
			-grid noise.nu=1.5,3 -grid run.seed=1,2,3 -target 3e-2
		f_sweep "sgdm_seeds_s$scale" -config "$P/f_sgdm_a1a.toml" -set noise.scale=$scale \
			-grid noise.nu=1.5,3 -grid run.seed=1,2,3 -target 3e-2
	done

	# (f3) partial participation
	f_sweep pp -config "$P/f_pp_a1a.toml" -grid algorithm.participation=0.1,0.5,1 -target 1e-3
	f_sweep pp_factor30 -config "$P/f_pp_a1a.toml" -set stepsize.factor=30 -set run.iterations=10000 \
		-grid algorithm.participation=0.1,0.5,1 -target 1e-3
	f_sweep pp_norm -config "$P/f_pp_a1a.toml" -set algorithm.normalize=true -set stepsize.rule=norm-theory \
		-set run.iterations=10000 -grid algorithm.participation=0.1,0.5,1 -target 1e-3
	# EF21-PP's own step (ef21-pp-theory, issue 16; p = 1 is the ef21-theory run above, bit for bit)
	"$EFMPI" theory -config "$P/f_pp_a1a.toml" -set stepsize.rule=ef21-pp-theory -set algorithm.participation=0.1 \
		>"$F_OUT/theory_pp_a1a.txt"
	f_sweep pp_theory -config "$P/f_pp_a1a.toml" -set stepsize.rule=ef21-pp-theory -set run.iterations=800000 \
		-set run.log_every=100 -grid algorithm.participation=0.1,0.5 -target 1e-3
}

# f_plots: queue the figures of (f) (after f_sweeps' sweeps have run)
f_plots() {
	F_OUT=${OUT:-results/paper}/f
	F_FIG=${FIG:-docs/figures}
	local label='{label}, {rule}'
	# colour: the method (EF21, EF21-W, …), the same in every figure; style: the step
	pool_add 1 "$F_FIG/f1_ef21w.png" "$EFMPI" plot -o "$F_FIG/f1_ef21w.png" -rows dataset -dpi 110 -target 1e-4 \
		-color-by method -style-by stepsize_rule -label "$label" \
		-title "(f1) EF21 vs EF21-W, dirichlet split α = 0.1, top-1: L̃ and L_AM steps" \
		"$F_OUT"/w_a1a/point-00[0-3].h5 "$F_OUT"/w_breast_cancer/point-00[0-3].h5
	# the chosen parameters, scale 0.1, seeds 1–3 (median and band; signSGD-MV: seed 1): rows ν = 1.5, 3
	pool_add 1 "$F_FIG/f2_sign_noise.png" "$EFMPI" plot -o "$F_FIG/f2_sign_noise.png" -rows noise_nu -dpi 90 -width 13 \
		-target 3e-2 -logbits -aggregate seed -color-by method -label "{method}, {rule}" \
		-title "(f2) a1a, n = 5, b = 32, Student-t noise ×0.1; ||EF21-SGDM|| with top-1" \
		"$F_OUT"/sign_seeds_s0.1/point-00[0-5].h5 "$F_OUT"/signsgd_s0.1/point-00[0-1].h5 \
		"$F_OUT"/sgdm_seeds_s0.1/point-00[0-5].h5
	# colour: the method (EF21-PP for p < 1, EF21 at p = 1, and their ||·||); style: p and the step
	pool_add 1 "$F_FIG/f3_participation.png" "$EFMPI" plot -o "$F_FIG/f3_participation.png" -dpi 110 -target 1e-3 -logbits \
		-color-by method -label "{method}, {rule}, p = {participation}" \
		-title "(f3) EF21-PP on a1a, n = 10, top-1: p ∈ {0.1, 0.5, 1}; EF21's step ×1 and ×30, ||EF21||" \
		"$F_OUT"/pp/point-00[0-2].h5 "$F_OUT"/pp_factor30/point-00[0-2].h5 "$F_OUT"/pp_norm/point-00[0-2].h5
}

# f_tables: the summary of (f), $F_OUT/tables.md
f_tables() {
	local f d
	{
		for f in "$F_OUT"/theory_*.txt; do
			echo "## $(basename "$f")"
			grep -E "^(L|L̃|L_AM|ef21-theory|ef21-pp-theory)" "$f"
		done
		for d in "$F_OUT"/*/; do
			echo "## $(basename "$d")"
			sed -n '2,$p' "$d/sweep.log"
		done
	} >"$F_OUT/tables.md"
	echo "f: done — figures $F_FIG/f*.png, tables $F_OUT/tables.md"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	cd "$(dirname "$0")/../.."
	start=$EPOCHREALTIME
	EFMPI=${EFMPI:-bin/efmpi}
	source scripts/sweeppool.sh
	f_sweeps
	pool_run
	f_plots
	pool_run
	f_tables
	pool_elapsed "$start" "f: done in"
fi
