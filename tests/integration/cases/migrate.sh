# Live migration (sourced by tests/integration/run.sh, after api.sh): the
# seed's case, a 1 GiB guest that touched 64 MiB, moved over loopback with
# mote migrate to a mote waiting with --incoming. The guest writes a line to
# a disk and syncs it, touches 64 MiB, then counts; the count goes on at the
# destination without a reset, the line reads back from the disk there, the
# source exits 0, and the destination's RSS is at most 1.05 times the
# source's. For anon, memfd and hugetlb RAM. And a refused stream leaves the
# source running.

MIGRATE_TICKS=${MIGRATE_TICKS:-30}

# The nested runner's outer VM leaves its loopback down.
migrate_loopback() {
	ip link show lo 2>/dev/null | grep -q UP || ip link set lo up 2>/dev/null
}

migrate_guest_script() {
	cat <<EOF
n=$MIGRATE_TICKS
EOF
	cat <<'EOF'
echo "disk-line-$(cat /proc/sys/kernel/random/boot_id)" >/tmp/line
dd if=/tmp/line of=/dev/vda bs=512 count=1 conv=sync,fsync 2>/dev/null
echo "wrote $(cat /tmp/line)"
dd if=/dev/urandom of=/tmp/touched bs=1M count=64 2>/dev/null
echo "touched 64 MiB"
i=0
while [ $i -lt "$n" ]; do
	i=$((i + 1))
	echo "tick $i $(cut -d' ' -f1 /proc/uptime)"
	sleep 0.5
done
echo "read $(dd if=/dev/vda bs=512 count=1 iflag=direct 2>/dev/null | tr -d '\0' | head -n 1)"
echo "ticks done"
EOF
}

# migrate_rss PID: its resident KiB (anonymous, file and shared memory, and
# huge pages, which VmRSS leaves out).
migrate_rss() {
	awk '/^(VmRSS|HugetlbPages):/ { kib += $2 } END { print kib + 0 }' "/proc/$1/status" \
		2>/dev/null || echo 0
}

# migrate_case BACKEND PORT: one migration; sets $why on failure, $note.
migrate_case() {
	local backend=$1 port=$2 sock=$work/mig-src.sock src dst rs rd st sd last first
	why= note=
	truncate -s 1M "$work/mig-data.img"
	migrate_guest_script | script_disk "$work/mig.script"
	rm -f "$sock"
	"$MOTE" run --api-sock "$sock" --kernel "$VMLINUX" --initrd "$TEST_INITRD" --memory 1G \
		--memory-backend "$backend" --cmdline "console=ttyS0 quiet" \
		--disk "$work/mig-data.img" --disk "$work/mig.script,ro,id=script" \
		</dev/null >"$work/mig-src.out" 2>&1 &
	src=$!
	"$MOTE" run --incoming "tcp:127.0.0.1:$port" --memory-backend "$backend" \
		</dev/null >"$work/mig-dst.out" 2>&1 &
	dst=$!
	for _ in $(seq 1 "$TIMEOUT"); do
		grep -q "^tick 3 " "$work/mig-src.out" && break
		kill -0 $src 2>/dev/null || break
		sleep 1
	done
	rs=$(migrate_rss $src)
	if ! "$MOTE" migrate --api-sock "$sock" "tcp:127.0.0.1:$port" >"$work/mig.answer" 2>&1; then
		why="$backend: mote migrate failed: $(cat "$work/mig.answer")"
	fi
	sleep 1
	rd=$(migrate_rss $dst)
	snap_wait $src
	st=$?
	snap_wait $dst
	sd=$?
	cat "$work/mig-src.out" "$work/mig.answer" "$work/mig-dst.out" >"$out"
	last=$(snap_ticks "$work/mig-src.out" | tail -n 1)
	first=$(snap_ticks "$work/mig-dst.out" | head -n 1)
	if [ -n "$why" ]; then
		return
	elif [ $st -ne 0 ] || ! grep -q "moved to tcp:127.0.0.1:$port" "$work/mig-src.out"; then
		why="$backend: the source exited $st without saying the VM moved"
	elif [ $sd -ne 0 ] || ! grep -q "^ticks done" "$work/mig-dst.out"; then
		why="$backend: the destination exited $sd before the guest counted to the end"
	elif [ -z "$first" ] || [ "${first% *}" -lt "${last% *}" ] || [ "${first% *}" -gt $((${last% *} + 2)) ]; then
		why="$backend: the destination counted from '${first% *}', the source stopped at '${last% *}'"
	elif [ "$(sed -n 's/^wrote //p' "$work/mig-src.out" | tr -d '\r')" != "$(sed -n 's/^read //p' "$work/mig-dst.out" | tr -d '\r')" ]; then
		why="$backend: the disk line written before the migration does not read back after it"
	elif [ "$rs" -le 0 ] || [ $((rd * 100)) -gt $((rs * 105)) ]; then
		why="$backend: destination RSS $rd KiB, source $rs KiB (at most 1.05x)"
	fi
	note="$backend: RSS $((rs >> 10)) -> $((rd >> 10)) MiB, $(sed -n 's/.*"bytes":\([0-9]*\).*/\1/p' "$work/mig.answer" | awk '{ printf "%d MiB sent", $1 / 1048576 }')"
}

