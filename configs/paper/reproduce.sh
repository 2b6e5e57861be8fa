#!/bin/bash
# Reproduce the paper's experiments (a)–(d), and (f) (configs/paper/f.sh), with efmpi: every run, table and
# figure, from nothing. `make reproduce` calls this after building bin/efmpi.
#
#   results/paper/{a,b,c,d}/…/point-NNN.h5   the runs (K-search tries as point-NNN-k<K>.h5)
#   results/paper/{a,b,c,d}/…/sweep.csv      one table per sweep (efmpi sweep)
#   results/paper/{a,b,c,d}/…/sweep.log      the sweep's printed summary
#   results/paper/tables.md                  the tables of EXPERIMENTS.md, regenerated
#   docs/figures/*.png                       the figures of EXPERIMENTS.md
#
# The sweeps do not depend on one another: all of them, (f)'s included, go into
# one queue (scripts/sweeppool.sh) that runs PAR of them at once, the longest
# first, each as its own process with GOMAXPROCS = CORES / PAR; the figures
# and tables follow once the queue is empty. Every run file is the same
# whatever PAR, CORES and JOBS are (scripts/compare_runs.py checks two
# result trees against each other).
#
# Environment: EFMPI (binary, default bin/efmpi), OUT (default results/paper),
# FIG (default docs/figures), CORES (default nproc), PAR (sweeps at once,
# default CORES), JOBS (grid points at once inside one sweep, `efmpi sweep
# -jobs`; default 0: as many as fit the sweep's GOMAXPROCS given each point's
# ranks). PAR=1 runs one sweep at a time, its points on every core. Runs from
# the repository root; prints its wall and CPU time at the end.
# FIGURES_ONLY=1 skips the sweeps and redraws the figures and tables from
# the runs already under $OUT.
#
# Figures: one colour per method in every figure (plot -color-by method: a
# fixed colour for each known method); within a method, line style tells γ0,
# k or the step apart; labels name the method and its step rule, so a series
# has one legend entry across rows; runs that differ only by seed are drawn
# as their median with a min–max band (plot -aggregate seed).
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$EPOCHREALTIME
EFMPI=${EFMPI:-bin/efmpi}
OUT=${OUT:-results/paper}
FIG=${FIG:-docs/figures}
P=configs/paper
source scripts/sweeppool.sh
source "$P/f.sh"
mkdir -p "$OUT" "$FIG"

# Targets (‖∇f‖²) and the K grid (multiples of 500, as in the paper).
TARGET_A=1e-3   # polynomial: (a) and (c)
TARGET_B=1e-4   # logistic regression, (b)
TARGET_B2=1e-6  # logistic regression, (b) at high accuracy
TARGET_D=3e-2   # stochastic methods, (d)
KGRID=500:500:50000

# col FILE NAME: the index (1-based) of a column of a CSV header
col() { head -1 "$1" | tr ',' '\n' | grep -nx "$2" | cut -d: -f1; }

# chosen FILE: the chosen rows of a K-search table (role = chosen or none)
chosen() {
	local r
	r=$(col "$1" role)
	awk -F, -v r="$r" 'NR > 1 && ($r == "chosen" || $r == "none")' "$1"
}

# CPU seconds of each sweep, measured on 2026-12-01 (2 shared cores, the code of
# main 819b7eb, GOMAXPROCS=1): they only order the queue, longest first
declare -A COST=(
	[a/norm]=1 [a/ef21]=1
	[b/synthetic-norm]=13 [b/synthetic-norm-g1]=8 [b/synthetic-ef21]=1
	[b/breast_cancer-norm]=2 [b/breast_cancer-norm-g1]=1 [b/breast_cancer-ef21]=1
	[b/a1a-norm]=21 [b/a1a-norm-g1]=4 [b/a1a-ef21]=13
	[b2/synthetic-norm]=8 [b2/synthetic-ef21]=1 [b2/breast_cancer-norm]=2 [b2/breast_cancer-ef21]=1
	[b2/a1a-norm]=8 [b2/a1a-ef21]=11
	[c]=7
	[d/a1a-norm_sgdm]=6 [d/a1a-sgdm]=2 [d/a1a-norm_sgdm_identity]=2 [d/a1a-norm_sgd]=2
	[d/mushrooms-norm_sgdm]=14 [d/mushrooms-sgdm]=4 [d/mushrooms-norm_sgdm_identity]=4 [d/mushrooms-norm_sgd]=5
)
sweep() { # REL ARGS...: queue a sweep into $OUT/REL
	local rel=$1
	shift
	pool_sweep "${COST[$rel]:-1}" "$OUT/$rel" "$@"
}

