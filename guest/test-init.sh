#!/bin/busybox sh
# Init of the device tests' VM: mounts, prints the marker, then runs the test
# script that the host hands over as a read-only disk with serial "script"
# (text, padded with newlines to whole sectors), and reboots. The script's
# output on the console is what the test reads.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo "MOTE-GUEST-INIT-OK"
for d in /sys/block/vd*; do
	[ -e "$d/serial" ] && [ "$(cat "$d/serial")" = script ] && script=/dev/${d##*/}
done
if [ -n "${script:-}" ]; then
	echo "test-init: running $script"
	sh "$script"
	echo "test-init: script exited $?"
else
	echo "test-init: no disk with serial 'script'"
fi
sync
reboot -f
