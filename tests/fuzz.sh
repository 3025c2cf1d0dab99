#!/usr/bin/env bash
# tests/fuzz.sh [--no-replay] [--seconds N] BUILD [TARGET...]
#
# The libFuzzer targets of tests/fuzz (all of them, or those named): builds
# each into BUILD/fuzz with make, replays its seed corpus and its saved
# crashes (tests/fuzz/corpus/NAME, tests/fuzz/regressions/NAME) once each,
# then fuzzes it for N seconds (default FUZZ_CHECK_SECONDS, else 5) on a
# copy of its corpus in BUILD/fuzz/corpus-NAME, which keeps growing from
# run to run. A crash found is copied into tests/fuzz/regressions/NAME, to
# be committed as a regression test. --no-replay skips the replay (make
# fuzz). FUZZ_ARGS adds libFuzzer options, FUZZ_TIMEOUT sets the seconds
# one input may take (default 10).
#
# Prints a line per target and a closing "fuzz: N passed, N failed" (N
# targets); exits non-zero if one failed: did not build, crashed on a
# replayed input, or crashed while fuzzing.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

usage() {
	echo "usage: tests/fuzz.sh [--no-replay] [--seconds N] BUILD [TARGET...]" >&2
	exit 2
}

replay=1
seconds=${FUZZ_CHECK_SECONDS:-5}
while [ $# -gt 0 ]; do
	case $1 in
	--no-replay) replay=0 ;;
	--seconds)
		[ $# -ge 2 ] || usage
		seconds=$2
		shift
		;;
	-*) usage ;;
	*) break ;;
	esac
	shift
done
[ $# -ge 1 ] || usage
build=$1
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do
		n=${f#tests/fuzz/fuzz_}
		targets+=("${n%.c}")
	done
fi
timeout_s=${FUZZ_TIMEOUT:-10}
read -r -a extra <<<"${FUZZ_ARGS:-}"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# The longest input worth trying: what the target reads, with room to spare.
max_len() {
	case $1 in
	elf) echo 4096 ;;      # headers, notes, a symbol table
	bzimage) echo 8192 ;;  # a head (padded) or a whole small file
	initrd) echo 64 ;;     # four 64-bit numbers
	cmdline) echo 1024 ;;  # a command line and device words
	virtio) echo 4096 ;;   # register and RAM commands
	insn) echo 512 ;;      # header and the kvm_run's exit union
	snapshot) echo 65536 ;; # a whole state file of one vCPU (XSAVE, MSRs)
	migrate) echo 262144 ;; # a stream: two state files and some pages
	*) echo 4096 ;;
	esac
}

# The first line of a sanitizer's or libFuzzer's report in log $1; what
# this script shows of a log goes through cat -v (inputs are binary).
why() {
	{ grep -a -m 1 -E 'check failed|runtime error|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|Sanitizer:' "$1" ||
		tail -n 1 "$1"; } | cat -v
}

passed=0 failed=0
for t in "${targets[@]}"; do
	dir=$build/fuzz
	bin=$dir/fuzz_$t
	mkdir -p "$dir"
	if [ ! -f "tests/fuzz/fuzz_$t.c" ]; then
		echo "fuzz: $t: FAILED: no tests/fuzz/fuzz_$t.c"
		failed=$((failed + 1))
		continue
	fi
	if ! make --no-print-directory -f Makefile -f mk/fuzz.mk BUILD="$build" "$bin" >"$dir/$t-build.log" 2>&1; then
		tail -n 20 "$dir/$t-build.log" | cat -v
		echo "fuzz: $t: FAILED: did not build (clang, libclang-rt-14-dev: make deps)"
		failed=$((failed + 1))
		continue
	fi

	if [ "$replay" -eq 1 ]; then
		# The seeds in one go; each saved crash on its own, so that every
		# one still failing is named.
		mapfile -t seeds < <(find "tests/fuzz/corpus/$t" -type f 2>/dev/null | sort)
		mapfile -t crashes < <(find "tests/fuzz/regressions/$t" -type f 2>/dev/null | sort)
		bad=0
		replay() {
			"$bin" -timeout="$timeout_s" "$@" >"$dir/$t-replay.log" 2>&1 && return 0
			culprit=$(sed -n 's/^Running: //p' "$dir/$t-replay.log" | tail -n 1)
			tail -n 40 "$dir/$t-replay.log" | cat -v
			echo "fuzz: $t: FAILED on $culprit: $(why "$dir/$t-replay.log")"
			echo "fuzz: $t: reproduce with $bin $culprit"
			bad=1
		}
		[ ${#seeds[@]} -eq 0 ] || replay "${seeds[@]}"
		for f in "${crashes[@]}"; do
			replay "$f"
		done
		if [ $bad -eq 1 ]; then
			failed=$((failed + 1))
			continue
		fi
	fi

	# Fuzz a copy of the corpus: what it finds stays out of the checkout.
	work=$dir/corpus-$t
	artifacts=$dir/artifacts-$t
	mkdir -p "$work"
	rm -rf "$artifacts"
	mkdir -p "$artifacts"
	for f in "tests/fuzz/corpus/$t"/*; do
		[ -f "$f" ] && [ ! -e "$work/${f##*/}" ] && cp "$f" "$work/"
	done
	dict=()
	[ -f "tests/fuzz/dict/$t.dict" ] && dict=(-dict="tests/fuzz/dict/$t.dict")
	log=$dir/$t.log
	timeout -k 10 $((seconds + timeout_s + 120)) "$bin" -max_total_time="$seconds" \
		-max_len="$(max_len "$t")" -timeout="$timeout_s" -print_final_stats=1 \
		-artifact_prefix="$artifacts/" "${dict[@]}" "${extra[@]}" "$work" >"$log" 2>&1
	rc=$?
	stats=$(grep -a -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
	cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$stats")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$stats")
	corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$stats")
	# The final stats; with -fork, the last status line has to do.
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	[ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$stats")
	[ -n "$eps" ] || eps=$(sed -n 's/.*exec\/s:* \([0-9]*\).*/\1/p' <<<"$stats")
	summary="${runs:-?} runs, ${eps:-?} exec/s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
	if [ $rc -eq 0 ]; then
		echo "fuzz: $t: ok: ${seconds} s, $summary"
		passed=$((passed + 1))
		continue
	fi
	failed=$((failed + 1))
	tail -n 40 "$log" | cat -v
	saved=0
	for f in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
		[ -f "$f" ] || continue
		mkdir -p "tests/fuzz/regressions/$t"
		cp "$f" "tests/fuzz/regressions/$t/"
		echo "fuzz: $t: input saved as tests/fuzz/regressions/$t/${f##*/}; reproduce with $bin tests/fuzz/regressions/$t/${f##*/}"
		saved=1
	done
	if [ $saved -eq 1 ]; then
		echo "fuzz: $t: FAILED after $summary: $(why "$log")"
	else
		echo "fuzz: $t: FAILED: did not run (status $rc, see $log): $(why "$log")"
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