if [ "${FIGURES_ONLY:-0}" != 1 ]; then
echo "### the sweeps of (a)–(d) and (f): $PAR at once on $CORES cores, the longest first"
# (a) polynomial, ||EF21|| vs EF21, top-10 of d = 100, n ∈ {1, 4, 8}
for m in norm ef21; do
	sweep "a/$m" -config "$P/a_poly_$m.toml" -grid run.ranks=1,4,8 -set run.log_every=1 \
		-target "$TARGET_A" -choose-k "$KGRID" -k-linear
done

# (b) logistic regression with the nonconvex regulariser, top-1
GAMMAS=0.1,0.3,1,3,10
for ds in synthetic breast_cancer a1a; do
	# γ0 grid: K by doubling + bisection (assumes reaching the target is monotone in K)
	sweep "b/$ds-norm" -config "$P/b_${ds}_norm.toml" -grid stepsize.gamma0=$GAMMAS -set run.log_every=1 \
		-target "$TARGET_B" -choose-k "$KGRID"
	# γ0 = 1, the parameter-free choice: every K on the grid in order (no assumption)
	sweep "b/$ds-norm-g1" -config "$P/b_${ds}_norm.toml" -set run.log_every=1 \
		-target "$TARGET_B" -choose-k "$KGRID" -k-linear
	# EF21's step does not depend on K: a longer run repeats a shorter one, so bisection is exact
	sweep "b/$ds-ef21" -config "$P/b_${ds}_ef21.toml" -set run.log_every=1 \
		-target "$TARGET_B" -choose-k "$KGRID"
done

# (b, high accuracy) the same at ‖∇f‖² ≤ $TARGET_B2 (γ0 ∈ {0.3, 1}; rows every 10 iterations)
for ds in synthetic breast_cancer a1a; do
	sweep "b2/$ds-norm" -config "$P/b_${ds}_norm.toml" -grid stepsize.gamma0=0.3,1 \
		-target "$TARGET_B2" -choose-k "$KGRID"
	sweep "b2/$ds-ef21" -config "$P/b_${ds}_ef21.toml" -target "$TARGET_B2" -choose-k "$KGRID"
done

# (c) γ0 × K on the polynomial (n = 4)
sweep c -config "$P/a_poly_norm.toml" -grid stepsize.gamma0=0.01,0.1,1,10 \
	-grid run.iterations=500,1000,2000,5000,10000,20000,50000 -set run.log_every=1 -target "$TARGET_A"

# (d) stochastic gradients: ||EF21-SGDM|| vs EF21-SGDM vs ||SGDM|| vs ||EF21-SGD||
for ds in a1a mushrooms; do
	# ||EF21-SGDM|| also with a small γ0 grid; seeds 1, 2, 3 (seed varies fastest)
	sweep "d/$ds-norm_sgdm" -config "$P/d_${ds}_norm_sgdm.toml" -grid stepsize.gamma0=1,3,10,30 \
		-grid run.seed=1,2,3 -target "$TARGET_D"
	for m in sgdm norm_sgdm_identity norm_sgd; do
		sweep "d/$ds-$m" -config "$P/d_${ds}_$m.toml" -grid run.seed=1,2,3 -target "$TARGET_D"
	done
done

# (f) the neighbours: EF21-W, sign methods with majority vote, partial participation (configs/paper/f.sh)
f_sweeps
pool_run
pool_elapsed "$start" "reproduce: the sweeps took"
fi

echo "### the figures"
plot() { pool_add 1 "$1" "$EFMPI" plot -o "$@"; } # PNG ARGS...: queue `efmpi plot -o PNG ARGS...`
LABEL='{label}, {rule}' # method, compressor, step rule and γ0: the same in every row
plot "$FIG/a_polynomial.png" -rows n_ranks -dpi 110 -target "$TARGET_A" -color-by method -label "$LABEL" \
	-title "(a) Polynomial, d = 100, top-10: K = smallest multiple of 500 reaching ‖∇f‖² ≤ $TARGET_A" \
	-note "K is chosen per row (n) and method: the tables of EXPERIMENTS.md (a)." \
	"$OUT"/a/norm/point-00[0-9].h5 "$OUT"/a/ef21/point-00[0-9].h5

