# Distribution kernels (sourced by tests/integration/run.sh): Debian's generic kernel, as Debian
# ships it, boots under mote without waiting on hardware mote does not have (issue 13), through
# its PVH entry from the copy mote unpacked from the bzImage into its cache. The kit's
# init prints the kernel's log after the boot ("dmesg"; the console stays quiet meanwhile, so
# that its output slows nothing), with initcall_debug: no probe initcall takes longer than its
# limit below, the RTC is never "broken or not accessible", no AGP scan runs, and the guest's
# wall clock is the host's within a second. With ACPI (the FADT says there is no CMOS RTC: the
# RTC driver finds no device) and without (an MP table: the driver probes mote's MC146818 and
# registers it as rtc0, where QEMU's microvm makes it wait out 20000 reads, 5-7 s nested).

# The initcalls that probe hardware (the RTC, the UARTs, the i8042, PCI) and their limits in ms,
# nested (a probe that waits on missing hardware takes seconds here).
DISTRO_PROBES_ACPI="cmos_init:10 serial8250_init:100 i8042_init:100 pci_subsys_init:100"
DISTRO_PROBES_MP="cmos_init:100 serial8250_init:100 i8042_init:100 pci_subsys_init:100"

generic_kernel() {
	ls "$CACHE"/debian-kernel/linux-image-*[0-9]-amd64/boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1
}

# distro_boot NAME PROBES ARGS...: boots the generic kernel; sets $why on a failure, $note.
distro_boot() {
	local name=$1 probes=$2 pid host_at guest_at us f max line
	shift 2
	why= note=
	# each console line as it comes, the wall clock line stamped with the host's time when it
	# arrived ($EPOCHREALTIME: no process to start, so no delay of its own)
	(
		set -o pipefail
		"$MOTE" run -v --kernel "$generic" --initrd "$INITRD" --memory 256M \
			--cmdline "console=ttyS0 quiet initcall_debug printk.time=1 log_buf_len=4M -- dmesg" \
			"$@" </dev/null 2>&1 | while IFS= read -r line; do
			[[ $line == wallclock:* ]] && echo "host-wallclock: $EPOCHREALTIME"
			printf '%s\n' "$line"
		done >"$out"
	) &
	pid=$!
	snap_wait $pid
	rc=$?
	tr -d '\r' <"$out" >"$work/distro.log"
	guest_at=$(sed -n 's/^wallclock: \([0-9.]*\)$/\1/p' "$work/distro.log" | head -n 1)
	host_at=$(sed -n 's/^host-wallclock: \([0-9.]*\)$/\1/p' "$work/distro.log" | head -n 1)
	if [ $rc -ne 0 ] || ! grep -q "$MARKER" "$work/distro.log"; then
		why="$name: exit $rc, marker $(grep -c "$MARKER" "$work/distro.log")"
		return
	fi
	if ! grep -q "^mote: the bzImage's kernel boots through its PVH entry from " "$work/distro.log"; then
		why="$name: not booted through its PVH entry from mote's unpacked copy: $(grep -m 1 "^mote: the bzImage" "$work/distro.log")"
		return
	fi
	if ! grep -q "initcall .* returned" "$work/distro.log"; then
		why="$name: no initcall in the kernel's log (did init print it?)"
		return
	fi
	if grep -q "broken or not accessible" "$work/distro.log"; then
		why="$name: $(grep -m 1 "broken or not accessible" "$work/distro.log")"
		return
	fi
	if grep -q "AGP: Checking aperture" "$work/distro.log"; then
		why="$name: the kernel scanned PCI for an AGP bridge"
		return
	fi
	note=
	for f in $probes; do
		max=${f#*:} f=${f%:*}
		us=$(sed -n "s/.*initcall $f+0x[0-9a-f]*\/0x[0-9a-f]* returned [-0-9]* after \([0-9]*\) usecs.*/\1/p" \
			"$work/distro.log" | head -n 1)
		if [ -z "$us" ]; then
			why="$name: no initcall $f in the kernel's log"
			return
		fi
		note="$note $f $((us / 1000)).$((us % 1000 / 100)) ms,"
		if [ "$us" -gt $((max * 1000)) ]; then
			why="$name: initcall $f took $((us / 1000)) ms (at most $max)"
			return
		fi
	done
	if [ -z "$guest_at" ] || [ -z "$host_at" ] ||
		! awk -v g="$guest_at" -v h="$host_at" 'BEGIN { d = h - g; exit !(d > -1 && d < 1) }'; then
		why="$name: the guest's wall clock read ${guest_at:-nothing} when the host's read ${host_at:-nothing}"
		return
	fi
	note="$name:$note clock $(awk -v g="$guest_at" -v h="$host_at" 'BEGIN { printf "%.2f", h - g }') s behind"
}

if selected distro-generic; then
	generic=$(generic_kernel)
	if [ -z "$generic" ]; then
		fail distro-generic "no Debian generic kernel in $CACHE (tools/debian-kernel.sh amd64)"
	else
		distro_boot acpi "$DISTRO_PROBES_ACPI"
		n1=$note
		[ -z "$why" ] && distro_boot no-acpi "$DISTRO_PROBES_MP" --no-acpi
		if [ -z "$why" ] && ! grep -q "rtc_cmos.*registered as rtc0" "$work/distro.log"; then
			why="no-acpi: the RTC was not registered: $(grep -m 1 rtc_cmos "$work/distro.log")"
		fi
		if [ -n "$why" ]; then fail distro-generic "$why"; else pass "distro-generic ($n1; $note)"; fi
	fi
fi