if selected migrate-live; then
	migrate_loopback
	notes=
	hp=/sys/kernel/mm/hugepages/hugepages-2048kB
	hp_total=$(cat $hp/nr_hugepages 2>/dev/null || echo 0)
	for backend in anon memfd hugetlb; do
		if [ $backend = hugetlb ]; then
			# 1 GiB each for the source and the destination, and some
			echo $((hp_total + 1100)) >$hp/nr_hugepages 2>/dev/null
			if [ "$(cat $hp/free_hugepages 2>/dev/null || echo 0)" -lt 1024 ]; then
				why="hugetlb: cannot reserve 1024 huge pages (as root: $hp/nr_hugepages)"
				break
			fi
		fi
		migrate_case $backend $((20000 + RANDOM % 20000))
		[ -n "$why" ] && break
		notes="$notes${notes:+; }$note"
	done
	echo "$hp_total" >$hp/nr_hugepages 2>/dev/null
	if [ -n "$why" ]; then fail migrate-live "$why"; else pass "migrate-live ($notes)"; fi
fi

# A stream the destination refuses (wrong magic: a plain TCP peer that
# answers nothing) leaves the source running; a destination fed junk says why.
if selected migrate-refused; then
	migrate_loopback
	sock=$work/mig-src.sock port=$((20000 + RANDOM % 20000))
	why=
	rm -f "$sock"
	"$MOTE" run --api-sock "$sock" --kernel "$VMLINUX" --initrd "$INITRD" --memory 256M \
		--cmdline "console=ttyS0 quiet -- hold=600" </dev/null >"$out" 2>&1 &
	src=$!
	wait_marker "$out" $src || why="no boot"
	"$MOTE" migrate --api-sock "$sock" "tcp:127.0.0.1:$port" >"$work/mig.answer" 2>&1
	[ -z "$why" ] && ! grep -q "127.0.0.1:$port" "$work/mig.answer" && why="no connection refused: $(cat "$work/mig.answer")"
	"$MOTE" run --incoming "tcp:127.0.0.1:$port" </dev/null >"$work/mig-dst.out" 2>&1 &
	dst=$!
	sleep 1
	printf 'MOTEMIGR\002\000\000\000\001\000\000\000' | busybox nc 127.0.0.1 $port >/dev/null 2>&1
	snap_wait $dst
	sd=$?
	[ -z "$why" ] && { [ $sd -ne 1 ] || ! grep -q "version 2" "$work/mig-dst.out"; } &&
		why="destination fed a version 2 stream: exit $sd, $(cat "$work/mig-dst.out")"
	api_call "$sock" GET /
	[ -z "$why" ] && [[ $api_body != *'"state":"Running"'* ]] && why="the source is not running after the failures: $api_body"
	kill -TERM $src 2>/dev/null
	wait $src 2>/dev/null
	if [ -n "$why" ]; then fail migrate-refused "$why"; else pass migrate-refused; fi
fi
