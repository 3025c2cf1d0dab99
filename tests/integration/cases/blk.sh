# virtio-blk: real images, read and written by the guest (sourced by run.sh).

# blk_expect NAME WANT...: every WANT line is in the console output.
blk_expect() {
	local name=$1 w
	shift
	if [ "$rc" -ne 0 ]; then
		fail "$name" "mote exited $rc"
		return
	fi
	for w in "$@"; do
		if ! grep -qF -- "$w" "$out"; then
			fail "$name" "no '$w' in the console output"
			return
		fi
	done
	pass "$name"
}

# Reads and writes both ways, with each engine: the guest sees the host's
# bytes, the host sees what the guest wrote and synced.
# cache=none (O_DIRECT) needs a file system that takes it, which a tmpfs
# (the nested runner's TMPDIR) does not: its images go in the cache.
blk_dir=$CACHE/tests
mkdir -p "$blk_dir"
for case in io_uring sync direct; do
	selected "blk-rw-$case" || continue
	io=$case
	[ "$case" = direct ] && io=io_uring,cache=none
	head -c 3M /dev/urandom >"$blk_dir/a.img"
	truncate -s 4M "$blk_dir/b.img"
	cat >"$work/rw.sh" <<'SH'
echo "size: $(cat /sys/block/vda/size)"
echo "guest-a: $(md5sum /dev/vda | cut -d' ' -f1)"
dd if=/dev/vda of=/dev/vdb bs=64k conv=fsync 2>/dev/null && echo copied
SH
	run_script "blk-rw-$case" "$work/rw.sh" --disk "$blk_dir/a.img,io=$io" --disk "$blk_dir/b.img,io=$io"
	want=$(md5sum <"$blk_dir/a.img" | cut -d' ' -f1)
	got=$(head -c 3M "$blk_dir/b.img" | md5sum | cut -d' ' -f1)
	rm -f "$blk_dir/a.img" "$blk_dir/b.img"
	if [ "$want" != "$got" ]; then
		fail "blk-rw-$case" "the host file has $got, the guest wrote $want"
	else
		blk_expect "blk-rw-$case" "size: 6144" "guest-a: $want" copied
	fi
done

# A read-only disk: the guest's kernel knows, its writes fail, the file keeps its bytes.
if selected blk-ro; then
	head -c 1M /dev/urandom >"$work/ro.img"
	want=$(md5sum <"$work/ro.img")
	cat >"$work/ro.sh" <<'SH'
echo "ro-flag: $(cat /sys/block/vda/ro)"
dd if=/dev/zero of=/dev/vda bs=4k count=1 oflag=direct 2>/dev/null && echo write-ok || echo write-refused
SH
	run_script blk-ro "$work/ro.sh" --disk "$work/ro.img,ro"
	if [ "$(md5sum <"$work/ro.img")" != "$want" ]; then
		fail blk-ro "the read-only image changed"
	else
		blk_expect blk-ro "ro-flag: 1" write-refused
	fi
fi

# Discard punches holes: the file's blocks drop, the guest reads zeros there.
# (busybox's blkdiscard has no -z: write zeroes is tested in the unit and
# fuzz tests, and by the Debian image's util-linux.)
if selected blk-discard; then
	head -c 8M /dev/urandom >"$work/d.img"
	before=$(stat -c %b "$work/d.img")
	cat >"$work/d.sh" <<'SH'
echo "discard-max: $(cat /sys/block/vda/queue/discard_max_bytes)"
blkdiscard -o 0 -l 4194304 /dev/vda && echo discarded
echo 1 >/proc/sys/vm/drop_caches
echo "zero-md5: $(dd if=/dev/vda bs=1M skip=1 count=1 2>/dev/null | md5sum | cut -d' ' -f1)"
SH
	run_script blk-discard "$work/d.sh" --disk "$work/d.img"
	after=$(stat -c %b "$work/d.img")
	zero=$(head -c 1M /dev/zero | md5sum | cut -d' ' -f1)
	if [ "$after" -ge $((before - 8192 + 256)) ]; then
		fail blk-discard "st_blocks went from $before to $after, not down by 4 MiB"
	elif [ "$(tail -c +1048577 "$work/d.img" | head -c 1M | md5sum | cut -d' ' -f1)" != "$zero" ]; then
		fail blk-discard "a discarded MiB is not zero in the host file"
	else
		blk_expect blk-discard discarded "zero-md5: $zero"
	fi
fi

# Two disks, each with its serial (GET_ID); several vCPUs get a queue each.
if selected blk-two-disks-id; then
	truncate -s 1M "$work/x.img" "$work/y.img"
	cat >"$work/id.sh" <<'SH'
echo "vda-id: $(cat /sys/block/vda/serial)"
echo "vdb-id: $(cat /sys/block/vdb/serial)"
echo "vda-queues: $(ls /sys/block/vda/mq | wc -l)"
SH
	run_script blk-two-disks-id "$work/id.sh" --cpus 2 --disk "$work/x.img,id=alpha" \
		--disk "$work/y.img,id=beta-disk-0123456789"
	blk_expect blk-two-disks-id "vda-id: alpha" "vdb-id: beta-disk-0123456789" "vda-queues: 2"
fi

# Bad disks are refused before the guest starts, naming the file and why.
truncate -s 1M "$work/lock.img"
expect_error blk-missing "--disk $work/nope.img: cannot open the image" \
	--kernel "$VMLINUX" --disk "$work/nope.img"
# Another process (a stand-in for a second VM) holds the image's OFD write lock.
if selected blk-second-writer; then
	python3 -c 'import fcntl, os, struct, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi4x", fcntl.F_WRLCK, 0, 0, 0, 0))
print("locked", flush=True)
time.sleep(120)' "$work/lock.img" >"$work/locker.out" 2>&1 &
	locker=$!
	for _ in $(seq 1 50); do grep -q locked "$work/locker.out" && break; sleep 0.1; done
	expect_error blk-second-writer "in use: another process holds a write lock" \
		--kernel "$VMLINUX" --disk "$work/lock.img"
	kill "$locker" 2>/dev/null
	wait "$locker" 2>/dev/null
fi
expect_usage blk-same-image-twice "the same image as disk 0" \
	--kernel "$VMLINUX" --disk "$work/lock.img" --disk "$work/lock.img"
expect_error blk-not-a-file "not a regular file or block device" --kernel "$VMLINUX" --disk /dev/null
if [ "$(stat -f -c %T "$work")" = tmpfs ]; then
	expect_error blk-direct-on-tmpfs "cache=none: cannot open the image with O_DIRECT" \
		--kernel "$VMLINUX" --disk "$work/lock.img,cache=none"
fi
expect_usage blk-bad-option "--disk .*'rw' is not ro" --kernel "$VMLINUX" --disk "$work/lock.img,rw"
