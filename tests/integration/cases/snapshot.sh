# Snapshots (sourced by tests/integration/run.sh, after api.sh): a guest
# that counts is paused and snapshotted through the API, then two clones
# are restored from that one snapshot at once, one with --restore and one
# with PUT /snapshot/load: each goes on counting from where the source
# stopped, its clock without a jump, and the two share the memory file's
# pages. Then hostile state files are refused with a message. Then a Diff
# snapshot after a Full one, merged into it, restores to where the Diff was.

SNAP_TICKS=${SNAP_TICKS:-30}

snap_guest_script() {
	cat <<EOF
n=$SNAP_TICKS
EOF
	cat <<'EOF'
i=0
while [ $i -lt "$n" ]; do
	i=$((i + 1))
	echo "tick $i $(cut -d' ' -f1 /proc/uptime)"
	sleep 0.5
done
echo "ticks done"
EOF
}

# snap_shared PID FILE: KiB of PID's mappings of FILE shared with another
# process (Shared_Clean, or Shared_Dirty when FILE is on tmpfs, whose pages
# are never clean; a page the guest wrote is a private copy).
snap_shared() {
	awk -v f="$2" '
		/^[0-9a-f]+-[0-9a-f]+ / { on = index($0, f) > 0 }
		on && /^Shared_(Clean|Dirty):/ { kib += $2 }
		END { print kib + 0 }' "/proc/$1/smaps" 2>/dev/null || echo 0
}

# snap_check_clone NAME OUT STATUS LAST LAST_UPTIME: the clone's output goes
# on from the source's last tick to the end: its first whole tick line is
# LAST+1, or LAST+2 when the snapshot caught LAST+1 half sent (the rest of
# that line comes first); "" if so, else why not.
snap_check_clone() {
	local name=$1 file=$2 st=$3 last=$4 up=$5 first
	first=$(snap_ticks "$file" | head -n 1)
	if [ "$st" -ne 0 ]; then
		echo "$name exited $st"
	elif ! grep -q "^ticks done" "$file"; then
		echo "$name did not count to the end"
	elif [ -z "$first" ] || [ "${first% *}" -lt "$last" ] || [ "${first% *}" -gt $((last + 2)) ]; then
		echo "$name started counting at '${first% *}', the source stopped at $last:" \
			"$(tr -d '\r' <"$file" | head -c 300 | tr '\n' '|')"
	elif ! awk -v a="$up" -v b="${first#* }" 'BEGIN { exit !(b >= a && b - a < 10) }'; then
		echo "$name's uptime went from $up to ${first#* }"
	fi
}

