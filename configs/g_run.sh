#!/bin/sh
# Experiment (g) of issue 24 (EXPERIMENTS.md): every method with its
# parameter-agnostic schedule on a1a (T = 10^5, a row every 10 iterations) and
# mushrooms (T = 10^5, a row every 50), 3 seeds each. One run of length T
# gives min_{t ≤ T'} ‖∇f(x^t)‖ for every T' ≤ T (over the recorded rows).
# Usage: configs/g_run.sh [efmpi binary] [output dir]
set -eu
EFMPI=${1:-efmpi}
case $EFMPI in */*) EFMPI=$(cd "$(dirname "$EFMPI")" && pwd)/$(basename "$EFMPI") ;; esac
mkdir -p "${2:-results/g}"
OUT=$(cd "${2:-results/g}" && pwd)
cd "$(dirname "$0")"
# method  p (γ_t = γ0/(t+1)^p; η_t = (2/(t+2))^q with the method's default q)
for ds in a1a mushrooms; do
	case $ds in a1a) T=100000 LOG=10 ;; mushrooms) T=100000 LOG=50 ;; esac
	for seed in 1 2 3; do
		for mp in ef21-sgdm:0.75 ef21-igt:0.7142857142857143 ef21-storm:0.6666666666666666 ef21-hm:0.6666666666666666 ef21-rhm:0.6666666666666666; do
			m=${mp%%:*} p=${mp#*:}
			[ -f "$OUT/${ds}_${m}_s$seed.h5" ] && continue # done already (rerun: delete it)
			"$EFMPI" run -config g_$ds.toml -quiet -overwrite -set algorithm.method=$m -set stepsize.p=$p \
				-set run.seed=$seed -set run.iterations=$T -set run.log_every=$LOG -out "$OUT/${ds}_${m}_s$seed.h5"
		done
		# control: heavy-ball with the STORM/HM schedule (p = q = 2/3), to separate
		# the momentum from the schedule
		f="$OUT/${ds}_ef21-sgdm-q23_s$seed.h5"
		[ -f "$f" ] || "$EFMPI" run -config g_$ds.toml -quiet -overwrite -set stepsize.p=0.6666666666666666 \
			-set algorithm.eta_q=0.6666666666666666 -set run.seed=$seed -set run.iterations=$T -set run.log_every=$LOG -out "$f"
		# EControl (not parameter-agnostic: constant γ and η = 0.1, the code's
		# preset η); a diverged run is a result, recorded as such
		[ -f "$OUT/${ds}_econtrol_s$seed.h5" ] && continue
		"$EFMPI" run -config g_${ds}_econtrol.toml -quiet -overwrite \
			-set run.seed=$seed -set run.iterations=$T -set run.log_every=$LOG -out "$OUT/${ds}_econtrol_s$seed.h5" || true
	done
done
# the figures of EXPERIMENTS.md (g) (the control runs are in the tables only),
# and the tables
for ds in a1a mushrooms; do
	"$EFMPI" plot -o "$OUT/g_$ds.png" -x both -aggregate seed -logbits \
		-title "(g) $ds, top-1, 8 workers, batch 8" $(ls "$OUT"/${ds}_*.h5 | grep -v q23)
done
PY=${PYTHON:-python3}
"$PY" -c "import h5py" 2>/dev/null || PY=/usr/bin/python3 # needs h5py and numpy
"$PY" g_analyse.py "$OUT" 0.01 0.01
"$PY" g_analyse.py "$OUT" 0.003 0.002
