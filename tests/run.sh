#!/bin/bash
# run.sh - run every test of pam_portal and count the results.
#
#   unit tests       build/tests/unit_*  and  build/san/tests/unit_*
#   end to end       tests/test_*.py with BUILD=build and BUILD=build/san;
#                    tests/test_e2e_*.py (real sshd, login, su) with build
#                    only: an ASan module cannot load into those programs;
#                    tests/test_makefile.py once (it builds on its own)
#   valgrind         one whole pending flow, pamconv (and so the module)
#                    under valgrind, with the normal build
#   fuzz smoke       each libFuzzer target of fuzz/ for FUZZ_SMOKE seconds (3)
#
# Every test program prints "PASS name" / "FAIL name: why" lines.  A
# program that exits non-zero without a FAIL line (a crash, a sanitizer
# abort, a valgrind error) counts as one FAIL under its own name; so does
# one that prints no result at all.  Failures do not stop the run; they
# are repeated at the end, and the last line is "N passed, N failed".
#
# Expects the programs built (make check builds them first).
# JOBS=N runs N end-to-end suites at once (default 2; they share nothing).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
JOBS=${JOBS:-2}
PYTHON=/usr/bin/python3
LIMIT=900                 # seconds any one test program may take
OUT=$(mktemp -d "${TMPDIR:-/tmp}/portal-check.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
: >"$OUT/results"

export ASAN_OPTIONS=abort_on_error=1:halt_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1

# Show a finished program's output and turn its exit status into a FAIL
# line when it did not explain itself.  $1 name, $2 output file, $3 status.
settle() {
	local name=$1 out=$2 rc=$3
	cat "$out"
	if ((rc != 0)) && ! grep -q '^FAIL ' "$out"; then
		echo "FAIL $name: exited with status $rc without a FAIL line (crash, sanitizer or valgrind error)" |
			tee -a "$out"
	elif ! grep -q -E '^(PASS|FAIL) ' "$out"; then
		echo "FAIL $name: printed no result" | tee -a "$out"
	fi
	grep -E '^(PASS|FAIL) ' "$out" | sed -E "s#^(PASS|FAIL) #&[$name] #" >>"$OUT/results"
}

# Run one program now.  $1 name, then the command.
run_one() {
	local name=$1 out="$OUT/$(echo "$1" | tr '/ ' '__').out" rc
	shift
	echo "=== $name"
	timeout -k 10 "$LIMIT" "$@" >"$out" 2>&1
	rc=$?
	settle "$name" "$out" "$rc"
}

# ---- unit tests ------------------------------------------------------------
for build in build build/san; do
	found=0
	for t in "$build"/tests/unit_*; do
		[[ -x $t ]] || continue
		found=1
		run_one "$t" "$t"
	done
	((found)) || echo "FAIL [$build] unit tests: none built in $build/tests" | tee -a "$OUT/results"
done

# ---- end-to-end suites, JOBS at a time ---------------------------------------
# Each writes to its own file; outputs are shown in a stable order once
# everything has finished, so parallel runs never interleave.
suites=()
for build in build build/san; do
	for t in tests/test_*.py; do
		[[ $build == build/san && $t == tests/test_e2e_* ]] && continue
		# It builds in a folder of its own: the same whatever $BUILD is.
		[[ $build == build/san && $t == tests/test_makefile.py ]] && continue
		suites+=("$build $t")
	done
done

running=0
for i in "${!suites[@]}"; do
	read -r build t <<<"${suites[$i]}"
	(
		BUILD=$build timeout -k 10 "$LIMIT" "$PYTHON" "$t" >"$OUT/suite$i.out" 2>&1
		echo $? >"$OUT/suite$i.rc"
	) &
	running=$((running + 1))
	if ((running >= JOBS)); then
		wait -n
		running=$((running - 1))
	fi
done
wait
for i in "${!suites[@]}"; do
	read -r build t <<<"${suites[$i]}"
	echo "=== $t ($build)"
	settle "$t ($build)" "$OUT/suite$i.out" "$(cat "$OUT/suite$i.rc" 2>/dev/null || echo 99)"
done

# ---- valgrind ----------------------------------------------------------------
# pamconv loads pam_portal.so through libpam: memory errors or leaks in the
# module fail the flow (VALGRIND makes portaltest.py wrap pamconv).
if command -v valgrind >/dev/null; then
	run_one "valgrind: pending flow" env BUILD=build VALGRIND=1 \
		"$PYTHON" tests/test_flow.py pending_flow_then_password
else
	echo "FAIL valgrind: not installed (make deps)" | tee -a "$OUT/results"
fi

# ---- fuzz smoke ----------------------------------------------------------------
# Each libFuzzer target a few seconds from its seed corpus (make fuzz runs
# them longer); build/fuzz is built by make check.
run_one "fuzz smoke" bash fuzz/run.sh build/fuzz "${FUZZ_SMOKE:-3}" "$OUT/fuzz"

# ---- summary -------------------------------------------------------------------
passed=$(grep -c '^PASS ' "$OUT/results" 2>/dev/null)
failed=$(grep -c '^FAIL ' "$OUT/results" 2>/dev/null)
echo
if ((failed > 0)); then
	echo "Failures:"
	grep '^FAIL ' "$OUT/results"
	echo
fi
echo "$passed passed, $failed failed"
((failed == 0))