if selected snapshot-restore; then
	sock=$work/snap-src.sock sockb=$work/snap-b.sock dir=$work/snap
	why=
	mkdir -p "$dir"
	snap_guest_script | script_disk "$work/snap.script"
	rm -f "$sock" "$sockb"
	"$MOTE" run --api-sock "$sock" --kernel "$VMLINUX" --initrd "$TEST_INITRD" --memory 256M \
		--cmdline "console=ttyS0 quiet" --disk "$work/snap.script,ro,id=script" \
		</dev/null >"$out" 2>&1 &
	pid=$!
	for _ in $(seq 1 "$TIMEOUT"); do
		grep -q "^tick 4 " "$out" && break
		kill -0 $pid 2>/dev/null || break
		sleep 1
	done
	api_call "$sock" PUT /snapshot/create '{"snapshot_path":"'"$dir"'/vmstate","mem_file_path":"'"$dir"'/memory"}'
	[ "$api_status" != 400 ] && why="snapshot of a running VM: $api_status $api_body"
	api_call "$sock" PATCH /vm '{"state":"Paused"}'
	[ -z "$why" ] && [ "$api_status" != 204 ] && why="pause: $api_status $api_body"
	api_call "$sock" PUT /snapshot/create '{"snapshot_type":"Diff","snapshot_path":"'"$dir"'/vmstate","mem_file_path":"'"$dir"'/memory"}'
	# no track_dirty_pages: a Diff is refused, saying what it needs
	[ -z "$why" ] && [[ $api_body != *track_dirty_pages* ]] && why="Diff snapshot: $api_status $api_body"
	api_call "$sock" PUT /snapshot/create '{"snapshot_path":"'"$dir"'/vmstate","mem_file_path":"'"$dir"'/memory"}'
	[ -z "$why" ] && [ "$api_status" != 204 ] && why="snapshot: $api_status $api_body"
	sleep 2 # a paused guest counts no further
	kill -TERM $pid 2>/dev/null
	wait $pid 2>/dev/null
	cp "$out" "$work/snap-src.out"
	last=$(snap_ticks "$work/snap-src.out" | tail -n 1)
	if [ -z "$why" ] && [ ! -s "$dir/vmstate" ]; then
		why="no state file"
	fi
	alloc=$(($(stat -c %b "$dir/memory" 2>/dev/null || echo 0) * 512))
	if [ -z "$why" ] && { [ "$alloc" -lt $((1 << 20)) ] || [ "$alloc" -gt $((128 << 20)) ]; }; then
		why="memory file holds $alloc bytes of a 256 MiB guest (want sparse: 1 to 128 MiB)"
	fi
	if [ -z "$why" ]; then
		"$MOTE" run --restore "$dir" </dev/null >"$work/clone-a.out" 2>&1 &
		pa=$!
		"$MOTE" run --api-sock "$sockb" </dev/null >"$work/clone-b.out" 2>&1 &
		pb=$!
		for _ in $(seq 1 50); do [ -S "$sockb" ] && break; sleep 0.1; done
		api_call "$sockb" PUT /snapshot/load '{"snapshot_path":"'"$dir"'/vmstate","mem_backend":{"backend_path":"'"$dir"'/memory","backend_type":"File"},"resume_vm":true}'
		[ "$api_status" != 204 ] && why="load: $api_status $api_body"
		shared_a=0 shared_b=0
		for _ in $(seq 1 20); do
			shared_a=$(snap_shared $pa "$dir/memory")
			shared_b=$(snap_shared $pb "$dir/memory")
			[ "$shared_a" -gt 1024 ] && [ "$shared_b" -gt 1024 ] && break
			sleep 0.5
		done
		snap_wait $pa
		sa=$?
		snap_wait $pb
		sb=$?
		cat "$work/clone-a.out" "$work/clone-b.out" >>"$out"
		[ -z "$why" ] && why=$(snap_check_clone "clone A (--restore)" "$work/clone-a.out" $sa ${last% *} ${last#* })
		[ -z "$why" ] && why=$(snap_check_clone "clone B (/snapshot/load)" "$work/clone-b.out" $sb ${last% *} ${last#* })
		[ -z "$why" ] && { [ "$shared_a" -le 1024 ] || [ "$shared_b" -le 1024 ]; } &&
			why="the clones share $shared_a KiB and $shared_b KiB of the memory file (want > 1 MiB each)"
	fi
	if [ -n "$why" ]; then
		fail snapshot-restore "$why"
	else
		pass "snapshot-restore (memory file $((alloc >> 20)) MiB of 256, shared $((shared_a >> 10))/$((shared_b >> 10)) MiB)"
	fi
fi

# Hostile state files, made from the good one: each refused with a message
# naming what is wrong, exit 1, no crash.
if selected snapshot-restore; then # the same part: it spoils that snapshot
	dir=$work/snap
	why=
	if [ ! -s "$dir/vmstate" ]; then
		# made by snapshot-restore; alone, make one
		why="no snapshot to spoil (snapshot-restore failed or did not run)"
	fi
	for kind in truncated crc version arch huge-length unknown-device unknown-type \
		vcpu-missing bad-config mem-size; do
		[ -n "$why" ] && break
		case $kind in
		truncated) want='truncated|past the end|no END' ;;
		crc) want='CRC mismatch|past the end|unknown record type|truncated' ;;
		version) want='version 99' ;;
		arch) want='architecture 7' ;;
		huge-length) want='past the end' ;;
		unknown-device) want="device 'virtio-gpu'" ;;
		unknown-type) want='unknown record type 39' ;;
		vcpu-missing) want='vCPU 0' ;;
		bad-config) want='configuration' ;;
		mem-size) want='RAM' ;;
		esac
		mkdir -p "$work/bad-$kind"
		python3 tests/integration/snapfile.py hostile $kind "$dir/vmstate" "$work/bad-$kind/vmstate"
		ln -sf "$dir/memory" "$work/bad-$kind/memory"
		run_mote --restore "$work/bad-$kind"
		if [ $rc -ne 1 ]; then
			why="$kind: exit $rc, expected 1"
		elif ! grep -qE -- "$want" "$out"; then
			why="$kind: message does not match /$want/"
		fi
	done
	if [ -n "$why" ]; then fail snapshot-hostile "$why"; else pass snapshot-hostile; fi
fi

# snap_until FILE PID N: waits until FILE has tick N (or PID ended).
snap_until() {
	for _ in $(seq 1 "$TIMEOUT"); do
		grep -q "^tick $3 " "$1" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 1
	done
	return 1
}

