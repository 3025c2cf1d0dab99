#!/usr/bin/env bash
# Fetches Debian's stock kernel package of a flavour (amd64, cloud-amd64)
# without installing it, unpacked under $MOTE_CACHE/debian-kernel/<package>.
# Prints that directory (it holds boot/vmlinuz-* and lib/modules/*).
# Usage: tools/debian-kernel.sh FLAVOUR
set -euo pipefail
flavour=${1:?usage: debian-kernel.sh amd64|cloud-amd64}
cache=${MOTE_CACHE:-$HOME/.cache/mote}/debian-kernel
pkg=$(apt-cache depends "linux-image-$flavour" 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/{print $2; exit}')
if [ -z "$pkg" ]; then
	# The package lists may be missing on a fresh machine: fall back to the
	# newest kernel already in the cache before giving up.
	dir=$(ls -d "$cache"/linux-image-*-"$flavour" 2>/dev/null | sort -V | tail -n 1)
	[ -n "$dir" ] || { echo "debian-kernel: cannot resolve linux-image-$flavour (run apt-get update)" >&2; exit 1; }
	echo "$dir"
	exit 0
fi
dir=$cache/$pkg
if [ ! -d "$dir/boot" ]; then
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/.dl.XXXXXX")
	(cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
		{ rm -rf "$tmp"; echo "debian-kernel: apt-get download $pkg failed" >&2; exit 1; }
	mkdir -p "$tmp/x" && dpkg -x "$tmp"/*.deb "$tmp/x"
	rm -rf "$dir" && mv "$tmp/x" "$dir" && rm -rf "$tmp"
fi
echo "$dir"
