#!/usr/bin/env bash
# make check: unit tests on the host, then the integration tests that boot
# real guests (on /dev/kvm or inside the nested runner). Prints one closing
# line "N passed, N failed" over both.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
tests/unit.sh "$@" | tee "$log"
tests/tools.sh 2>&1 | tee -a "$log"
tests/hardening.sh "${BUILD:-build}" 2>&1 | tee -a "$log"
tests/fuzz.sh "${BUILD:-build}" 2>&1 | tee -a "$log"
# The integration suite runs in CHECK_PARTS pieces (run.sh's PART), each in
# its own nested VM. The outer VM of the nested runner has been seen to
# freeze (status 125: "stalled", "ran past" or "did not come up"): that is
# the runner failing, not a test, so that piece gets up to three more tries;
# a freeze then costs one piece, not the suite. A hung guest is caught
# inside by run.sh's timeout. A piece that never printed its summary counts
# as a failure; the closing "integration:" line is the sum.
parts=${CHECK_PARTS:-6}
int_passed=0 int_failed=0
for k in $(seq 0 $((parts - 1))); do
	summary=
	for try in 1 2 3 4; do
		plog=$(mktemp)
		NESTED_TIMEOUT=${NESTED_TIMEOUT:-1800} tools/kvm-env tests/integration/run.sh "" "$k/$parts" 2>&1 |
			tee "$plog" | grep -v '^integration: [0-9]* passed' | tee -a "$log"
		rc=${PIPESTATUS[0]}
		summary=$(sed -n 's/^integration: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$plog" | tail -n 1)
		rm -f "$plog"
		[ -n "$summary" ] && break
		[ "$rc" -eq 125 ] && [ "$try" -lt 4 ] || break
		echo "check: the nested runner failed, not a test; integration part $k/$parts once more"
	done
	if [ -n "$summary" ]; then
		echo "check: integration part $k/$parts: ${summary% *} passed, ${summary#* } failed" | tee -a "$log"
		int_passed=$((int_passed + ${summary% *}))
		int_failed=$((int_failed + ${summary#* }))
	else
		echo "check: integration part $k/$parts did not finish" | tee -a "$log"
		int_failed=$((int_failed + 1))
	fi
done
echo "integration: $int_passed passed, $int_failed failed" | tee -a "$log"
# The boot and virtio tests again with an ASan/UBSan build of mote, and the
# unit tests built with the sanitizers (tests/sanitize.sh).
tests/sanitize.sh "${BUILD:-build}" all 2>&1 | tee -a "$log"
count() { sed -n "s/^$1: \([0-9]*\) passed, \([0-9]*\) failed.*/\\$2/p" "$log" | tail -n 1; }
passed=0 failed=0
for suite in unit tools hardening fuzz integration sanitize-unit sanitize-integration; do
	p=$(count $suite 1) f=$(count $suite 2)
	# A suite that printed no summary did not run: count it as a failure.
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-1}))
done
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
