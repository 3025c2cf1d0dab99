#!/usr/bin/env bash
# Tests of the project's own tools that need no KVM: the nested runner must
# fail clearly (not hang) when the outer VM cannot come up, and mkcpio must
# write archives that cpio reads back. Prints "tools: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
check() {
	if eval "$2"; then echo "PASS $1"; passed=$((passed + 1)); else
		echo "FAIL $1"; sed 's/^/    | /' "$work/out" | tail -n 10; failed=$((failed + 1)); fi
}

# An outer VM given one second cannot come up: a clear message, status 125.
NESTED_BOOT_TIMEOUT=1 timeout 120 tools/nested-run true >"$work/out" 2>&1
rc=$?
check nested-run-boot-timeout '[ $rc -eq 125 ] && grep -q "did not come up in 1s" "$work/out"'

# A silent outer VM (heartbeat every 10 s, allowed 3 s) is declared stalled.
NESTED_STALL=3 timeout 120 tools/nested-run sleep 60 >"$work/out" 2>&1
rc=$?
check nested-run-stall '[ $rc -eq 125 ] && grep -q "outer VM stalled: no heartbeat for 3s" "$work/out"'

# mkcpio: what goes in comes out, owned by root, device nodes included.
printf 'hello\n' >"$work/f"
printf 'dir /d 0755\nfile /d/f 0644 %s\nslink /l d/f\nnod /dev/console 0600 c 5 1\n' "$work/f" |
	build/guest/mkcpio "$work/a.cpio" 2>"$work/out"
(cd "$work" && cpio -it --quiet <a.cpio >list 2>>out)
check mkcpio-roundtrip 'grep -qx d/f "$work/list" && grep -qx l "$work/list" && grep -qx dev/console "$work/list"'
echo "bogus line" | build/guest/mkcpio "$work/b.cpio" >"$work/out" 2>&1
rc=$?
check mkcpio-bad-line '[ $rc -ne 0 ] && grep -q "line 1: cannot parse" "$work/out"'

# kvm-env picks here or the nested runner from kvm-check's verdict (fake
# verdicts and a fake runner: no KVM needed).
printf '#!/bin/sh\necho "verdict: usable"\nexit 0\n' >"$work/check0"
printf '#!/bin/sh\necho "verdict: not usable: fake PVM reason. Fix: none"\nexit 1\n' >"$work/check1"
printf '#!/bin/sh\necho "verdict: no KVM: /dev/kvm: No such file"\nexit 2\n' >"$work/check2"
printf '#!/bin/sh\necho "RUNNER $*"\n' >"$work/runner"
chmod +x "$work"/check? "$work/runner"
kvm_env() { # VERDICT MODE CMD...: kvm-env's output in $work/out, status in $rc
	local v=$1 mode=$2
	shift 2
	MOTE_NESTED=$mode MOTE_KVM_CHECK="$work/check$v" MOTE_NESTED_RUN="$work/runner" \
		tools/kvm-env "$@" >"$work/out" 2>&1
	rc=$?
}
kvm_env 0 auto echo here
check kvm-env-usable-runs-here '[ $rc -eq 0 ] && [ "$(cat "$work/out")" = here ]'
kvm_env 1 auto echo here
check kvm-env-unusable-nests 'grep -qx "RUNNER echo here" "$work/out" &&
	grep -q "^kvm-env: this host.s KVM cannot run ordinary guests (mote kvm-check, exit 1: not usable: fake PVM reason); running inside tools/nested-run$" "$work/out"'
kvm_env 2 auto echo here
check kvm-env-absent-nests 'grep -qx "RUNNER echo here" "$work/out" && grep -q "exit 2: no KVM" "$work/out"'
kvm_env 0 always echo here
check kvm-env-always 'grep -qx "RUNNER echo here" "$work/out" && grep -q "MOTE_NESTED=always" "$work/out"'
kvm_env 1 never echo here
check kvm-env-never '[ "$(cat "$work/out")" = here ]'
kvm_env 0 auto sh -c "exit 7"
check kvm-env-status-passes '[ $rc -eq 7 ]'
kvm_env 0 sometimes echo here
check kvm-env-bad-mode '[ $rc -eq 2 ] && grep -q "MOTE_NESTED=.sometimes.: not auto, always or never" "$work/out"'
# With the real kvm-check: its verdict on this host decides.
build/mote kvm-check --cached >"$work/verdict" 2>&1
verdict=$?
MOTE_NESTED_RUN="$work/runner" tools/kvm-env echo here >"$work/out" 2>&1
if [ $verdict -eq 0 ]; then
	check kvm-env-this-host-direct '[ "$(cat "$work/out")" = here ]'
else
	check kvm-env-this-host-nested 'grep -qx "RUNNER echo here" "$work/out"'
fi

# boot-time exits non-zero when the VM fails or the marker never comes.
tools/boot-time t sh -c 'echo MOTE-GUEST-INIT-OK' >"$work/out" 2>&1
check boot-time-ok '[ $? -eq 0 ] && grep -q "boot-time: t marker_ms=[0-9]* exit_ms=[0-9]* status=0" "$work/out"'
tools/boot-time t sh -c 'echo MOTE-GUEST-INIT-OK; exit 3' >"$work/out" 2>&1
check boot-time-vm-failed '[ $? -eq 3 ] && grep -q "t: the VM failed (exit status 3)$" "$work/out"'
tools/boot-time t sh -c 'echo nothing' >"$work/out" 2>&1
check boot-time-no-marker '[ $? -eq 1 ] && grep -q "marker .MOTE-GUEST-INIT-OK. never came" "$work/out"'
t0=$SECONDS
STOP_AT_MARKER=1 tools/boot-time t sh -c 'echo MOTE-GUEST-INIT-OK; exec sleep 30' >"$work/out" 2>&1
check boot-time-stop-at-marker '[ $? -eq 0 ] && [ $((SECONDS - t0)) -lt 20 ] && grep -q "status=143" "$work/out"'

