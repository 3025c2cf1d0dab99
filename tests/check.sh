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
# The outer VM of the nested runner has been seen to freeze (status 125:
# "stalled", "ran past" or "did not come up"): that is the runner failing, not a test,
# so it gets one more try. A hung guest is caught inside by run.sh's timeout.
integration() {
	NESTED_TIMEOUT=${NESTED_TIMEOUT:-3000} tools/kvm-env tests/integration/run.sh 2>&1 | tee -a "$log"
	return "${PIPESTATUS[0]}"
}
integration
if [ $? -eq 125 ]; then
	echo "check: the nested runner failed, not a test; trying the integration tests once more"
	integration
fi
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
