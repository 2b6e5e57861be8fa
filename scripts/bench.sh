#!/bin/bash
# make bench: the hot-path benchmarks and the growth curves of the README,
# each printed next to the bound it is compared with, all measured in this
# run. Environment: GO (default go), COUNT (passes over the suite, default 3;
# the tables show medians), BENCHTIME (hot paths, default 1s),
# The raw `go test -bench` output is kept in bench.out (BENCH_OUT);
# BENCH_REPORT_ONLY=1 prints the tables of an existing one without running.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
COUNT=${COUNT:-3}
BENCHTIME=${BENCHTIME:-1s}
raw=${BENCH_OUT:-bench.out}
bench() { # PKG PATTERN BENCHTIME
	echo "== pass $pass/$COUNT: go test -bench '$2' -benchtime $3 $1" >&2
	"$GO" test -run '^$' -bench "$2" -benchtime "$3" -count 1 "$1" | tee -a "$raw" | grep -E '^(Benchmark|ok|FAIL)' >&2
}
# COUNT passes over the whole suite (rather than -count, which repeats each
# benchmark back to back), so that a benchmark and its bound are measured
# close together in every pass; ratios are taken per pass, then the median.
[ -n "${BENCH_REPORT_ONLY:-}" ] || : >"$raw"
for pass in $(seq "$COUNT"); do
	[ -z "${BENCH_REPORT_ONLY:-}" ] || break
	bench ./problems 'LogRegGrad|StreamSum|ValueGrad|ValueCached|LambdaMax' "$BENCHTIME"
	bench ./algorithms 'TopKGrowth|TopKInterleaved|StreamRead1e6|EF21IterationA9AN20' "$BENCHTIME"
	bench ./algorithms 'Growth(Dense|Sparse|K)$' 20x
	bench ./driver 'GrowthRanks|A9ARanks20' 1x
	bench ./collective '.' "$BENCHTIME"
done

