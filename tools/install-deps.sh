#!/usr/bin/env bash
# Installs what mote's build, guest kit and tests need from Debian, if missing.
set -euo pipefail
need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for p in build-essential libcmocka-dev libjson-c-dev qemu-system-x86 busybox-static cpio \
	linux-source-6.1 bc flex bison libelf-dev libssl-dev xz-utils kmod clang llvm libclang-rt-14-dev acpica-tools python3 \
	liburing-dev iproute2 e2fsprogs debootstrap iperf3 zstd node-llhttp curl zlib1g-dev \
	liblzma-dev libzstd-dev liblz4-dev lz4; do
	have "$p" || need+=("$p")
done
[ ${#need[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${need[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: run as root, or: sudo apt-get install ${need[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
