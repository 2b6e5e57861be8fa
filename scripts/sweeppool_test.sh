#!/bin/bash
# Checks scripts/sweeppool.sh with toy jobs (no efmpi needed):
#   - jobs start in decreasing COST (ties in queue order), PAR at a time, never more;
#   - each job sees GOMAXPROCS = CORES / PAR;
#   - a failing job makes pool_run return 1 after every other job has run, and
#     its failure is reported by name; a job's output is printed in one piece;
#   - pool_sweep's sweep_job stops at a failing efmpi (its exit status, no sweep.log).
# Run: bash scripts/sweeppool_test.sh (prints "sweeppool_test: ok", exit 0; else exit 1).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "sweeppool_test: FAIL: $*" >&2
	exit 1
}

# job NAME: logs "start NAME GOMAXPROCS" and "end NAME", waits for the
# others to start (so that concurrency shows), and counts how many run at once
job() {
	local name=$1 n
	echo "start $name $GOMAXPROCS" >>"$tmp/log"
	mkdir "$tmp/running.$name"
	n=$(find "$tmp" -maxdepth 1 -name 'running.*' | wc -l)
	echo "$n" >>"$tmp/concurrent"
	sleep 0.3
	rmdir "$tmp/running.$name"
	echo "line 1 of $name"
	echo "line 2 of $name"
	echo "end $name" >>"$tmp/log"
}
bad() {
	echo "bad ran" >>"$tmp/log"
	return 3
}

out=$(
	CORES=4 PAR=2
	source scripts/sweeppool.sh
	pool_add 1 small job small
	pool_add 5 big job big
	pool_add 3 mid job mid
	pool_add 3 mid2 job mid2
	pool_add 0.5 bad bad
	pool_add 2 two job two
	if pool_run 2>"$tmp/err"; then echo "pool_run: 0"; else echo "pool_run: $?"; fi
)
grep -qx "pool_run: 1" <<<"$out" || fail "pool_run with a failing job: want status 1, got: $(tail -1 <<<"$out")"
grep -q "1 job(s) failed: bad" "$tmp/err" || fail "failure not named: $(cat "$tmp/err")"
# PAR=2: the first two start together, so only the set of the first two is certain
first=$(grep '^start' "$tmp/log" | head -2 | awk '{print $2}' | sort | tr '\n' ' ')
[ "$first" = "big mid " ] || fail "first two jobs: want 'big mid ', got '$first'"
[ "$(grep -c '^end' "$tmp/log")" = 5 ] || fail "not every job ended: $(cat "$tmp/log")"
max=$(sort -n "$tmp/concurrent" | tail -1)
[ "$max" -le 2 ] || fail "more than PAR=2 jobs at once ($max)"
[ "$max" -eq 2 ] || fail "never 2 jobs at once with PAR=2"
if grep '^start' "$tmp/log" | grep -qv ' 2$'; then fail "GOMAXPROCS is not CORES/PAR=2: $(grep '^start' "$tmp/log")"; fi
# PAR=1: the order is decreasing COST, ties in queue order
rm -f "$tmp/log"
(
	PAR=1
	source scripts/sweeppool.sh
	pool_add 1 small job small
	pool_add 5 big job big
	pool_add 3 mid job mid
	pool_add 3 mid2 job mid2
	pool_add 0.5 bad bad
	pool_add 2 two job two
	pool_run || true
) >/dev/null 2>&1
starts=$(grep '^start\|^bad' "$tmp/log" | awk '{print $1 == "bad" ? "bad" : $2}' | tr '\n' ' ')
[ "$starts" = "big mid mid2 two small bad " ] || fail "start order: want 'big mid mid2 two small bad ', got '$starts'"
if grep '^start' "$tmp/log" | grep -qv " $(nproc)\$"; then fail "PAR=1: GOMAXPROCS is not nproc: $(grep '^start' "$tmp/log")"; fi

# the output of a job comes in one piece, followed by its timing line
grep -A2 -x "line 1 of big" <<<"$out" | tr '\n' '|' | grep -q '^line 1 of big|line 2 of big|-- big: .* s wall, .* s CPU|$' ||
	fail "output of big not in one piece: $out"

# sweep_job: a failing efmpi fails the job and leaves no sweep.log
cat >"$tmp/fake-efmpi" <<'EOF'
#!/bin/bash
echo "fake sweep $*"
exit 7
EOF
chmod +x "$tmp/fake-efmpi"
rc=0
(
	EFMPI=$tmp/fake-efmpi
	source scripts/sweeppool.sh
	pool_sweep 1 "$tmp/sw" -config x.toml
	pool_run
) >"$tmp/sw.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "pool_run with a failing sweep: want status 1, got $rc"
grep -q "FAILED (exit 7)" "$tmp/sw.out" || fail "sweep's exit status not reported: $(cat "$tmp/sw.out")"
[ ! -e "$tmp/sw/sweep.log" ] || fail "a failed sweep left sweep.log"
grep -q -- "fake sweep sweep -config x.toml -jobs 0 -out $tmp/sw -quiet -overwrite" "$tmp/sw.out" ||
	fail "sweep arguments: $(cat "$tmp/sw.out")"
echo "sweeppool_test: ok"