# (b) the best γ0 per dataset: smallest chosen K, then fewest iterations to target
best_file() { # prints "γ0 file" of the best point
	local csv=$1 k it f g
	k=$(col "$csv" run.iterations)
	it=$(col "$csv" iters_to_target)
	f=$(col "$csv" file)
	g=$(col "$csv" stepsize.gamma0)
	chosen "$csv" | awk -F, -v k="$k" -v it="$it" -v f="$f" -v g="$g" \
		'$it != "" { print $k, $it, $g, $f }' | sort -n -k1,1 -k2,2 | head -1 | cut -d' ' -f3,4
}
bfiles=()
for ds in synthetic breast_cancer a1a; do
	csv="$OUT/b/$ds-norm/sweep.csv"
	one="$OUT/b/$ds-norm-g1/point-000.h5"
	read -r bg best <<<"$(best_file "$csv")"
	echo "(b) $ds: best γ0 = $bg ($best)"
	bfiles+=("$OUT/b/$ds-ef21/point-000.h5" "$one")
	if [ -n "$best" ] && [ "$bg" != "1" ]; then bfiles+=("$best"); fi
done
plot "$FIG/b_logreg.png" -rows dataset -dpi 110 -target "$TARGET_B" -color-by method -style-by gamma0 -label "$LABEL" \
	-title "(b) Logistic regression, λ = 0.1, top-1: K = smallest multiple of 500 reaching ‖∇f‖² ≤ $TARGET_B" \
	-note "||EF21||: γ0 = 1 and, where it is another, the best γ0 of 0.1, 0.3, 1, 3, 10. K is chosen per dataset and method (EXPERIMENTS.md (b))." \
	"${bfiles[@]}"

plot "$FIG/c_gamma0_K_min_grad.png" -table "$OUT/c/sweep.csv" -x run.iterations -y min_grad_norm_sq \
	-by stepsize.gamma0 -logx -logy -dpi 110 -width 6.8 -target "$TARGET_A" \
	-title "(c) ||EF21|| top-10, polynomial, n = 4: smallest ‖∇f‖² within K iterations"
plot "$FIG/c_gamma0_K_iters.png" -table "$OUT/c/sweep.csv" -x run.iterations -y iters_to_target \
	-by stepsize.gamma0 -logx -logy -dpi 110 -width 6.8 \
	-title "(c) ||EF21|| top-10, polynomial, n = 4: iterations to ‖∇f‖² ≤ $TARGET_A"
# trajectories at K = 10000 (the fifth K): points 4, 11, 18, 25
plot "$FIG/c_trajectories_K10000.png" -dpi 110 -target "$TARGET_A" -color-by method -style-by gamma0 -label "$LABEL" \
	-title "(c) ||EF21|| top-10 on the polynomial, n = 4, K = 10000, γ = γ0/√(K+1)" \
	"$OUT"/c/point-004.h5 "$OUT"/c/point-011.h5 "$OUT"/c/point-018.h5 "$OUT"/c/point-025.h5

# (d) the best γ0 of ||EF21-SGDM||: lowest mean log10(smallest ‖∇f‖²) over the seeds; prints the γ0
best_gamma_d() {
	local csv=$1 g m
	g=$(col "$csv" stepsize.gamma0)
	m=$(col "$csv" min_grad_norm_sq)
	awk -F, -v g="$g" -v m="$m" 'NR > 1 { s[$g] += log($m); n[$g]++ }
		END { for (k in s) print s[k] / n[k], k }' "$csv" | sort -g | head -1 | cut -d' ' -f2
}
dfiles=()
for ds in a1a mushrooms; do
	g=$(best_gamma_d "$OUT/d/$ds-norm_sgdm/sweep.csv")
	echo "(d) $ds: best γ0 of ||EF21-SGDM|| = $g"
	# every seed of γ0 = 1 and of the best γ0 (the same when the best is 1)
	mapfile -t best < <(awk -F, -v g="$(col "$OUT/d/$ds-norm_sgdm/sweep.csv" stepsize.gamma0)" \
		-v f="$(col "$OUT/d/$ds-norm_sgdm/sweep.csv" file)" \
		-v want="$g" 'NR > 1 && ($g == want || $g == "1") { print $f }' "$OUT/d/$ds-norm_sgdm/sweep.csv")
	dfiles+=("${best[@]}")
	for m in sgdm norm_sgdm_identity norm_sgd; do dfiles+=("$OUT/d/$ds-$m"/point-00[0-2].h5); done
