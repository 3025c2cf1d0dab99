#!/usr/bin/env bash
# Integration tests: boot real guests with mote on /dev/kvm (run this through
# tools/kvm-env, which uses the nested runner where /dev/kvm is absent), and
# feed mote bad input that it must refuse with a clear message.
# Prints PASS/FAIL per test and "integration: N passed, N failed".
set -u
shopt -s extglob
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
MOTE=${MOTE:-build/mote}
BUILD_DIR=$(dirname "$MOTE")
TESTBIN=$BUILD_DIR/tests
GUEST=${GUEST:-build/guest}
VMLINUX=$GUEST/vmlinux
BZIMAGE=$GUEST/bzImage
INITRD=$GUEST/initrd.cpio
CACHE=${MOTE_CACHE:-$HOME/.cache/mote}
MARKER=MOTE-GUEST-INIT-OK
TIMEOUT=${TEST_TIMEOUT:-300}
only=${1:-}
# PART "k/N" (second argument): only the tests whose name hashes to k of N,
# so that make check can run the suite in pieces (one nested VM each).
part=${2:-}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$work/out
passed=0 failed=0

declare -A retry=()
# Tests that make a guest triple-fault on purpose: never given another run.
NESTED_FLAKE_NEVER="ap-triple-fault"
# How many more runs a nested flake gets (docs/testing.md: the emulator
# under tools/nested-run corrupts a guest's state now and then).
NESTED_FLAKE_RUNS=${NESTED_FLAKE_RUNS:-2}
timed_out=

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() {
	local why
	if why=$(nested_flake "$1"); then
		echo "RETRY $1: $2 ($why under the nested runner: run again at the end; docs/testing.md)"
		retry[$1]=1
	else
		echo "FAIL $1: $2"
		failed=$((failed + 1))
	fi
	sed 's/^/    | /' "$out" | tail -n 25
}

# nested_flake NAME: NAME's failure is one the nested runner's emulator
# causes now and then (docs/testing.md, "Nested runner: guest state
# corrupted"), in a first run: mote's own line for a guest triple fault
# (which it always prints) in this test's output, or mote ended by the
# test's time limit. Prints which. Such a test runs again, alone, after the
# others, up to NESTED_FLAKE_RUNS times; one pass counts, and so does
# failing every time. On real KVM (no MOTE_IN_NESTED) it always fails at once.
nested_flake() {
	[ "${MOTE_IN_NESTED:-}" = 1 ] && [ -z "${MOTE_TEST_RETRY:-}" ] && [ -n "$1" ] &&
		[[ " $NESTED_FLAKE_NEVER " != *" $1 "* ]] && [ -z "${retry[$1]:-}" ] || return 1
	if grep -qE "^mote: (guest reset \(triple fault\)|vCPU [0-9]+: triple fault \(KVM_EXIT_SHUTDOWN\))" "$out"; then
		echo "the guest triple-faulted"
	elif [ -n "$timed_out" ]; then
		echo "the guest made no progress until the time limit"
	else
		return 1
	fi
}