# kvm-check: no device, a file that is not KVM, a device node the user may
# not open: exit 2, each with its fix.
MOTE_KVM_DEVICE=/nonexistent/kvm build/mote kvm-check >"$work/out" 2>&1
check kvm-check-absent '[ $? -eq 2 ] && grep -q "^verdict: no KVM: /nonexistent/kvm: No such file.*Fix: run mote inside tools/nested-run" "$work/out"'
echo "not a KVM device" >"$work/plain-file"
MOTE_KVM_DEVICE=$work/plain-file build/mote kvm-check >"$work/out" 2>&1
check kvm-check-not-kvm '[ $? -eq 2 ] && grep -q "plain-file is not a KVM device" "$work/out"'
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
if mknod "$work/kvm" c 10 232 2>/dev/null && chmod 600 "$work/kvm" && chmod 755 "$work" &&
	command -v setpriv >/dev/null && nobody test -x build/mote; then
	MOTE_KVM_DEVICE=$work/kvm nobody build/mote kvm-check >"$work/out" 2>&1
	check kvm-check-no-permission '[ $? -eq 2 ] && grep -q "Permission denied. Fix: add your user to the device.s group" "$work/out"'
else
	echo "SKIP kvm-check-no-permission: cannot make a device node, or user nobody cannot run build/mote"
fi

# The integration runner runs again, at the end, a test whose guest
# triple-faulted or made no progress until the time limit under the nested
# runner, and only there: a fake mote whose first FAILS runs fail that way
# (MODE triple or stall); its --version always answers.
printf '#!/bin/sh\n[ "$1" = run ] || { echo "mote 0.0-fake"; exit 0; }\nc=$(cat "%s/count" 2>/dev/null || echo 0)\necho $((c + 1)) >"%s/count"\nif [ "$c" -lt "$FAILS" ]; then\n\t[ "$MODE" = stall ] && exec sleep 30\n\techo "mote: guest reset (triple fault)"; exit 1\nfi\necho MOTE-GUEST-INIT-OK\n' \
	"$work" "$work" >"$work/fakemote"
chmod +x "$work/fakemote"
flaky() { # FAILS NESTED [MODE]: run.sh pvh-vmlinux on the fake mote, in $work/out, status $rc
	rm -f "$work/count"
	FAILS=$1 MOTE_IN_NESTED=$2 MODE=${3:-triple} TEST_TIMEOUT=3 MOTE=$work/fakemote \
		tests/integration/run.sh pvh-vmlinux >"$work/out" 2>&1
	rc=$?
}
flaky 1 1
check integration-nested-flake-second-run '[ $rc -eq 0 ] && grep -q "^RETRY pvh-vmlinux: .*the guest triple-faulted" "$work/out" &&
	grep -q "^PASS pvh-vmlinux (run 2, after a nested runner.s flake)" "$work/out" &&
	grep -q "^integration: 1 passed, 0 failed" "$work/out"'
flaky 2 1
check integration-nested-flake-third-run '[ $rc -eq 0 ] && grep -q "^PASS pvh-vmlinux (run 3, after a nested runner.s flake)" "$work/out" &&
	grep -q "^integration: 1 passed, 0 failed" "$work/out"'
flaky 3 1
check integration-nested-flake-every-run-fails '[ $rc -eq 1 ] && grep -q "^FAIL pvh-vmlinux: failed in all 3 runs" "$work/out" &&
	grep -q "^integration: 0 passed, 1 failed" "$work/out"'
flaky 1 1 stall
check integration-nested-stall-second-run '[ $rc -eq 0 ] && grep -q "^RETRY pvh-vmlinux: .*made no progress until the time limit" "$work/out" &&
	grep -q "^PASS pvh-vmlinux (run 2, after a nested runner.s flake)" "$work/out"'
flaky 1 ""
check integration-triple-fault-fails-outside-nested '[ $rc -eq 1 ] && ! grep -q "^RETRY" "$work/out" &&
	grep -q "^FAIL pvh-vmlinux: mote exited 1" "$work/out"'

# Where this machine's /dev/kvm is PVM's, mote run refuses straight on it
# with the PVM message, and make run still boots (through the nested runner).
pvm_reason=
[ -d /sys/module/kvm_pvm ] || pvm_reason="this machine has no kvm_pvm"
[ -z "$pvm_reason" ] && [ ! -c /dev/kvm ] && pvm_reason="kvm_pvm is here but registered no /dev/kvm"
if [ -z "$pvm_reason" ]; then
	timeout 120 build/mote run --kernel build/guest/vmlinux --initrd build/guest/initrd.cpio \
		--cmdline "console=ttyS0 quiet" >"$work/out" 2>&1
	rc=$?
	check pvm-host-refused '[ $rc -eq 1 ] && grep -q "cannot run ordinary guests.*kvm_pvm" "$work/out"'
	make --no-print-directory run >"$work/out" 2>&1
	rc=$?
	check pvm-host-make-run-nested '[ $rc -eq 0 ] && grep -q "running inside tools/nested-run" "$work/out" &&
		grep -q "boot-time: demo marker_ms=[0-9]" "$work/out"'
else
	echo "SKIP pvm-host-refused, pvm-host-make-run-nested: $pvm_reason"
fi

echo "tools: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
