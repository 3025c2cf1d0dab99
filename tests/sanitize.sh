#!/usr/bin/env bash
# Sanitizer runs: builds mote, its cmocka unit tests and the integration
# helpers with AddressSanitizer and UBSan into BUILD/asan (make SANITIZE=1,
# mk/sanitize.mk), then runs
#   unit         every unit test: closing line "sanitize-unit: N passed, N failed"
#   integration  the integration tests that boot real guests (PVH and bzImage,
#                128M and 1G, several vCPUs, ACPI poweroff, the memfd backend,
#                the virtio balloon, SIGTERM, a KVM internal error) against
#                the ASan mote, through tools/kvm-env (nested where this host
#                has no usable KVM): "sanitize-integration: N passed, N failed"
#   all          both (the default)
# Any sanitizer report, or a leak, fails the test it happens in.
# Usage: tests/sanitize.sh [BUILD] [unit|integration|all]   (default: build all)
# Environment: SANITIZE_TESTS, an extglob of integration test names to run
# instead (run.sh's first argument); ASAN_OPTIONS, UBSAN_OPTIONS replace the
# defaults of mk/sanitize.mk; LSAN_OPTIONS (e.g. suppressions=FILE) is passed on.
set -u
cd "$(dirname "$0")/.." || exit 2
base=${1:-build}
base=${base%/}
base=${base%/asan}
what=${2:-all}
asan=$base/asan
make=${MAKE:-make}
case $what in unit | integration | all) ;; *)
	echo "usage: tests/sanitize.sh [BUILD] [unit|integration|all]" >&2
	exit 2
	;;
esac

# The options: mk/sanitize.mk's, unless the environment sets them.
while IFS= read -r line; do
	case $line in
	ASAN_OPTIONS=*) : "${ASAN_OPTIONS:=${line#*=}}" ;;
	UBSAN_OPTIONS=*) : "${UBSAN_OPTIONS:=${line#*=}}" ;;
	esac
done < <($make -s --no-print-directory sanitize-options)
export ASAN_OPTIONS UBSAN_OPTIONS

build() { $make --no-print-directory SANITIZE=1 BUILD="$asan" "$@"; }

# relabel OLD NEW: the closing "OLD: N passed, N failed" line becomes NEW's.
relabel() { sed -u "s/^$1: \([0-9]* passed, [0-9]* failed.*\)/$2: \1/"; }

status=0
if [ "$what" != integration ]; then
	bins=()
	for t in tests/unit/test_*.c; do
		t=${t##*/}
		bins+=("$asan/tests/${t%.c}")
	done
	start=$SECONDS
	if build "${bins[@]}"; then
		tests/unit.sh "${bins[@]}" 2>&1 | relabel unit sanitize-unit
		rc=${PIPESTATUS[0]}
	else
		echo "sanitize-unit: 0 passed, 1 failed (the ASan build failed)"
		rc=1
	fi
	echo "sanitize: unit tests took $((SECONDS - start)) s"
	[ "$rc" -eq 0 ] || status=1
fi

if [ "$what" != unit ]; then
	tests=${SANITIZE_TESTS:-'@(pvh-vmlinux|bzimage|memory-1g|smp-2-pvh|acpi-poweroff|backend-memfd|balloon-gives-back|signal-stops-vm|internal-error-decoded|blk-rw-io_uring|blk-rw-sync|blk-discard|blk-two-disks-id|vsock-socket-file)'}
	start=$SECONDS
	if build integration-deps; then
		# The options go in on the command line: tools/nested-run passes
		# only a few variables into the outer VM. The outer VM has been seen
		# to freeze (125): that is the runner failing, so one more try.
		for try in 1 2; do
			MOTE=$asan/mote GUEST=$base/guest tools/kvm-env \
				env ASAN_OPTIONS="$ASAN_OPTIONS" UBSAN_OPTIONS="$UBSAN_OPTIONS" \
				LSAN_OPTIONS="${LSAN_OPTIONS:-}" \
				MOTE="$asan/mote" GUEST="$base/guest" \
				tests/integration/run.sh "$tests" 2>&1 | relabel integration sanitize-integration
			rc=${PIPESTATUS[0]}
			if [ "$rc" -ne 125 ] || [ $try -eq 2 ]; then break; fi
			echo "sanitize: the nested runner failed, not a test; trying once more"
		done
	else
		echo "sanitize-integration: 0 passed, 1 failed (the ASan build failed)"
		rc=1
	fi
	echo "sanitize: integration tests took $((SECONDS - start)) s"
	[ "$rc" -eq 0 ] || status=1
fi
exit $status
