#!/usr/bin/env bash
# The hardened build, read back from what was built: the mote binary is a
# static PIE with full RELRO, BIND_NOW and a non-executable stack, and each
# of mote's own objects was compiled with the hardening flags (recorded in
# it by -frecord-gcc-switches), carries the CET property, starts every
# function with endbr64, and calls the fortified and canary-checking libc
# entry points. Prints "hardening: N passed, N failed".
# Usage: tests/hardening.sh [BUILD]   (default build)
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
mote=$build/mote
passed=0 failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
check() {
	if eval "$2"; then echo "PASS $1"; passed=$((passed + 1)); else
		echo "FAIL $1"; sed 's/^/    | /' "$work/out" 2>/dev/null | tail -n 10; failed=$((failed + 1)); fi
}
: >"$work/out"

readelf -hlWd "$mote" >"$work/elf" 2>&1
check binary-pie 'grep -q "Type: *DYN (Position-Independent Executable file)" "$work/elf"'
check binary-static '! grep -q "INTERP" "$work/elf" && ! grep -q "(NEEDED)" "$work/elf"'
check binary-bind-now 'grep -qE "\(FLAGS\) +BIND_NOW|Flags: .*NOW" "$work/elf"'
check binary-relro 'grep -q "GNU_RELRO" "$work/elf"'
check binary-stack-not-executable 'grep -E "GNU_STACK" "$work/elf" | grep -qv "RWE"'

objs=$(find "$build/src" -name '*.o' | sort)
c_objs=$(grep -v '_guest\.o$' <<<"$objs") # the probe guest is assembly: no recorded flags
[ -n "$objs" ] || echo "no objects under $build/src" >"$work/out"

# Each C object records the flags it was compiled with.
: >"$work/out"
for o in $c_objs; do
	line=$(readelf -p .GCC.command.line "$o" 2>/dev/null | tr '\n' ' ')
	for f in -fPIE -fstack-protector-strong -fstack-clash-protection -fcf-protection=full; do
		[[ " $line " == *" $f "* ]] || echo "$o: compiled without $f" >>"$work/out"
	done
done
check objects-compiled-hardened '[ -n "$c_objs" ] && [ ! -s "$work/out" ]'

# Every object, the assembler one too, is marked IBT and SHSTK compatible.
: >"$work/out"
for o in $objs; do
	readelf -n "$o" | grep -q "x86 feature: IBT, SHSTK" || echo "$o: no IBT/SHSTK property" >>"$work/out"
done
check objects-cet-property '[ -n "$objs" ] && [ ! -s "$work/out" ]'

# Every global function of mote's C code starts with endbr64: it may be
# reached indirectly (gcc leaves it out of static functions whose address
# is never taken, which no indirect branch can reach).
: >"$work/out"
for o in $c_objs; do
	nm --defined-only -g "$o" | awk '$2 == "T" { print $3 }' >"$work/globals"
	objdump -d --no-show-raw-insn "$o" | awk -v o="$o" -v list="$work/globals" '
		BEGIN { while ((getline g < list) > 0) want["<" g ">:"] = 1 }
		/^[0-9a-f]+ <[^>]+>:$/ { fn = $2; first = (fn in want); next }
		first && /^ *[0-9a-f]+:/ { first = 0; if ($2 != "endbr64") print o ": " fn " starts with " $2 }'
done >"$work/out"
check global-functions-start-with-endbr64 '[ -n "$c_objs" ] && [ ! -s "$work/out" ]'

# Canaries and fortified calls are really in the code.
nm -u $c_objs 2>/dev/null >"$work/syms"
check objects-call-stack-chk-fail 'grep -q " __stack_chk_fail$" "$work/syms"'
check objects-call-fortified-libc 'grep -qE " __(snprintf|vsnprintf|memcpy|read|fprintf|strcat)_chk$" "$work/syms"'

# The flags themselves: _FORTIFY_SOURCE=3 is in force (a copy of unknown
# size into a fixed buffer becomes __memcpy_chk) and CFLAGS adds to them.
cat >"$work/f.c" <<'EOF'
#include <string.h>
char dst[16];
void copy(const char *s, size_t n);
void copy(const char *s, size_t n) { memcpy(dst, s, n); }
EOF
flags=$(make -s --no-print-directory print-cflags CFLAGS="-O2 -DEXTRA_FLAG_SEEN")
echo "$flags" >"$work/out"
# shellcheck disable=SC2086
cc $flags -c -o "$work/f.o" "$work/f.c" 2>>"$work/out"
check fortify-level-3-in-force 'nm "$work/f.o" | grep -q "__memcpy_chk"'
check cflags-add-to-required '[[ " $flags " == *" -DEXTRA_FLAG_SEEN "* ]] &&
	[[ " $flags " == *" -std=gnu11 "* ]] && [[ " $flags " == *" -Werror "* ]] &&
	[[ " $flags " == *" -D_GNU_SOURCE "* ]] && [[ " $flags " == *" -MMD "* ]] &&
	[[ " $flags " == *" -fstack-protector-strong "* ]]'

echo "hardening: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