echo
echo "# efmpi benchmarks, $(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $("$GO" version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Times: the median over $COUNT passes; ratios: the median of the per-pass ratios."
awk '
function median(name,   n, i, j, t, a) {
	n = cnt[name]
	for (i = 1; i <= n; i++) a[i] = val[name, i]
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j] < a[j-1]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return a[int((n + 1) / 2)]
}
# the median over passes of arr[name, pass]
function med(arr, name,   n, i, j, t, a) {
	n = cnt[name]
	for (i = 1; i <= n; i++) a[i] = arr[name, i]
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j] < a[j-1]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return a[int((n + 1) / 2)]
}
# the median over passes of the per-pass ratio name/bound
function ratio(name, bound,   n, i, j, t, a) {
	n = (cnt[name] < cnt[bound]) ? cnt[name] : cnt[bound]
	for (i = 1; i <= n; i++) a[i] = val[name, i] / val[bound, i]
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j] < a[j-1]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return a[int((n + 1) / 2)]
}
function fmt(ns) {
	if (ns == "") return "—"
	if (ns >= 1e9) return sprintf("%.2f s", ns / 1e9)
	if (ns >= 1e6) return sprintf("%.2f ms", ns / 1e6)
	if (ns >= 1e3) return sprintf("%.1f µs", ns / 1e3)
	return sprintf("%.0f ns", ns)
}
function has(name) { return (name in cnt) }
function m(name) { return has(name) ? median(name) : "" }
function row(label, x, name, bound,   a, b) {
	if (!has(name)) return
	a = m(name); b = m(bound)
	printf "| %s | %s | %s | %s | %s |\n", label, x, fmt(a), fmt(b), (b == "" ? "—" : sprintf("%.2f×", ratio(name, bound)))
}
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	v = ""
	for (i = 3; i < NF; i++) if ($(i+1) == "ns/iter") v = $i
	if (v == "") for (i = 3; i < NF; i++) if ($(i+1) == "ns/op") { v = $i; break }
	cnt[name]++; val[name, cnt[name]] = v
	for (i = 3; i < NF; i++) {
		if ($(i+1) == "now/before") ab[name, cnt[name]] = $i
		if ($(i+1) == "ns/now") abn[name, cnt[name]] = $i
		if ($(i+1) == "ns/before") abb[name, cnt[name]] = $i
		if ($(i+1) == "ns/bound") { bnd[name, cnt[name]] = $i; val[name "/bound", cnt[name]] = $i; cnt[name "/bound"] = cnt[name] }
	}
	if (!(name in seen)) { seen[name] = 1; order[++norder] = name }
}
END {
	print ""
	print "## Hot paths"
	print ""
	print "| what | size | time/op | compared with | ratio |"
	print "|---|---|---|---|---|"
	row("logistic gradient, a9a (CSR, 0/1 values) vs streaming the CSR arrays", "451 592 nnz", "BenchmarkLogRegGradA9A", "BenchmarkStreamSumA9A")
	row("logistic gradient, a9a, values read (general kernel) vs streaming", "451 592 nnz", "BenchmarkLogRegGradA9AValued", "BenchmarkStreamSumA9A")
	row("logistic gradient, dense vs streaming the matrix", "16000 × 100", "BenchmarkLogRegGradDense", "BenchmarkStreamSumDense")
	row("f_i and ∇f_i (metric row), fused vs before issue 12 (gradient + second pass)", "a9a", "BenchmarkLogRegValueGradA9A", "BenchmarkLogRegValueGradA9ABefore")
	row("f_i after Grad (cached margins) vs the same sum with math.Log1p", "a9a", "BenchmarkLogRegValueCachedA9A/log1pUnit", "BenchmarkLogRegValueCachedA9A/library")
	row("EF21 iteration, reference loop, a9a, n = 20, top-1 vs one a9a gradient", "a9a", "BenchmarkEF21IterationA9AN20", "BenchmarkLogRegGradA9A")
	row("λ_max(AᵀA) by Lanczos", "a9a", "BenchmarkLambdaMaxA9A", "")
	row("EF21 top-1, 20 in-process ranks, a row every iteration vs the gradients alone on the cores", "a9a, 3000 its", "BenchmarkA9ARanks20/log_every=1", "BenchmarkA9ARanks20/log_every=1/bound")
	row("the same, a row every 100 iterations vs the gradients alone on the cores", "a9a, 3000 its", "BenchmarkA9ARanks20/log_every=100", "BenchmarkA9ARanks20/log_every=100/bound")
	row("the same, log_every 1 vs log_every 100 (the cost of recording every row)", "a9a, 3000 its", "BenchmarkA9ARanks20/log_every=1", "BenchmarkA9ARanks20/log_every=100")
	print ""
	print "## Growth curves (time per iteration, and its bound)"
	print ""
	print "| curve | x | time | bound | ratio |"
	print "|---|---|---|---|---|"
	for (i = 1; i <= norder; i++) {
		name = order[i]
		if (name ~ /\/bound$/) continue
		if (name ~ /^BenchmarkGrowthRanks\/n=/) { x = name; sub(/.*\//, "", x); row("n in-process ranks, a9a, ||EF21|| top-1 (bound: one a9a gradient, 1 core, timed around the run)", x, name, name "/bound") }
		else if (name ~ /^BenchmarkGrowthK\//) { x = name; sub(/.*\//, "", x); row("k of top-k, 20000 × 10⁵ CSR, n = 4 (bound: the same iteration at k = 1)", x, name, name "/bound") }
		else if (name ~ /^BenchmarkGrowthDense\//) { x = name; sub(/.*\//, "", x); row("d, dense 2000 × d, n = 4, top-1 (bound: streaming the matrix)", x, name, name "/bound") }
		else if (name ~ /^BenchmarkGrowthSparse\//) { x = name; sub(/.*\//, "", x); row("d, CSR 20000 × d, 16 nnz/row, n = 4, top-1 (bound: streaming the CSR arrays)", x, name, name "/bound") }
		else if (name ~ /^BenchmarkTopKGrowth\//) { x = name; sub(/^BenchmarkTopKGrowth\//, "", x); row("top-k alone, d = 10⁶ (bound: streaming v, 8 MB)", x, name, "BenchmarkStreamRead1e6") }
	}
	print ""
	print "## Before and after issue 12, timed call by call alternately (the same load for both)"
	print ""
	print "| what | now | before | now/before |"
	print "|---|---|---|---|"
	for (i = 1; i <= norder; i++) {
		name = order[i]
		if (name !~ /Interleaved/) continue
		x = name; sub(/^Benchmark/, "", x)
		printf "| %s | %s | %s | %.3f× |\n", x, fmt(med(abn, name)), fmt(med(abb, name)), med(ab, name)
	}
}' "$raw"
