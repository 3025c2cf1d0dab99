#!/usr/bin/env bash
# Builds the guest kernel (vmlinux for PVH, bzImage for the 64-bit boot
# protocol) from Debian's linux-source-6.1, cached under
# $MOTE_CACHE/kernel/<hash of inputs>. Prints the cache directory.
# Usage: guest/build-kernel.sh OUTDIR   (OUTDIR gets vmlinux and bzImage links)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build-kernel.sh OUTDIR}
cache=${MOTE_CACHE:-$HOME/.cache/mote}
src=/usr/src/linux-source-6.1.tar.xz
smp=${GUEST_SMP:-y} # GUEST_SMP=n: a uniprocessor kit, to measure what SMP costs
[ -f "$src" ] || { echo "build-kernel: $src missing (apt-get install linux-source-6.1)" >&2; exit 1; }

frag=$(mktemp)
trap 'rm -f "$frag"' EXIT
cat "$here/kernel.config" > "$frag"
echo "CONFIG_SMP=$smp" >> "$frag"
patches=$(ls "$here"/patches/*.patch 2>/dev/null || true)
key=$( { cat "$frag"; stat -c %s "$src"; cat $patches /dev/null; cat "$0"; } | sha256sum | cut -c1-16)
dir=$cache/kernel/$key
if [ ! -f "$dir/bzImage" ]; then
	echo "build-kernel: building guest kernel $key (about 7 min on 2 cores)" >&2
	work=$cache/kernel/work-$key
	rm -rf "$work" && mkdir -p "$work"
	tar -C "$work" -xf "$src"
	ksrc=$(echo "$work"/linux-source-6.1)
	for p in $patches; do patch -d "$ksrc" -p1 -s < "$p"; done
	make -s -C "$ksrc" ARCH=x86_64 tinyconfig >/dev/null
	(cd "$ksrc" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m .config "$frag" >/dev/null)
	make -s -C "$ksrc" ARCH=x86_64 olddefconfig >/dev/null
	for opt in $(grep -E '^CONFIG_[A-Z0-9_]+=y' "$frag" | cut -d= -f1); do
		grep -q "^$opt=y" "$ksrc/.config" || { echo "build-kernel: $opt did not stick" >&2; exit 1; }
	done
	make -s -C "$ksrc" ARCH=x86_64 -j"$(nproc)" vmlinux bzImage >&2
	mkdir -p "$dir.tmp"
	cp "$ksrc/vmlinux" "$ksrc/arch/x86/boot/bzImage" "$ksrc/.config" "$dir.tmp/"
	rm -rf "$dir" && mv "$dir.tmp" "$dir"
	rm -rf "$work"
fi
mkdir -p "$out"
ln -sf "$dir/vmlinux" "$out/vmlinux"
ln -sf "$dir/bzImage" "$out/bzImage"
echo "$dir"
