# A real distribution: the Debian 12 image of guest/mkrootfs (make rootfs)
# boots with Debian's own kernel and initramfs from the image, finds its
# root disk and the rng through the ACPI DSDT (its kernel has no
# virtio_mmio.device= support), reaches systemd's multi-user target and a
# login prompt, and reboots cleanly (sourced by run.sh).
if selected debian-systemd; then
	if [ ! -f "$GUEST/debian.ext4" ]; then
		fail debian-systemd "no Debian image at $GUEST/debian.ext4 (make rootfs)"
	else
		cp --sparse=always "$GUEST/debian.ext4" "$work/debian.ext4"
		LOGIN_CHECKS='cat /sys/devices/virtual/misc/hw_random/rng_current; echo "cmdline-words: $(grep -c virtio_mmio.device /proc/cmdline)"; echo "root: $(findmnt -no SOURCE /)"' \
		LOGIN_WANT='virtio_rng.0' \
			expect_console debian-systemd login --kernel "$GUEST/debian-vmlinuz" \
			--initrd "$GUEST/debian-initrd.img" --memory 512M --cpus 2 \
			--cmdline "console=ttyS0 root=/dev/vda rw" --disk "$work/debian.ext4"
		rm -f "$work/debian.ext4"
	fi
fi
