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
echo "mote shell: type 'reboot -f' or Ctrl-D to leave (Ctrl-A x quits at once)"
setsid cttyhack sh
reboot -f