# retry_flakes: runs each test that nested_flake set aside again, in a run
# of its own, until one passes (a PASS line of that name and no FAIL) or
# NESTED_FLAKE_RUNS runs failed.
retry_flakes() {
	local name res k ok
	for name in "${!retry[@]}"; do
		ok=
		for k in $(seq 2 $((NESTED_FLAKE_RUNS + 1))); do
			res=$(MOTE_TEST_RETRY=1 "$root/tests/integration/run.sh" "$name" 2>&1)
			printf '%s\n' "$res" | grep -v '^integration: [0-9]* passed' | sed "s/^/    (run $k) /"
			if printf '%s\n' "$res" | grep -q '^integration: 0 passed, 0 failed'; then
				echo "FAIL $name: cannot run alone for another run (its first run's failure stands)"
				ok=none
				break
			fi
			if ! printf '%s\n' "$res" | grep -q "^FAIL " &&
				printf '%s\n' "$res" | grep -qE "^PASS $name( \(|$)"; then
				echo "PASS $name (run $k, after a nested runner's flake)"
				ok=1
				break
			fi
		done
		if [ "$ok" = 1 ]; then
			passed=$((passed + 1))
		else
			[ -z "$ok" ] && echo "FAIL $name: failed in all $((NESTED_FLAKE_RUNS + 1)) runs"
			failed=$((failed + 1))
		fi
	done
}
# selected NAME: NAME is among the tests to run (the first argument's glob,
# this part's share); empties $out, so that nested_flake reads only this
# test's output (a timestamp would not do: a file written within the same
# clock tick as the mark is not "newer").
selected() {
	[ -z "$only" ] || [[ $1 == $only ]] || return 1
	if [ -n "$part" ]; then
		local h
		h=$(printf %s "$1" | cksum | cut -d' ' -f1)
		[ $((h % ${part#*/})) -eq "${part%/*}" ] || return 1
	fi
	: >"$out"
	timed_out=
}

# run_mote ARGS...: runs mote with a time limit; sets $rc, output in $out.
run_mote() {
	timeout -k 10 "$TIMEOUT" "$MOTE" run "$@" </dev/null >"$out" 2>&1
	rc=$?
	[ $rc -eq 124 ] && timed_out=1
	return 0
}

# expect_boot NAME ARGS...: the guest reaches init and mote exits 0.
expect_boot() {
	local name=$1
	shift
	selected "$name" || return 0
	run_mote "$@"
	if [ $rc -ne 0 ]; then
		fail "$name" "mote exited $rc"
	elif ! grep -q "$MARKER" "$out"; then
		fail "$name" "no init marker in the console output"
	else
		pass "$name"
	fi
}

# expect_status NAME STATUS PATTERN ARGS...: mote refuses cleanly (no crash)
# with exit STATUS and a message matching PATTERN.
expect_status() {
	local name=$1 status=$2 pattern=$3
	shift 3
	selected "$name" || return 0
	run_mote "$@"
	if [ $rc -ne "$status" ]; then
		fail "$name" "mote exited $rc, expected $status"
	elif ! grep -qE -- "$pattern" "$out"; then
		fail "$name" "message does not match /$pattern/"
	else
		pass "$name"
	fi
}

# expect_error NAME PATTERN ARGS...: an error (exit 1), e.g. bad input files.
expect_error() { expect_status "$1" 1 "${@:2}"; }

# expect_usage NAME PATTERN ARGS...: a command line mote cannot understand (exit 2).
expect_usage() { expect_status "$1" 2 "${@:2}"; }

# expect_console NAME CASE ARGS...: tests/integration/console.py CASE on a
# pseudo-terminal with mote run ARGS.
expect_console() {
	local name=$1 case=$2
	shift 2
	selected "$name" || return 0
	timeout -k 10 $((TIMEOUT + 120)) python3 tests/integration/console.py "$case" "$MOTE" run "$@" \
		>"$out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q "^console: $case: ok" "$out"; then
		pass "$name ($(sed -n "s/^console: $case: ok (\(.*\))/\1/p" "$out"))"
	else
		fail "$name" "$(grep "^console:" "$out" | tail -n 1)"
	fi
}

# expect_cpus NAME N ARGS...: the guest boots and sees N CPUs online.
expect_cpus() {
	local name=$1 n=$2 seen
	shift 2
	selected "$name" || return 0
	run_mote "$@"
	seen=$(sed -n 's/^cpus: \([0-9]*\) online.*/\1/p' "$out" | tr -d '\r' | tail -n 1)
	if [ $rc -ne 0 ] || ! grep -q "$MARKER" "$out"; then
		fail "$name" "no boot (exit $rc)"
	elif [ "$seen" != "$n" ]; then
		fail "$name" "the guest sees ${seen:-no} CPUs online, expected $n"
	else
		pass "$name"
	fi
}

# expect_memory NAME MIN_KIB ARGS...: boots and the guest sees at least MIN_KIB.
expect_memory() {
	local name=$1 min=$2 kib
	shift 2
	selected "$name" || return 0
	run_mote "$@"
	kib=$(sed -n 's/^memory: \([0-9]*\) KiB total.*/\1/p' "$out" | tr -d '\r')
	if [ $rc -ne 0 ] || [ -z "$kib" ]; then
		fail "$name" "guest did not boot (exit $rc)"
	elif [ "$kib" -lt "$min" ]; then
		fail "$name" "guest sees $kib KiB, expected at least $min"
	else
		pass "$name ($kib KiB)"
	fi
}

# patch FILE OFFSET HEXBYTES: overwrites bytes in a copy of a file.
patched() {
	local src=$1 off=$2 bytes=$3 dst=$work/patched.$RANDOM
	cp "$src" "$dst"
	printf "$bytes" | dd of="$dst" bs=1 seek=$((off)) conv=notrunc status=none
	echo "$dst"
}

# mapped_inside FILE START END < MAPS: a mapping of FILE lies in [START, END).
mapped_inside() {
	local range perm off dev inode path
	while read -r range perm off dev inode path; do
		[ "$path" = "$1" ] || continue
		if [ $((16#${range%-*})) -ge $((16#$2)) ] && [ $((16#${range#*-})) -le $((16#$3)) ]; then
			return 0
		fi
	done
	return 1
}

# start_held_vm HOLD: starts a guest-kit VM (with -v) whose init waits HOLD
# seconds; sets $pid, output in $out; returns 0 once the init marker is seen.
start_held_vm() {
	"$MOTE" run -v --kernel "$VMLINUX" --initrd "$INITRD" \
		--cmdline "console=ttyS0 quiet -- hold=$1" </dev/null >"$out" 2>&1 &
	pid=$!
	wait_marker "$out" $pid
}

# wait_marker FILE PID: waits until FILE holds the init marker (0) or PID
# ends or the time-out passes (1).
wait_marker() {
	for _ in $(seq 1 "$TIMEOUT"); do
		grep -q "$MARKER" "$1" && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 1
	done
	grep -q "$MARKER" "$1"
}

# snap_ticks FILE: "N UPTIME" of every tick line in FILE.
snap_ticks() {
	tr -d '\r' <"$1" | sed -n 's/^tick \([0-9]*\) \([0-9.]*\)$/\1 \2/p'
}

# snap_wait PID: waits for PID (a child) to end, at most TIMEOUT s; its status.
snap_wait() {
	local i
	for i in $(seq 1 "$TIMEOUT"); do
		kill -0 "$1" 2>/dev/null || break
		sleep 1
	done
	kill -9 "$1" 2>/dev/null
	wait "$1"
}

# ram_range FILE: the host range of guest RAM that "mote -v" printed.
ram_range() {
	sed -n 's/.*host \[0x\([0-9a-f]*\), 0x\([0-9a-f]*\)).*/\1 \2/p' "$1"
}

# The kernel and initrd files appear in mote's maps inside guest RAM while
# the VM runs: they are mapped, not copied.
test_zero_copy() {
	local name=zero-copy-maps pid start end kfile ifile ok=1
	selected "$name" || return 0
	start_held_vm 20
	read -r start end < <(ram_range "$out")
	kfile=$(readlink -f "$VMLINUX")
	ifile=$(readlink -f "$INITRD")
	cp "/proc/$pid/maps" "$work/maps" 2>/dev/null || : >"$work/maps"
	kill $pid 2>/dev/null
	sleep 2
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	for f in "$kfile" "$ifile"; do
		mapped_inside "$f" "$start" "$end" <"$work/maps" || ok=0
	done
	if [ -z "$start" ] || ! grep -q "$MARKER" "$out"; then
		fail "$name" "the guest did not boot"
	elif [ $ok -ne 1 ]; then
		cat "$work/maps" >>"$out"
		fail "$name" "kernel or initrd file not mapped inside guest RAM [$start, $end)"
	else
		pass "$name"
	fi
}

# shared_clean_kib PID FILE START END: Shared_Clean (KiB) of PID's mappings
# of FILE that lie inside [START, END).
shared_clean_kib() {
	awk -v f="$2" -v s="$3" -v e="$4" '
		function hex(x,   i, c, v) { v = 0; x = tolower(x)
			for (i = 1; i <= length(x); i++) { c = index("0123456789abcdef", substr(x, i, 1)) - 1; v = v * 16 + c }
			return v }
		/^[0-9a-f]+-[0-9a-f]+ / { split($1, r, "-"); inside = ($6 == f && hex(r[1]) >= hex(s) && hex(r[2]) <= hex(e)) }
		inside && /^Shared_Clean:/ { kib += $2 }
		END { print kib + 0 }' "/proc/$1/smaps"
}

# guest_private_kib PID START END: private (USS) KiB of the mappings inside
# guest RAM [START, END) of mote process PID.
guest_private_kib() {
	awk -v s="$2" -v e="$3" '
		function hex(x,   i, c, v) { v = 0; x = tolower(x)
			for (i = 1; i <= length(x); i++) { c = index("0123456789abcdef", substr(x, i, 1)) - 1; v = v * 16 + c }
			return v }
		/^[0-9a-f]+-[0-9a-f]+ / { split($1, r, "-"); inside = (hex(r[1]) >= hex(s) && hex(r[2]) <= hex(e)) }
		inside && /^Private_(Clean|Dirty):/ { kib += $2 }
		END { print kib + 0 }' "/proc/$1/smaps"
}

# held_private_kib ARGS...: boots the guest kit held with "report=0" (the
# guest reports every freed page to a balloon, if it has one), waits
# BALLOON_SETTLE seconds after the marker, and prints the private KiB in its
# guest RAM; the console output stays in $out.
held_private_kib() {
	local start end kib
	"$MOTE" run -v "$@" --kernel "$VMLINUX" --initrd "$INITRD" \
		--cmdline "console=ttyS0 quiet -- hold=120 report=0" </dev/null >"$out" 2>&1 &
	pid=$!
	if ! wait_marker "$out" $pid; then
		kill $pid 2>/dev/null
		wait $pid 2>/dev/null
		return 1
	fi
	sleep "${BALLOON_SETTLE:-15}"
	read -r start end < <(ram_range "$out")
	kib=$(guest_private_kib $pid "$start" "$end")
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	echo "$kib"
}

# With the balloon (mote's default), the guest's freed pages go back to the
# host: an idle guest keeps less private RAM than the same guest without it,
# and mote says how much it gave back. The device's word sits before "--".
test_balloon() {
	local name=balloon-gives-back with without back
	selected "$name" || return 0
	without=$(held_private_kib --no-balloon) || { fail "$name" "no boot without the balloon"; return; }
	if grep -q "virtio_mmio.device" "$out"; then
		fail "$name" "--no-balloon still put a virtio-mmio device on the command line"
		return
	fi
	with=$(held_private_kib) || { fail "$name" "no boot with the balloon"; return; }
	back=$(sed -n 's/.*the balloon gave back \([0-9]*\) KiB.*/\1/p' "$out")
	echo "balloon: guest RAM private $with KiB with the balloon, $without KiB without; gave back ${back:-?} KiB" >>"$out"
	if ! grep -q "guest command line: console=ttyS0 quiet pci=off 8250.nr_uarts=1 -- hold=120 report=0" "$out"; then
		fail "$name" "with ACPI the balloon belongs in the DSDT, not on the command line"
	elif [ "${back:-0}" -lt 1024 ]; then
		fail "$name" "the balloon gave back ${back:-no} KiB, expected at least 1 MiB"
	elif [ "$with" -gt $((without - 1024)) ]; then
		fail "$name" "guest RAM private $with KiB with the balloon, $without KiB without"
	else
		pass "$name ($with KiB vs $without KiB)"
	fi
}

# Two VMs booted from the same files share the kernel and initrd pages in
# their guest RAM (Shared_Clean in smaps), as the page cache's pages. The
# initrd stays shared only if the guest keeps it (retain_initrd): Linux
# otherwise frees its pages after unpacking and soon writes over them.
test_page_sharing() {
	local name=page-sharing pids=() i start end k=0 r=0 ok=1
	selected "$name" || return 0
	for i in 1 2; do
		"$MOTE" run -v --kernel "$VMLINUX" --initrd "$INITRD" \
			--cmdline "console=ttyS0 quiet retain_initrd -- hold=30" </dev/null >"$work/vm$i" 2>&1 &
		pids+=($!)
	done
	if wait_marker "$work/vm1" "${pids[0]}" && wait_marker "$work/vm2" "${pids[1]}"; then
		read -r start end < <(ram_range "$work/vm1")
		k=$(shared_clean_kib "${pids[0]}" "$(readlink -f "$VMLINUX")" "$start" "$end")
		r=$(shared_clean_kib "${pids[0]}" "$(readlink -f "$INITRD")" "$start" "$end")
	else
		ok=0
	fi
	kill "${pids[@]}" 2>/dev/null
	sleep 2
	kill -KILL "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
	cat "$work/vm1" >"$out"
	if [ $ok -ne 1 ]; then
		fail "$name" "the two guests did not both boot"
	elif [ "$k" -lt 1024 ] || [ "$r" -lt 64 ]; then
		fail "$name" "Shared_Clean in guest RAM: kernel $k KiB, initrd $r KiB"
	else
		pass "$name (kernel $k KiB, initrd $r KiB shared)"
	fi
}

# SIGTERM stops a running VM through mote's own handling: status 128+15
# and the reason reported, not death by the signal.
test_signal() {
	local name=signal-stops-vm pid rc
	selected "$name" || return 0
	if ! start_held_vm 600; then
		kill -KILL $pid 2>/dev/null
		wait $pid 2>/dev/null
		fail "$name" "the guest did not boot"
		return
	fi
	kill -TERM $pid
	for _ in $(seq 1 30); do kill -0 $pid 2>/dev/null || break; sleep 1; done
	kill -KILL $pid 2>/dev/null && echo "mote ignored SIGTERM for 30 s" >>"$out"
	wait $pid
	rc=$?
	# -v: each queue's indices, each vCPU's and the IOAPIC's interrupt state
	if [ $rc -ne 143 ] || ! grep -q "stopped by signal" "$out"; then
		fail "$name" "exit $rc, expected 143 with 'stopped by signal'"
	elif ! grep -qE "^mote: virtio-rng \(slot [0-9]+\) queue 0: driver's avail [0-9]+, device took [0-9]+; .*GSI [0-9]+$" "$out" ||
		! grep -qE "^mote: vCPU 0: (halted|runnable) at rip 0x[0-9a-f]+, interrupts (on|off)" "$out" ||
		! grep -qE "^mote: IOAPIC:( pin [0-9]+ vector 0x[0-9a-f]{2} (edge|level)[^;]*;)+$" "$out"; then
		fail "$name" "-v did not report the queues, vCPUs and IOAPIC at the stop"
	else
		pass "$name"
	fi
}

# expect_trace NAME "POINTS" ARGS...: boots with --boot-trace=json; the
# given points are all reported and come in that order.
expect_trace() {
	local name=$1 points=$2 prev=0 v p missing= order=
	shift 2
	selected "$name" || return 0
	run_mote --boot-trace=json "$@"
	for p in $points; do
		v=$(grep -o "\"$p\":[0-9.e+-]*" "$out" | tail -n 1 | cut -d: -f2)
		if [ -z "$v" ]; then
			missing="$missing $p"
			continue
		fi
		awk -v a="$prev" -v b="$v" 'BEGIN { exit !(b >= a) }' || order="$order $p"
		prev=$v
	done
	if [ $rc -ne 0 ]; then
		fail "$name" "mote exited $rc"
	elif [ -n "$missing" ]; then
		fail "$name" "not reported:$missing"
	elif [ -n "$order" ]; then
		fail "$name" "out of order:$order"
	else
		pass "$name"
	fi
}

# json_field NAME: the value of NAME in the JSON trace in $out ("" if absent).
json_field() {
	grep -o "\"$1\":[^,}]*" "$out" | tail -n 1 | cut -d: -f2- | tr -d '"'
}

# expect_breakpoint NAME OUTCOMES ARGS...: boots with --boot-trace=json; the
# init-exec breakpoint's outcome is one of OUTCOMES (a regex), and a time
# only comes with "fired", between linux_start_kernel and guest_boot_done.
expect_breakpoint() {
	local name=$1 outcomes=$2 bp at
	shift 2
	selected "$name" || return 0
	run_mote --boot-trace=json "$@"
	bp=$(json_field breakpoint)
	at=$(json_field linux_start_user_breakpoint)
	if [ $rc -ne 0 ] || ! grep -q "$MARKER" "$out"; then
		fail "$name" "no boot (exit $rc)"
	elif ! [[ $bp =~ ^($outcomes)$ ]]; then
		fail "$name" "breakpoint '$bp', expected $outcomes"
	elif [ "$bp" = fired ] && ! awk -v k="$(json_field linux_start_kernel)" -v u="$at" \
		-v d="$(json_field guest_boot_done)" 'BEGIN { exit !(u > k && u <= d) }'; then
		fail "$name" "breakpoint time $at not between linux_start_kernel and guest_boot_done"
	elif [ "$bp" != fired ] && [ "$at" != null ]; then
		fail "$name" "breakpoint '$bp' but a time ($at)"
	else
		pass "$name ($bp)"
	fi
}

cloud_kernel() {
	ls "$CACHE"/debian-kernel/linux-image-*-cloud-amd64/boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1
}

# test_unpack: a bzImage whose kernel has a PVH entry boots through it from
# a copy mote decompresses once into its cache (MOTE_CACHE/vmlinux), then
# from the copy; a broken payload is refused by name; a cache that cannot
# be written leaves the bzImage to boot as it is.
test_unpack() {
	local first second off
	if selected bzimage-unpacked; then
		MOTE_CACHE=$work/cache run_mote -v --kernel "$BZIMAGE" --initrd "$INITRD" \
			--cmdline "console=ttyS0 quiet"
		first=$rc
		cp "$out" "$work/unpack.first"
		MOTE_CACHE=$work/cache run_mote -v --kernel "$BZIMAGE" --initrd "$INITRD" \
			--cmdline "console=ttyS0 quiet"
		second=$rc
		if [ "$first" -ne 0 ] || [ "$second" -ne 0 ] || ! grep -q "$MARKER" "$work/unpack.first" ||
			! grep -q "$MARKER" "$out"; then
			fail bzimage-unpacked "no boot (exit $first, then $second)"
		elif ! grep -q "PVH boot" "$out" ||
			! grep -q "boots through its PVH entry from $work/cache/vmlinux/bzImage-.*decompressed now" "$work/unpack.first" ||
			! grep -q "boots through its PVH entry from $work/cache/vmlinux/bzImage-.*decompressed before" "$out"; then
			fail bzimage-unpacked "not a PVH boot from the cache's copy, made by the first run"
		elif ! tools/vmlinux-from-bzimage "$BZIMAGE" "$work/unpack.ref" >/dev/null ||
			! cmp -s "$(ls "$work"/cache/vmlinux/bzImage-*)" "$work/unpack.ref"; then
			fail bzimage-unpacked "the cache's copy differs from the ELF file tools/vmlinux-from-bzimage extracts"
		else
			pass bzimage-unpacked
		fi
	fi
	if selected bzimage-payload-broken; then
		off=$(( ($(od -An -tu1 -j 0x1f1 -N1 "$BZIMAGE") + 1) * 512 + $(od -An -tu4 -j 0x248 -N4 "$BZIMAGE") + $(od -An -tu4 -j 0x24c -N4 "$BZIMAGE") / 2 ))
		MOTE_CACHE=$work/cache-broken expect_error bzimage-payload-broken \
			"kernel '.*': its gzip payload is broken" \
			--kernel "$(patched "$BZIMAGE" $off '\x00\x00\x00\x00\x00\x00\x00\x00')"
	fi
	if selected bzimage-unpack-cache-unwritable; then
		: >"$work/not-a-dir"
		MOTE_CACHE=$work/not-a-dir run_mote -v --kernel "$BZIMAGE" --initrd "$INITRD" \
			--cmdline "console=ttyS0 quiet"
		if [ $rc -ne 0 ] || ! grep -q "$MARKER" "$out"; then
			fail bzimage-unpack-cache-unwritable "no boot (exit $rc)"
		elif ! grep -q "bzImage 64-bit boot" "$out" ||
			! grep -q "the bzImage boots as it is (the guest decompresses it): .*cannot open the cache folder" "$out"; then
			fail bzimage-unpack-cache-unwritable "not a bzImage boot with the reason"
		else
			pass bzimage-unpack-cache-unwritable
		fi
	fi
}

echo "integration: mote $("$MOTE" --version), $(uname -r), /dev/kvm $([ -c /dev/kvm ] && echo present || echo absent)"

# Boots.
expect_boot pvh-vmlinux --kernel "$VMLINUX" --initrd "$INITRD" --cmdline "console=ttyS0 quiet"
expect_boot bzimage --no-unpack --kernel "$BZIMAGE" --initrd "$INITRD" --cmdline "console=ttyS0 quiet"
test_unpack
cloud=$(cloud_kernel)
if [ -z "$cloud" ]; then
	: >"$out"
	selected debian-cloud-kernel && fail debian-cloud-kernel "no Debian cloud kernel in $CACHE (tools/debian-kernel.sh cloud-amd64)"
else
	expect_boot debian-cloud-kernel --kernel "$cloud" --initrd "$INITRD" \
		--cmdline "console=ttyS0 quiet" --memory 256M
fi
expect_memory memory-1g 1000000 --kernel "$VMLINUX" --initrd "$INITRD" \
	--cmdline "console=ttyS0 quiet" --memory 1G
expect_memory memory-4g-pvh 4000000 --kernel "$VMLINUX" --initrd "$INITRD" \
	--cmdline "console=ttyS0 quiet" --memory 4G
expect_memory memory-5g-bzimage 5000000 --no-unpack --kernel "$BZIMAGE" --initrd "$INITRD" \
	--cmdline "console=ttyS0 quiet" --memory 5G
test_zero_copy
test_page_sharing
test_signal
test_balloon
# On a terminal: Ctrl-A x ends with 0; a stalled stdout cannot keep SIGTERM
# from ending mote; both give the terminal back.
expect_console console-ctrl-a-x quit --kernel "$VMLINUX" --initrd "$INITRD" \
	--cmdline "console=ttyS0 quiet -- hold=600"
expect_console console-stalled-stdout-sigterm stall --kernel "$BZIMAGE" \
	--initrd "$GUEST/shell.cpio" --cmdline "console=ttyS0 quiet" --memory 256M
# Ctrl-A d: Ctrl-Alt-Del on the i8042's keyboard. The kit's and Debian's
# kernels find the controller through the DSDT's PNP0303, bind atkbd, and
# restart; with the keyboard port left off (i8042.nokbd) mote says why
# nothing was sent and the guest goes on.
expect_console console-ctrl-alt-del cad --kernel "$VMLINUX" --initrd "$INITRD" \
	--cmdline "console=ttyS0 quiet -- hold=600"
[ -n "$cloud" ] && expect_console console-ctrl-alt-del-debian cad --kernel "$cloud" \
	--initrd "$INITRD" --cmdline "console=ttyS0 quiet -- hold=600" --memory 256M
expect_console console-ctrl-alt-del-no-keyboard cad-refused --kernel "$VMLINUX" --initrd "$INITRD" \
	--cmdline "console=ttyS0 quiet i8042.nokbd -- hold=600"

# Several vCPUs: ACPI's MADT tells the guest of them, for PVH and bzImage.
for n in 1 2 4 8; do
	expect_cpus smp-$n-pvh $n --cpus $n --kernel "$VMLINUX" --initrd "$INITRD" \
		--cmdline "console=ttyS0 quiet"
done
for n in 2 4; do
	expect_cpus smp-$n-bzimage $n --cpus $n --no-unpack --kernel "$BZIMAGE" --initrd "$INITRD" \
		--cmdline "console=ttyS0 quiet"
done
[ -n "$cloud" ] && expect_cpus smp-2-debian-kernel 2 --cpus 2 --kernel "$cloud" \
	--initrd "$INITRD" --cmdline "console=ttyS0 quiet" --memory 256M
# The guest's poweroff reaches mote through the FADT's sleep register: exit 0.
if selected acpi-poweroff; then
	run_mote -v --kernel "$VMLINUX" --initrd "$INITRD" --cmdline "console=ttyS0 quiet -- poweroff"
	if [ $rc -eq 0 ] && grep -q "guest powered off (ACPI S5)" "$out"; then
		pass acpi-poweroff
	else
		fail acpi-poweroff "exit $rc, or not powered off through ACPI S5"
	fi
fi
# Without ACPI the devices go on the command line and an MP table gives the vCPUs.
if selected no-acpi; then
	run_mote -v --no-acpi --kernel "$VMLINUX" --initrd "$INITRD" --cmdline "console=ttyS0 quiet"
	if [ $rc -ne 0 ] || ! grep -q "$MARKER" "$out"; then
		fail no-acpi "no boot (exit $rc)"
	elif ! grep -q "guest command line: console=ttyS0 quiet .*virtio_mmio.device=4K@0xd0000000:5" "$out"; then
		fail no-acpi "the balloon is not on the command line"
	else
		pass no-acpi
	fi
fi
for n in 2 4; do
	expect_cpus smp-$n-pvh-mptable $n --cpus $n --no-acpi --kernel "$VMLINUX" --initrd "$INITRD" \
		--cmdline "console=ttyS0 quiet"
done
expect_cpus smp-2-bzimage-mptable 2 --cpus 2 --no-acpi --no-unpack --kernel "$BZIMAGE" --initrd "$INITRD" \
	--cmdline "console=ttyS0 quiet"
expect_error cpus-above-mptable "--cpus 300: mote's MP table describes 1 to 254 vCPUs" \
	--kernel "$VMLINUX" --cpus 300 --no-acpi
expect_error cpus-above-acpi "--cpus 300: mote's ACPI tables describe 1 to 254 vCPUs" \
	--kernel "$VMLINUX" --cpus 300
expect_usage cpus-zero "--cpus 0: a VM needs 1 to 4096 vCPUs" --kernel "$VMLINUX" --cpus 0
expect_usage cpus-not-a-number "--cpus 'two': not a number of vCPUs" --kernel "$VMLINUX" --cpus two

# Memory backends: each boots; hugetlb says how many pages it lacks.
expect_boot backend-memfd --memory-backend memfd --kernel "$VMLINUX" --initrd "$INITRD" \
	--cmdline "console=ttyS0 quiet"
expect_boot backend-anon-thp-prefault --thp --prefault --kernel "$BZIMAGE" --initrd "$INITRD" \
	--cmdline "console=ttyS0 quiet"
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
hp_free=$(cat $hp/free_hugepages 2>/dev/null || echo 0)
hp_need=$((hp_free + 1 > 32 ? hp_free + 1 : 32)) # one more than free, 64 MiB at least
expect_error backend-hugetlb-short "hugetlb: .* needs $hp_need free 2 MiB huge pages, the host has $hp_free free; reserve them as root with: echo [0-9]+ > $hp/nr_hugepages" \
	--memory-backend hugetlb --memory $((hp_need * 2))M --kernel "$VMLINUX"
if selected backend-hugetlb; then
	hp_total=$(cat $hp/nr_hugepages 2>/dev/null || echo 0)
	echo $((hp_total + 64)) >$hp/nr_hugepages 2>/dev/null
	run_mote -v --memory-backend hugetlb --memory 128M --kernel "$VMLINUX" --initrd "$INITRD" \
		--cmdline "console=ttyS0 quiet"
	echo "$hp_total" >$hp/nr_hugepages 2>/dev/null
	if [ $rc -ne 0 ] || ! grep -q "$MARKER" "$out"; then
		fail backend-hugetlb "no boot (exit $rc; reserving huge pages needs root)"
	elif ! grep -q "kernel 0 KiB mapped.*initrd at .*, 0 KiB mapped" "$out"; then
		fail backend-hugetlb "files were mapped over huge pages"
	else
		pass backend-hugetlb
	fi
fi

# Boot tracepoints: all five on the guest kit (its kernel patch and init
# write the codes), the first three on Debian's unmodified kernel.
all_points="vm_created vmm_init_end linux_start_kernel linux_start_user guest_boot_done"
expect_trace trace-pvh "$all_points" --kernel "$VMLINUX" --initrd "$INITRD" \
	--cmdline "console=ttyS0 quiet"
expect_trace trace-bzimage "$all_points" --no-unpack --kernel "$BZIMAGE" --initrd "$INITRD" \
	--cmdline "console=ttyS0 quiet"
[ -n "$cloud" ] && expect_trace trace-debian-kernel "vm_created vmm_init_end linux_start_kernel" \
	--kernel "$cloud" --initrd "$INITRD" --cmdline "console=ttyS0 quiet" --memory 256M
# linux_start_user from a hardware breakpoint where breakpoints fire: on a
# host's KVM it must fire; in the nested runner (TCG's SVM does not deliver
# them) it must say unavailable, and the boot must not hang.
if [ -n "${MOTE_IN_NESTED:-}" ]; then bp_fires=unavailable bp_stripped=unavailable; else
	bp_fires=fired bp_stripped="no symbol"; fi
expect_breakpoint trace-breakpoint-symbols "$bp_fires" --kernel "$VMLINUX" \
	--initrd "$INITRD" --cmdline "console=ttyS0 quiet"
if selected trace-breakpoint-stripped; then
	objcopy --strip-all "$VMLINUX" "$work/vmlinux.stripped"
	expect_breakpoint trace-breakpoint-stripped "$bp_stripped" \
		--kernel "$work/vmlinux.stripped" --initrd "$INITRD" --cmdline "console=ttyS0 quiet"
fi
expect_breakpoint trace-breakpoint-bzimage "not used" --no-unpack --kernel "$BZIMAGE" --initrd "$INITRD" \
	--cmdline "console=ttyS0 quiet"

# Bad input: each refused with a message naming the input and the reason.
if selected no-kvm; then
	MOTE_KVM_DEVICE=/nonexistent/kvm run_mote --kernel "$VMLINUX" --initrd "$INITRD"
	if [ $rc -eq 1 ] && grep -qE "/nonexistent/kvm: .*no KVM.*nested-run" "$out"; then
		pass no-kvm
	else
		fail no-kvm "exit $rc, or no message saying how to run without KVM"
	fi
fi
expect_error kernel-missing "kernel '/nonexistent/vmlinux': No such file" --kernel /nonexistent/vmlinux
expect_error kernel-not-file "kernel '/tmp': not a regular file" --kernel /tmp
printf 'hello, not a kernel\n%.0s' $(seq 1 100) >"$work/text"
expect_error kernel-neither "kernel '$work/text' is neither an ELF vmlinux nor a bzImage" --kernel "$work/text"
expect_error elf-no-pvh "kernel '/bin/true': ELF has no PVH entry note" --kernel /bin/true
expect_error elf-not-x86-64 "kernel '.*': ELF for machine 183, not x86-64" \
	--kernel "$(patched "$VMLINUX" 18 '\xb7\x00')"
head -c 100000 "$VMLINUX" >"$work/truncated"
expect_error elf-truncated "kernel '$work/truncated' is truncated" --kernel "$work/truncated"
expect_error bzimage-32bit "kernel '.*': bzImage has no 64-bit entry" \
	--kernel "$(patched "$BZIMAGE" 0x236 '\x00\x00')"
expect_error bzimage-old-protocol "kernel '.*': boot protocol 2.09 is too old" \
	--kernel "$(patched "$BZIMAGE" 0x206 '\x09\x02')"
expect_error segments-exceed-ram "kernel '.*': segment [0-9]+ .* does not fit in guest RAM.*--memory" \
	--kernel "$VMLINUX" --memory 16M
expect_error bzimage-exceeds-ram "kernel '.*' needs .* more --memory" \
	--kernel "$BZIMAGE" --memory 16M --no-unpack
head -c $((40 * 1024 * 1024)) /dev/zero >"$work/big.cpio"
expect_error initrd-too-big "initrd '$work/big.cpio' \\(40 MiB\\) does not fit" \
	--kernel "$VMLINUX" --initrd "$work/big.cpio" --memory 48M
expect_error initrd-missing "initrd '/nonexistent/initrd': No such file" \
	--kernel "$VMLINUX" --initrd /nonexistent/initrd
expect_usage memory-malformed "--memory '12X': not a size" --kernel "$VMLINUX" --memory 12X
expect_usage usage-no-kernel "run: no --kernel given" --memory 128M
expect_usage usage-unknown-option "unrecognized option '--no-such-option'" --kernel "$VMLINUX" --no-such-option
expect_usage usage-bad-backend "--memory-backend 'fast': not a backend" --kernel "$VMLINUX" --memory-backend fast
expect_usage usage-extra-argument "run: unexpected argument 'extra'" --kernel "$VMLINUX" extra
expect_error memory-too-small "memory size 1 MiB is too small" --kernel "$VMLINUX" --memory 1M
long=$(printf 'x%.0s' $(seq 1 3000))
expect_error cmdline-too-long-pvh "command line is too long: 3000 bytes.*2047" \
	--kernel "$VMLINUX" --cmdline "$long"
expect_error cmdline-too-long-bzimage "command line is too long: 3000 bytes" \
	--kernel "$BZIMAGE" --cmdline "$long" --no-unpack

# kvm-check: the KVM the tests run on is usable, by the probe's evidence.
if selected kvm-check-usable; then
	"$MOTE" kvm-check >"$out" 2>&1
	rc=$?
	if [ $rc -ne 0 ] || ! grep -q "^verdict: usable$" "$out"; then
		fail kvm-check-usable "exit $rc, expected 0 and 'verdict: usable'"
	elif ! grep -q "^probe:   got through every step" "$out" ||
		! grep -qE "^module:  kvm_(amd|intel) " "$out"; then
		fail kvm-check-usable "no probe evidence or no hardware KVM module named"
	else
		pass "kvm-check-usable ($(sed -n 's/^probe:   got through every step in \([0-9.]* ms\).*/\1/p' "$out"))"
	fi
fi

# A check writes this boot's verdict and prunes other boots' older than a day.
if selected kvm-check-cache-pruned; then
	mkdir -p "$work/prune/kvm-check"
	id=$(cat /proc/sys/kernel/random/boot_id)
	echo stale >"$work/prune/kvm-check/old-boot"
	echo recent >"$work/prune/kvm-check/recent-boot"
	touch -d '3 days ago' "$work/prune/kvm-check/old-boot"
	MOTE_CACHE=$work/prune "$MOTE" kvm-check >"$out" 2>&1
	if [ "$(sed -n 4p "$work/prune/kvm-check/$id" 2>/dev/null)" != 0 ]; then
		fail kvm-check-cache-pruned "no usable verdict cached for boot $id"
	elif [ -e "$work/prune/kvm-check/old-boot" ] || [ ! -e "$work/prune/kvm-check/recent-boot" ]; then
		fail kvm-check-cache-pruned "the old verdict was kept or the recent one removed"
	else
		pass kvm-check-cache-pruned
	fi
fi

# expect_probe NAME CASE STATUS PATTERN: the probe VM, broken as CASE says,
# ends with STATUS and a verdict matching PATTERN, on this real KVM.
expect_probe() {
	local name=$1
	selected "$name" || return 0
	timeout 60 "$TESTBIN/probe-fault" "$2" >"$out" 2>&1
	rc=$?
	if [ $rc -ne "$3" ]; then
		fail "$name" "probe-fault $2 exited $rc, expected $3"
	elif ! grep -qE -- "$4" "$out"; then
		fail "$name" "verdict does not match /$4/"
	else
		pass "$name"
	fi
}
expect_probe probe-intact intact 0 "^probe: got through"
expect_probe probe-emulation-failure xsave-mmio 1 "stopped in step 5, FPU set-up .*: KVM internal error: emulation failure \(suberror 1\) at rip 0x1[0-9a-f]{4}: instruction 0f ae 27.* \(xsave\)"
expect_probe probe-hang hang 1 "did not finish in 2000 ms; it hung in step 6, int3 caught by the guest's own IDT"
expect_probe probe-wrong-result wrong-msr 1 "step 4, privileged MSR write and read .*, ran but gave a wrong result"

# A guest that makes KVM fail: the error names the suberror, the
# instruction KVM could not emulate, and a likely cause.
if selected internal-error-decoded; then
	"$TESTBIN/mkpvh" "$work/flds.elf"
	run_mote --kernel "$work/flds.elf" --no-balloon
	if [ $rc -ne 1 ]; then
		fail internal-error-decoded "mote exited $rc, expected 1"
	elif ! grep -q "mote: vCPU 0: KVM internal error: emulation failure (suberror 1) at rip 0x100005: instruction d9 00 .*(x87 FPU instruction). Likely cause: " "$out"; then
		fail internal-error-decoded "the error is not decoded"
	else
		pass internal-error-decoded
	fi
fi

# A vCPU other than the boot one fails: the whole VM ends at once, with
# the vCPU and the failure named, and no thread is left behind (mote exits
# while vCPU 0 sits halted in the kernel).
expect_ap_failure() {
	local name=$1 case=$2 want=$3
	selected "$name" || return 0
	"$TESTBIN/mkpvh" "$work/$case.elf" "$case"
	SECONDS=0
	run_mote --kernel "$work/$case.elf" --cpus 2 --no-balloon
	if [ $rc -ne 1 ]; then
		fail "$name" "mote exited $rc, expected 1: $(tail -n 2 "$out")"
	elif ! grep -qE -- "$want" "$out"; then
		fail "$name" "no message /$want/: $(tail -n 2 "$out")"
	else
		pass "$name (${SECONDS} s)"
	fi
}
expect_ap_failure ap-internal-error ap-flds \
	"^mote: vCPU 1: KVM internal error: emulation failure \(suberror 1\) at rip 0x[0-9a-f]+: instruction (67 )?d9 05 00 00 00 e0.*\(x87 FPU instruction\)"
expect_ap_failure ap-triple-fault ap-triple-fault \
	"^mote: vCPU 1: triple fault \(KVM_EXIT_SHUTDOWN\) on an application processor: the guest crashed \(rip 0x[0-9a-f]+\)"

# mote run trusts this boot's cached verdict: an unusable one refuses
# before the guest starts, --no-kvm-check boots all the same.
if selected kvm-check-cached-refusal; then
	# A real check writes the verdict; the test turns it into a refusal.
	MOTE_CACHE=$work/cache "$MOTE" kvm-check >/dev/null 2>&1
	verdict_file=$work/cache/kvm-check/$(cat /proc/sys/kernel/random/boot_id)
	sed -i '4s/.*/1/; 5s/.*/fake verdict for the test/' "$verdict_file"
	MOTE_CACHE=$work/cache run_mote --kernel "$VMLINUX" --initrd "$INITRD" --cmdline "console=ttyS0 quiet"
	if [ $rc -ne 1 ] || ! grep -q "cannot run ordinary guests: fake verdict for the test.*--no-kvm-check" "$out"; then
		fail kvm-check-cached-refusal "exit $rc, expected 1 with the cached reason"
	elif grep -q "$MARKER" "$out"; then
		fail kvm-check-cached-refusal "the guest started"
	else
		MOTE_CACHE=$work/cache run_mote --no-kvm-check --kernel "$VMLINUX" --initrd "$INITRD" \
			--cmdline "console=ttyS0 quiet"
		if [ $rc -ne 0 ] || ! grep -q "$MARKER" "$out"; then
			fail kvm-check-cached-refusal "--no-kvm-check did not boot (exit $rc)"
		else
			pass kvm-check-cached-refusal
		fi
	fi
fi

# make run tells the truth: a kernel that fails makes it fail, saying why.
if selected make-run-fails; then
	head -c 100000 "$VMLINUX" >"$work/truncated-demo"
	timeout 600 make --no-print-directory run BUILD="$BUILD_DIR" DEMO_KERNEL="$work/truncated-demo" >"$out" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		fail make-run-fails "make run exited 0 on a truncated kernel"
	elif ! grep -q "is truncated" "$out" || ! grep -q "boot-time: demo: the VM failed (exit status 1), before the guest's init marker" "$out"; then
		fail make-run-fails "no message saying the VM failed and why"
	else
		pass "make-run-fails (make exited $rc)"
	fi
fi

# Help lists every option with its default.
if selected help; then
	"$MOTE" run --help >"$out" 2>&1
	miss=
	for o in --kernel --initrd --cmdline --memory --verbose --help --no-kvm-check "default: 128M" 'default: "console=ttyS0"'; do
		grep -q -- "$o" "$out" || miss="$miss $o"
	done
	if [ -z "$miss" ] && "$MOTE" --help | grep -q "run" && "$MOTE" --help | grep -q "kvm-check"; then
		pass help
	else
		fail help "missing:$miss"
	fi
fi

# The device tests, one file per device (tests/integration/cases/*.sh),
# with the helpers above and the script disk below.
TEST_INITRD=$GUEST/test.cpio

# script_disk FILE: makes the image of the script on stdin for the test
# init (guest/test-init.sh): the text, padded with newlines to a sector.
script_disk() {
	local f=$1
	cat >"$f"
	local size
	size=$(stat -c %s "$f")
	head -c $(((512 - size % 512) % 512 + 512)) /dev/zero | tr '\0' '\n' >>"$f"
}

# run_script NAME SCRIPT-FILE ARGS...: boots the test VM with the script
# disk last (after the disks in ARGS); sets $rc, output in $out.
run_script() {
	local name=$1 script=$2
	shift 2
	script_disk "$work/$name.script" <"$script"
	run_mote --kernel "$VMLINUX" --initrd "$TEST_INITRD" --memory 256M \
		--cmdline "console=ttyS0 quiet" "$@" --disk "$work/$name.script,ro,id=script"
}

for case_file in tests/integration/cases/*.sh; do
	[ -e "$case_file" ] && . "$case_file"
done

retry_flakes
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
