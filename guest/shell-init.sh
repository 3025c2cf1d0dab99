#!/bin/busybox sh
# Init of the interactive demo VM: mounts, shows what the guest is, runs a shell.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo "MOTE-GUEST-INIT-OK"
echo "uname: $(uname -a)"
echo "memory: $(free -k | awk '/Mem:/{print $2 " KiB total, " $4 " KiB free"}')"
echo "boot: kernel reached init after $(cut -d' ' -f1 /proc/uptime) s (guest clock)"
# Networking: the first interface gets 172.30.0.2/24 (make shell puts the
# host end, 172.30.0.1, on tap mote0).
if [ -e /sys/class/net/eth0 ]; then
	ip link set lo up
	ip addr add 172.30.0.2/24 dev eth0 && ip link set eth0 up &&
		echo "network: eth0 172.30.0.2/24, host 172.30.0.1"
fi
echo "mote shell: type 'reboot -f' or Ctrl-D to leave (Ctrl-A x quits at once)"
setsid cttyhack sh
reboot -f
