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

echo "tools: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