# Diff snapshots: with --track-dirty-pages a VM takes a Full snapshot, runs on,
# then a Diff; the Diff's memory file holds only what changed (smaller than
# the Full one's), mote merge-diff folds it into the Full one's, and the VM
# restored from the Diff's state and the merged memory counts on from where
# the Diff was taken. A Diff before any Full is refused.
if selected snapshot-diff; then
	sock=$work/diff.sock dir=$work/diff
	why=
	rm -rf "$dir" "$sock"
	mkdir -p "$dir"
	SNAP_TICKS=40 snap_guest_script | script_disk "$work/diff.script"
	"$MOTE" run --api-sock "$sock" --track-dirty-pages --kernel "$VMLINUX" --initrd "$TEST_INITRD" \
		--memory 256M --cmdline "console=ttyS0 quiet" --disk "$work/diff.script,ro,id=script" \
		</dev/null >"$out" 2>&1 &
	pid=$!
	snap_until "$out" $pid 4 || why="no tick 4"
	api_call "$sock" PATCH /vm '{"state":"Paused"}'
	api_call "$sock" PUT /snapshot/create '{"snapshot_type":"Diff","snapshot_path":"'"$dir"'/early","mem_file_path":"'"$dir"'/early.mem"}'
	[ -z "$why" ] && [[ $api_body != *"take a Full one"* ]] && why="a Diff before any Full: $api_status $api_body"
	api_call "$sock" PUT /snapshot/create '{"snapshot_path":"'"$dir"'/full","mem_file_path":"'"$dir"'/memory"}'
	[ -z "$why" ] && [ "$api_status" != 204 ] && why="Full snapshot: $api_status $api_body"
	at=$(snap_ticks "$out" | tail -n 1)
	api_call "$sock" PATCH /vm '{"state":"Resumed"}'
	snap_until "$out" $pid $((${at% *} + 4)) || { [ -z "$why" ] && why="no ticks after the Full snapshot"; }
	api_call "$sock" PATCH /vm '{"state":"Paused"}'
	api_call "$sock" PUT /snapshot/create '{"snapshot_type":"Diff","snapshot_path":"'"$dir"'/vmstate","mem_file_path":"'"$dir"'/diff.mem"}'
	[ -z "$why" ] && [ "$api_status" != 204 ] && why="Diff snapshot: $api_status $api_body"
	kill -TERM $pid 2>/dev/null
	wait $pid 2>/dev/null
	cp "$out" "$work/diff-src.out"
	last=$(snap_ticks "$work/diff-src.out" | tail -n 1)
	full=$(($(stat -c %b "$dir/memory" 2>/dev/null || echo 0) * 512))
	diff=$(($(stat -c %b "$dir/diff.mem" 2>/dev/null || echo 0) * 512))
	if [ -z "$why" ] && { [ "$diff" -le 0 ] || [ $((diff * 2)) -gt "$full" ]; }; then
		why="the Diff's memory file holds $diff bytes, the Full one's $full (want > 0 and at most half)"
	fi
	if [ -z "$why" ]; then
		"$MOTE" merge-diff "$dir/memory" "$dir/diff.mem" >>"$out" 2>&1 || why="merge-diff failed"
	fi
	if [ -z "$why" ]; then
		"$MOTE" run --restore "$dir" </dev/null >"$work/diff-restored.out" 2>&1 &
		pr=$!
		snap_wait $pr
		sr=$?
		cat "$work/diff-restored.out" >>"$out"
		why=$(snap_check_clone "the VM restored from the Diff" "$work/diff-restored.out" $sr ${last% *} ${last#* })
	fi
	if [ -n "$why" ]; then
		fail snapshot-diff "$why"
	else
		pass "snapshot-diff (Full $((full >> 10)) KiB, Diff $((diff >> 10)) KiB)"
	fi
fi

# The state round trip (KVM selftests' state_test, through mote): the
# snapshot of snapshot-restore is loaded paused into a new mote, which
# snapshots it again at once; every record (each vCPU's register sets, the
# interrupt controllers, the PIT, every device) comes out as it went in,
# less what moves with time by itself (the TSC and two Hyper-V time MSRs,
# the LAPIC timer's current count, kvm-clock, the PIT's load time).
if selected snapshot-restore; then # reuses its snapshot
	dir=$work/snap sock=$work/snap-rt.sock
	why=
	rm -rf "$work/rt" "$sock"
	mkdir -p "$work/rt"
	if [ ! -s "$dir/vmstate" ]; then
		why="no snapshot to load (snapshot-restore failed or did not run)"
	else
		"$MOTE" run --api-sock "$sock" </dev/null >"$out" 2>&1 &
		pid=$!
		for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.1; done
		api_call "$sock" PUT /snapshot/load '{"snapshot_path":"'"$dir"'/vmstate","mem_backend":{"backend_path":"'"$dir"'/memory","backend_type":"File"},"resume_vm":false}'
		[ "$api_status" != 204 ] && why="load: $api_status $api_body"
		api_call "$sock" PUT /snapshot/create '{"snapshot_path":"'"$work"'/rt/vmstate","mem_file_path":"'"$work"'/rt/memory"}'
		[ -z "$why" ] && [ "$api_status" != 204 ] && why="snapshot of the loaded VM: $api_status $api_body"
		kill -TERM $pid 2>/dev/null
		wait $pid 2>/dev/null
		if [ -z "$why" ] && ! python3 tests/integration/snapfile.py compare "$dir/vmstate" \
			"$work/rt/vmstate" >>"$out" 2>&1; then
			why="the state changed on its way through a new VM: $(grep -v '^api:' "$out" | tail -n 5 | tr '\n' '|')"
		fi
	fi
	if [ -n "$why" ]; then
		fail snapshot-state-round-trip "$why"
	else
		pass "snapshot-state-round-trip ($(grep '^compared' "$out"))"
	fi
fi
