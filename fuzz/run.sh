#!/bin/bash
# fuzz/run.sh - run each libFuzzer target for a bounded time.
#
#   fuzz/run.sh BUILD_DIR SECONDS OUT_DIR [TARGET...]
#
# Without TARGET, every fuzz/fuzz_TARGET.c.
# Each target starts from its committed seed corpus fuzz/corpus/TARGET
# (read, never written) and keeps what it finds in OUT_DIR/TARGET/corpus;
# a crash, a leak, a sanitizer report or a broken property leaves its
# input in OUT_DIR/TARGET/ and makes a FAIL line.  Prints "PASS fuzz
# TARGET: N runs in S s" or "FAIL fuzz TARGET: why" per target; exits 1
# when any failed.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
build=$1 seconds=$2 out=$3
shift 3
targets=("$@")
if ((${#targets[@]} == 0)); then
	for f in fuzz/fuzz_*.c; do
		f=${f#fuzz/fuzz_}
		targets+=("${f%.c}")
	done
fi
failed=0
for t in "${targets[@]}"; do
	bin=$build/fuzz_$t seeds=fuzz/corpus/$t dir=$out/$t
	if [[ ! -x $bin ]]; then
		echo "FAIL fuzz $t: $bin not built (make fuzzers)"
		failed=1
		continue
	fi
	mkdir -p "$dir/corpus"
	# -timeout: one input taking over 10 s is a hang; -rss_limit_mb keeps
	# the run inside a small machine's memory.
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
		-artifact_prefix="$dir/" "$dir/corpus" "$seeds" >"$dir/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
	if ((rc == 0)) && [[ -n $runs ]]; then
		echo "PASS fuzz $t: ${runs} runs in ${seconds} s, nothing found"
	else
		why=$(grep -m1 -E 'ERROR|property broken|runtime error|Assertion' "$dir/log")
		echo "FAIL fuzz $t: exit $rc: ${why:-see $dir/log}; input kept in $dir/"
		tail -n 30 "$dir/log"
		failed=1
	fi
done
exit $failed
