# shellcheck shell=bash
# scripts/sweeppool.sh — run many independent efmpi sweeps (or any commands) a
# few at a time on the machine's cores. Sourced by configs/paper/reproduce.sh
# and configs/paper/f.sh; needs bash ≥ 5.1 (wait -n -p).
#
#   pool_add COST NAME CMD [ARG...]   queue CMD (a command or shell function) as NAME;
#                                     COST is its expected CPU seconds, used only to order the queue
#   pool_sweep COST DIR SWEEP-ARGS... queue `efmpi sweep SWEEP-ARGS -jobs $JOBS -out DIR -quiet -overwrite`
#                                     in a fresh DIR, its printed summary kept as DIR/sweep.log
#   pool_run                          run the queue and empty it
#
# pool_run starts the jobs in decreasing COST (longest first, so that the jobs
# still running at the end are short ones), PAR at a time, each with
# GOMAXPROCS = CORES / PAR (at least 1). It prints a job's output in one piece
# when the job ends, followed by its wall and CPU seconds, and returns 1 once
# every job has ended if any of them failed. Jobs are separate processes, so
# what each writes is the same whatever PAR is, and so is every run file: a run's
# trajectory does not depend on GOMAXPROCS or on what runs beside it.
#
# Environment: CORES (default: nproc), PAR (jobs at once, default CORES),
# EFMPI (the binary, default bin/efmpi), JOBS (grid points at once inside one
# sweep, `efmpi sweep -jobs`; default 0: as many as fit the job's GOMAXPROCS
# given each point's ranks — with PAR = CORES that is one point at a time).

CORES=${CORES:-$(nproc)}
PAR=${PAR:-$CORES}
JOBS=${JOBS:-0}
EFMPI=${EFMPI:-bin/efmpi}
if ((PAR < 1 || CORES < 1)); then
	echo "sweeppool: want CORES ≥ 1 and PAR ≥ 1 (have CORES=$CORES PAR=$PAR)" >&2
	exit 2
fi
_pool_cost=()
_pool_name=()
_pool_cmd=()

pool_add() { # COST NAME CMD [ARG...]
	local cost=$1 name=$2
	shift 2
	_pool_cost+=("$cost")
	_pool_name+=("$name")
	_pool_cmd+=("$(printf '%q ' "$@")")
}

# sweep_job DIR ARGS...: one efmpi sweep into a fresh DIR, its summary kept in
# DIR/sweep.log. Checks every step itself (a job runs under set -e only where
# pool_run is not called from a condition, which switches -e off).
sweep_job() {
	local dir=$1 rc
	shift
	rm -rf "$dir" && mkdir -p "$dir" || return
	echo "== efmpi sweep $* -jobs $JOBS -out $dir"
	# -overwrite: the log below already sits in the folder when the sweep starts
	"$EFMPI" sweep "$@" -jobs "$JOBS" -out "$dir" -quiet -overwrite | tee "$dir/sweep.log.tmp"
	rc=${PIPESTATUS[0]}
	((rc == 0)) || return "$rc"
	mv "$dir/sweep.log.tmp" "$dir/sweep.log"
}

pool_sweep() { # COST DIR ARGS...
	local cost=$1 dir=$2
	shift 2
	pool_add "$cost" "$dir" sweep_job "$dir" "$@"
}

# _pool_secs "XmY.YYYs": seconds
_pool_secs() { awk -v t="$1" 'BEGIN { split(t, a, "m"); sub("s", "", a[2]); printf "%.2f", a[1] * 60 + a[2] }'; }

