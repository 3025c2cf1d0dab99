# virtio-net (sourced by tests/integration/run.sh): a tap in a network
# namespace of the test's own, the guest on it at 10.0.0.2, the host side
# at 10.0.0.1. The guest pings the host, then moves NET_MIB MiB (100) over
# TCP each way with busybox nc; each end prints the md5 of what it sent or
# received, and the test compares them. And a missing tap is refused with
# the command that makes one.

NET_MIB=${NET_MIB:-100}
# NET_MOTE_ARGS: more mote options for net-ping-tcp's VM (experiments:
# e.g. --memory-backend hugetlb).

expect_error net-tap-missing \
	"--net tap=mote-nosuch0: no such tap device: create it with \`ip tuntap add mote-nosuch0 mode tap\`" \
	--kernel "$VMLINUX" --initrd "$TEST_INITRD" --net tap=mote-nosuch0

# net_tun: makes sure /dev/net/tun is there; the nested runner's outer VM
# runs Debian's kernel, whose tun is a module that nothing loads.
net_tun() {
	local kver ko
	[ -c /dev/net/tun ] && return 0
	modprobe tun 2>/dev/null && [ -c /dev/net/tun ] && return 0
	kver=$(uname -r)
	ko=$(ls "$CACHE"/debian-kernel/linux-image-"$kver"/lib/modules/"$kver"/kernel/drivers/net/tun.ko* 2>/dev/null | head -n 1)
	case $ko in
	*.xz) xz -dc "$ko" >"$work/tun.ko" && ko=$work/tun.ko ;;
	*.zst) zstd -qdc "$ko" >"$work/tun.ko" && ko=$work/tun.ko ;;
	esac
	[ -n "$ko" ] && insmod "$ko" 2>/dev/null
	for _ in 1 2 3 4 5; do
		[ -c /dev/net/tun ] && return 0
		sleep 0.2
	done
	return 1
}

# net_ns_up NS: the namespace with tap0 at 10.0.0.1/24, up.
net_ns_up() {
	ip netns add "$1" &&
		ip netns exec "$1" ip link set lo up &&
		ip netns exec "$1" ip tuntap add tap0 mode tap &&
		ip netns exec "$1" ip addr add 10.0.0.1/24 dev tap0 &&
		ip netns exec "$1" ip link set tap0 up
}

# net_alive PID...: one of them still runs.
net_alive() {
	local p
	for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done
	return 1
}

# net_field KEY: the value the guest printed as "net: KEY VALUE".
net_field() {
	tr -d '\r' <"$out" | sed -n "s/^net: $1 \([^ ]*\).*/\1/p" | tail -n 1
}

net_guest_script() {
	cat <<EOF
mib=$NET_MIB
EOF
	cat <<'EOF'
ip link set lo up
ip link set eth0 up
ip addr add 10.0.0.2/24 dev eth0
echo "net: mac $(cat /sys/class/net/eth0/address)"
if ping -c 3 -W 10 10.0.0.1 >/tmp/ping 2>&1; then echo "net: ping ok"; else cat /tmp/ping; echo "net: ping failed"; fi
# The data: a 1 MiB - 3 random block over and over (no period of a power
# of two), made once; the md5 is taken of the stream itself.
head -c 1048573 /dev/urandom >/tmp/block
gen() {
	i=0
	while [ $i -le "$mib" ]; do cat /tmp/block; i=$((i + 1)); done | head -c $((mib * 1048576))
}
t=$(date +%s)
sent=$( (gen | tee /proc/self/fd/3 | nc 10.0.0.1 5001 >/dev/null) 3>&1 | md5sum)
echo "net: sent ${sent%% *} $(($(date +%s) - t)) s"
mkfifo /tmp/idle
t=$(date +%s)
got=$(nc 10.0.0.1 5002 <>/tmp/idle | md5sum)
echo "net: received ${got%% *} $(($(date +%s) - t)) s"
EOF
}

test_net_tcp() {
	local name=net-ping-tcp ns=mote-net-$$-$RANDOM mac=52:54:00:12:34:56 mote pids=() up down
	selected "$name" || return 0
	: >"$out"
	if ! net_tun; then
		fail "$name" "no /dev/net/tun (modprobe tun, or tun.ko for $(uname -r) in $CACHE/debian-kernel)"
		return
	fi
	trap 'ip netns del "'"$ns"'" 2>/dev/null; rm -rf "$work"' EXIT
	if ! net_ns_up "$ns" >"$out" 2>&1; then
		fail "$name" "cannot make namespace $ns with tap0 (ip netns, ip tuntap)"
		ip netns del "$ns" 2>/dev/null
		return
	fi
	# The host's ends: one receives what the guest sends, one sends a
	# file; each stdin/stdout is a FIFO that never ends, for busybox nc
	# quits at the end of its input.
	mkfifo "$work/net.idle"
	head -c $((NET_MIB * 1048576)) /dev/urandom >"$work/net.data"
	down=$(md5sum <"$work/net.data" | cut -d' ' -f1)
	timeout $((TIMEOUT + 60)) ip netns exec "$ns" busybox nc -l -p 5001 <>"$work/net.idle" \
		>"$work/net.received" &
	pids+=($!)
	timeout $((TIMEOUT + 60)) ip netns exec "$ns" busybox nc -l -p 5002 <"$work/net.data" >/dev/null &
	pids+=($!)
	mote=$(readlink -f "$MOTE")
	printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$ns" "$mote" >"$work/mote-in-ns"
	chmod +x "$work/mote-in-ns"
	net_guest_script >"$work/net-guest.sh"
	# The usual time limit (300 s) is three times what the nested runner
	# takes (some 100 s: 65 up, 13 down); a guest the runner's emulator
	# stalls (docs/testing.md) is then found out in 5 minutes, not 15. No
	# balloon: with free page reporting the guest's socket-buffer churn went
	# back to the host over and over, which made the nested runner's
	# trouble more frequent (3 of 8 runs). This test is the network's; -v
	# says, should a run fail, where each queue and vCPU stood.
	MOTE=$work/mote-in-ns run_script "$name" "$work/net-guest.sh" \
		--net "tap=tap0,mac=$mac" --no-balloon -v ${NET_MOTE_ARGS:-}
	# Both ends are done once the guest is, or never will be.
	for _ in $(seq 1 10); do
		net_alive "${pids[@]}" || break
		sleep 1
	done
	kill "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	trap 'rm -rf "$work"' EXIT
	up=$(md5sum <"$work/net.received" | cut -d' ' -f1)
	rm -f "$work/net.received" "$work/net.data"
	echo "host: received $up, sent $down" >>"$out"
	if [ $rc -ne 0 ] || ! grep -q "$MARKER" "$out"; then
		fail "$name" "no boot (exit $rc)"
	elif [ "$(net_field mac)" != "$mac" ]; then
		fail "$name" "the guest's eth0 has MAC '$(net_field mac)', expected $mac"
	elif ! grep -q "^net: ping ok" "$out"; then
		fail "$name" "the guest cannot ping the host"
	elif [ "$(net_field sent)" != "$up" ]; then
		fail "$name" "guest to host: the guest sent md5 $(net_field sent), the host received $up"
	elif [ "$(net_field received)" != "$down" ]; then
		fail "$name" "host to guest: the host sent md5 $down, the guest received $(net_field received)"
	else
		pass "$name (ping, $NET_MIB MiB each way: up $(tr -d '\r' <"$out" | sed -n 's/^net: sent [^ ]* //p'), down $(tr -d '\r' <"$out" | sed -n 's/^net: received [^ ]* //p'))"
	fi
}
test_net_tcp