done
plot "$FIG/d_stochastic.png" -rows dataset -dpi 110 -target "$TARGET_D" -logbits -aggregate seed \
	-color-by method -label "$LABEL" \
	-title "(d) Stochastic methods, minibatch 32 per rank, eta-theory momentum, K = 50000, seeds 1–3" \
	-note "||EF21-SGDM||: γ0 = 1 and, where it is another, the best γ0 of 1, 3, 10, 30 (lowest mean log of the smallest ‖∇f‖² over the seeds)." \
	"${dfiles[@]}"

f_plots
pool_run
f_tables

echo "### tables → $OUT/tables.md"
{
	row() { # CSV LABEL: markdown rows of a sweep (the chosen K of each point with a K search)
		awk -F, -v label="$2" '
			NR == 1 { for (i = 1; i <= NF; i++) { c[$i] = i; h[i] = $i }; role = ("role" in c) ? c["role"] : 0; next }
			role && $role == "tried" { next }
			{
				params = ""
				for (i = 2; i < c["label"]; i++) if (i != role) params = params (params == "" ? "" : ", ") h[i] "=" $i
				it = $c["iters_to_target"]; bits = $c["bits_to_target"]
				if (it == "") { it = "never"; bits = "never" }
				k = $c["last_iteration"]; if (role && $role == "none") k = "none ≤ " k
				m = $c["label"]; gsub(/\|/, "\\|", m)
				printf "| %s | %s | %s | %s | %s | %s | %s | %s | %.3e | %.3e | %s |\n", label, m, $c["stepsize_rule"], $c["gamma0"], params, k, it, bits, $c["final_grad_norm_sq"], $c["min_grad_norm_sq"], $c["status"]
			}' "$1"
	}
	header() {
		echo
		echo "| run | method | step rule | γ0 | grid point | K | iterations to target | bits to target | final ‖∇f‖² | min ‖∇f‖² | status |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|"
	}
	echo "# Tables regenerated by configs/paper/reproduce.sh ($(date -u +%Y-%m-%dT%H:%MZ))"
	echo
	echo "Parameters: the grid values and, with a K search, the chosen run.iterations (K)."
	echo
	echo "## (a) polynomial, target ‖∇f‖² ≤ $TARGET_A"
	header
	for m in norm ef21; do row "$OUT/a/$m/sweep.csv" "a/$m"; done
	echo
	echo "## (b) logistic regression, target ‖∇f‖² ≤ $TARGET_B"
	for ds in synthetic breast_cancer a1a; do
		header
		row "$OUT/b/$ds-ef21/sweep.csv" "b/$ds-ef21"
		row "$OUT/b/$ds-norm-g1/sweep.csv" "b/$ds-norm-g1 (every K)"
		row "$OUT/b/$ds-norm/sweep.csv" "b/$ds-norm"
	done
	echo
	echo "## (b) at high accuracy, target ‖∇f‖² ≤ $TARGET_B2"
	header
	for ds in synthetic breast_cancer a1a; do
		row "$OUT/b2/$ds-ef21/sweep.csv" "b2/$ds-ef21"
		row "$OUT/b2/$ds-norm/sweep.csv" "b2/$ds-norm"
	done
	echo
	echo "## (c) γ0 × K, polynomial, n = 4, target ‖∇f‖² ≤ $TARGET_A"
	header
	row "$OUT/c/sweep.csv" "c"
	echo
	echo "## (d) stochastic methods, target ‖∇f‖² ≤ $TARGET_D"
	for ds in a1a mushrooms; do
		header
		for m in norm_sgdm sgdm norm_sgdm_identity norm_sgd; do row "$OUT/d/$ds-$m/sweep.csv" "d/$ds-$m"; done
	done
} >"$OUT/tables.md"

echo "reproduce: figures in $FIG, tables in $OUT/tables.md and $OUT/f/tables.md"
pool_elapsed "$start" "reproduce: done in"