# pool_run's variables start with _p_: a job's shell functions see them
# (bash scopes dynamically), so plain names such as tmp or i would shadow theirs
pool_run() {
	local _p_tmp _p_order _p_i _p_rc _p_running=0 _p_next=0 _p_n _p_failed=() _p_cpu _p_wall _p_u _p_s _p_fd _p_gmp
	local -a _p_pid _p_start
	_p_tmp=$(mktemp -d)
	# every job ends by writing "INDEX STATUS" to this FIFO, which the loop
	# below reads (more robust than `wait -n`, which loses a job that ended
	# while the shell ran a command substitution)
	mkfifo "$_p_tmp/done"
	exec {_p_fd}<>"$_p_tmp/done"
	mapfile -t _p_order < <(for _p_i in "${!_pool_cost[@]}"; do printf '%s\t%d\n' "${_pool_cost[_p_i]}" "$_p_i"; done |
		sort -t $'\t' -k1,1gr -k2,2n | cut -f2)
	_p_n=${#_p_order[@]}
	_p_gmp=$((CORES / PAR))
	((_p_gmp >= 1)) || _p_gmp=1
	while ((_p_next < _p_n || _p_running > 0)); do
		while ((_p_next < _p_n && _p_running < PAR)); do
			_p_i=${_p_order[_p_next]}
			_p_next=$((_p_next + 1))
			_p_start[_p_i]=$EPOCHREALTIME
			(
				set +e
				export GOMAXPROCS=$_p_gmp
				(
					set -euo pipefail
					eval "${_pool_cmd[_p_i]}"
				) >"$_p_tmp/$_p_i.out" 2>&1 {_p_fd}>&-
				_p_rc=$?
				# CPU seconds of this job's processes (user + system); not in a
				# pipe or $(…), whose fork would count nothing
				times >"$_p_tmp/$_p_i.times"
				echo "$_p_i $_p_rc" >&"$_p_fd"
			) &
			_p_pid[_p_i]=$!
			_p_running=$((_p_running + 1))
		done
		read -r -u "$_p_fd" _p_i _p_rc
		wait "${_p_pid[_p_i]}" || true
		_p_running=$((_p_running - 1))
		_p_wall=$(awk -v a="${_p_start[_p_i]}" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
		_p_cpu=?
		if [ -s "$_p_tmp/$_p_i.times" ]; then
			read -r _p_u _p_s < <(tail -1 "$_p_tmp/$_p_i.times")
			_p_cpu=$(awk -v u="$(_pool_secs "$_p_u")" -v s="$(_pool_secs "$_p_s")" 'BEGIN { printf "%.1f", u + s }')
		fi
		cat "$_p_tmp/$_p_i.out"
		if ((_p_rc == 0)); then
			echo "-- ${_pool_name[_p_i]}: $_p_wall s wall, $_p_cpu s CPU"
		else
			echo "-- ${_pool_name[_p_i]}: FAILED (exit $_p_rc) after $_p_wall s" >&2
			_p_failed+=("${_pool_name[_p_i]}")
		fi
	done
	exec {_p_fd}>&-
	rm -rf "$_p_tmp"
	_pool_cost=()
	_pool_name=()
	_pool_cmd=()
	if ((${#_p_failed[@]} > 0)); then
		echo "sweeppool: ${#_p_failed[@]} job(s) failed: ${_p_failed[*]}" >&2
		return 1
	fi
}

# pool_elapsed START TEXT: prints "TEXT W s wall (M min), C s CPU" for the time
# since START ($EPOCHREALTIME), C being the CPU seconds of this shell and of
# every process it waited for. Call it directly, not in $(…) or a pipe: a
# forked shell has no children to count.
pool_elapsed() {
	local u s cu cs f
	f=$(mktemp)
	times >"$f"
	{
		read -r u s
		read -r cu cs
	} <"$f"
	rm -f "$f"
	awk -v a="$1" -v b="$EPOCHREALTIME" -v c="$(_pool_secs "$u")" -v d="$(_pool_secs "$s")" \
		-v e="$(_pool_secs "$cu")" -v f="$(_pool_secs "$cs")" -v text="$2" \
		'BEGIN { printf "%s %.0f s wall (%.1f min), %.0f s CPU\n", text, b - a, (b - a) / 60, c + d + e + f }'
}
