# Firecracker's API and config file (sourced by run.sh): the getting-started
# sequence over curl boots the Debian image and Ctrl-Alt-Del ends it; the
# docs' example config boots the guest kit; every endpoint before the boot,
# the runtime ones on a running guest, malformed HTTP of every kind, and a
# failed InstanceStart that leaves the process serving.

API=tests/integration/api_client.py

# api_start SOCK ARGS...: starts "mote run --api-sock SOCK ARGS" in the
# background (output in $out, pid in $pid) and waits until it answers.
api_start() {
	local sock=$1
	shift
	rm -f "$sock"
	"$MOTE" run --api-sock "$sock" "$@" </dev/null >"$out" 2>&1 &
	pid=$!
	python3 "$API" "$sock" wait 120 >>"$out" 2>&1
}

# api_call SOCK METHOD PATH [BODY]: one request with curl, as users make
# them; sets $api_status and $api_body.
api_call() {
	local sock=$1 method=$2 path=$3 body=${4:-}
	local args=(-s --unix-socket "$sock" -X "$method" -o "$work/api.body" -w '%{http_code}')
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' -d "$body")
	api_status=$(curl "${args[@]}" "http://localhost$path")
	api_body=$(cat "$work/api.body" 2>/dev/null)
	echo "api: $method $path -> $api_status $api_body" >>"$out"
}

# api_expect NAME SOCK STATUS METHOD PATH [BODY]: api_call, and fails NAME
# unless the status is STATUS; returns 1 then.
api_expect() {
	local name=$1 sock=$2 want=$3
	shift 3
	api_call "$sock" "$@"
	if [ "$api_status" != "$want" ]; then
		fail "$name" "$2 $3: HTTP $api_status ($api_body), expected $want"
		return 1
	fi
}

# api_wait_exit NAME: waits for mote to end; sets $rc.
api_wait_exit() {
	local t=0
	while kill -0 "$pid" 2>/dev/null && [ $t -lt "$TIMEOUT" ]; do
		sleep 1
		t=$((t + 1))
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
}

# The getting-started guide, with the guest kit: boot-source, machine-config,
# InstanceStart; mote boots it and exits 0 when the guest reboots.
if selected api-instance-start; then
	sock=$work/api.sock
	if ! api_start "$sock"; then
		fail api-instance-start "no API"
	elif api_expect api-instance-start "$sock" 204 PUT /boot-source \
			"{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"console=ttyS0 reboot=k panic=1 pci=off\"}" &&
		api_expect api-instance-start "$sock" 204 PUT /machine-config \
			'{"vcpu_count":2,"mem_size_mib":256}' &&
		api_expect api-instance-start "$sock" 204 PUT /actions '{"action_type":"InstanceStart"}'; then
		api_wait_exit
		if [ $rc -ne 0 ] || ! grep -q "$MARKER" "$out"; then
			fail api-instance-start "mote exited $rc; marker: $(grep -c "$MARKER" "$out")"
		elif [ -e "$sock" ]; then
			fail api-instance-start "the socket $sock is left behind"
		else
			pass api-instance-start
		fi
	fi
	kill -9 "$pid" 2>/dev/null
fi

# Every endpoint's success and refusal before the boot, then malformed HTTP
# of every kind; the VM then still boots.
if selected api-endpoints; then
	sock=$work/api.sock
	truncate -s 64M "$work/api-disk.img"
	if ! api_start "$sock"; then
		fail api-endpoints "no API"
	elif ! python3 "$API" "$sock" endpoints-preboot "$VMLINUX" "$work/api-disk.img" >>"$out" 2>&1; then
		fail api-endpoints "$(grep '^api_client' "$out" | tail -n 1)"
	elif ! python3 "$API" "$sock" hostile >>"$out" 2>&1; then
		fail api-endpoints "$(grep '^api_client' "$out" | tail -n 1)"
	else
		# the table left a network interface on a tap that does not exist:
		# InstanceStart says so, and the process stays to answer
		api_call "$sock" PUT /actions '{"action_type":"InstanceStart"}'
		first="$api_status $api_body"
		api_call "$sock" GET /
		if [[ $first != 400*mote-nothere* ]]; then
			fail api-endpoints "InstanceStart with a missing tap: $first"
		elif [[ $api_status != 200 ]]; then
			fail api-endpoints "no answer after a failed InstanceStart: $api_status"
		else
			api_call "$sock" PUT /actions '{"action_type":"InstanceStart"}'
			if [[ $api_body != *"start a new one"* ]]; then
				fail api-endpoints "a second InstanceStart after a failed one: $api_body"
			else
				pass api-endpoints
			fi
		fi
	fi
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$work/api-disk.img"
fi

# A kernel that is neither PVH nor bzImage: InstanceStart answers 400
# naming it, and mote goes on serving; SIGTERM then ends it and removes
# the socket.
if selected api-bad-kernel; then
	sock=$work/api.sock
	head -c 4096 /dev/urandom >"$work/junk-kernel"
	if api_start "$sock" && api_expect api-bad-kernel "$sock" 204 PUT /boot-source \
		"{\"kernel_image_path\":\"$work/junk-kernel\"}"; then
		api_call "$sock" PUT /actions '{"action_type":"InstanceStart"}'
		if [[ $api_status != 400 || $api_body != *junk-kernel* ]]; then
			fail api-bad-kernel "InstanceStart: $api_status $api_body"
		else
			api_expect api-bad-kernel "$sock" 200 GET / && {
				kill -TERM "$pid"
				api_wait_exit
				if [ $rc -ne 143 ] || [ -e "$sock" ]; then
					fail api-bad-kernel "after SIGTERM: exit $rc, socket left: $([ -e "$sock" ] && echo yes)"
				else
					pass api-bad-kernel
				fi
			}
		fi
	else
		fail api-bad-kernel "no API"
	fi
	kill -9 "$pid" 2>/dev/null
	rm -f "$work/junk-kernel"
fi

if selected api-sock-exists; then
	touch "$work/taken.sock"
	expect_error api-sock-exists "api-sock .*taken.sock: the path exists" \
		--api-sock "$work/taken.sock" --kernel "$VMLINUX"
	rm -f "$work/taken.sock"
fi

# The example config of Firecracker's docs (its tests' vm_config.json), with
# the guest kit's kernel and initrd and a scratch root drive.
fc_example_config() {
	cat <<EOF
{
  "boot-source": {
    "kernel_image_path": "$VMLINUX",
    "boot_args": "console=ttyS0 reboot=k panic=1 pci=off",
    "initrd_path": "$INITRD"
  },
  "drives": [
    {
      "drive_id": "rootfs",
      "partuuid": null,
      "is_root_device": true,
      "cache_type": "Unsafe",
      "is_read_only": false,
      "path_on_host": "$1",
      "io_engine": "Sync",
      "rate_limiter": null,
      "socket": null
    }
  ],
  "machine-config": {
    "vcpu_count": 2,
    "mem_size_mib": 1024,
    "smt": false,
    "track_dirty_pages": false,
    "huge_pages": "None"
  },
  "cpu-config": null,
  "balloon": null,
  "network-interfaces": [],
  "vsock": null,
  "logger": null,
  "metrics": null,
  "mmds-config": null,
  "entropy": null
}
EOF
}

if selected api-config-file; then
	truncate -s 64M "$work/rootfs.img"
	fc_example_config "$work/rootfs.img" >"$work/vm_config.json"
	expect_boot api-config-file --config-file "$work/vm_config.json"
fi
# How the kernel boots is the command line's to say, beside a config file
# too: its bzImage through the boot protocol with --no-unpack, else through
# its PVH entry, unpacked.
if selected api-config-file-no-unpack; then
	truncate -s 64M "$work/rootfs.img"
	fc_example_config "$work/rootfs.img" | sed "s|\"$VMLINUX\"|\"$BZIMAGE\"|" >"$work/bz_config.json"
	run_mote -v --no-unpack --config-file "$work/bz_config.json"
	if [ $rc -ne 0 ] || ! grep -q "$MARKER" "$out"; then
		fail api-config-file-no-unpack "no boot (exit $rc)"
	elif ! grep -q "^mote: bzImage 64-bit boot" "$out"; then
		fail api-config-file-no-unpack "--no-unpack beside --config-file: not a bzImage boot"
	else
		pass api-config-file-no-unpack
	fi
fi
expect_usage api-config-file-and-kernel "describes the VM, and so does --config-file" \
	--config-file /dev/null --kernel "$VMLINUX"
if selected api-config-file-bad; then
	echo '{"boot-source":{"kernel_image_path":"/nonexistent"},"machine-config":{"vcpu_count":1,"mem_size_mib":64,"gpus":1}}' >"$work/bad.json"
	expect_usage api-config-file-bad "config-file .*bad.json: machine-config: unknown field .gpus." \
		--config-file "$work/bad.json"
fi

# A running guest (the kit's init holds for a while) driven through the API:
# state, pause and resume, /vm/config as a config file takes it, the refusals
# after the boot, metrics to a file and as Prometheus text, the balloon's
# target and statistics.
if selected api-runtime; then
	sock=$work/api.sock
	truncate -s 64M "$work/rootfs.img"
	fc_example_config "$work/rootfs.img" | python3 -c '
import json, sys
c = json.load(sys.stdin)
c["boot-source"]["boot_args"] = "console=ttyS0 reboot=k panic=1 -- hold=150"
c["machine-config"]["mem_size_mib"] = 256
c["balloon"] = {"amount_mib": 0, "deflate_on_oom": True, "stats_polling_interval_s": 1}
c["metrics"] = {"metrics_path": sys.argv[1]}
print(json.dumps(c))' "$work/metrics.json" >"$work/vm_config.json"
	: >"$work/metrics.json"
	rm -f "$sock"
	"$MOTE" run --api-sock "$sock" --config-file "$work/vm_config.json" </dev/null >"$out" 2>&1 &
	pid=$!
	why=
	if ! wait_marker "$out" $pid; then
		why="no boot"
	else
		api_call "$sock" GET /
		[[ $api_body == *'"state":"Running"'* ]] || why="state: $api_body"
		api_call "$sock" PATCH /vm '{"state":"Paused"}'
		[ -z "$why" ] && [ "$api_status" != 204 ] && why="pause: $api_status $api_body"
		api_call "$sock" GET /
		[ -z "$why" ] && [[ $api_body != *'"state":"Paused"'* ]] && why="paused state: $api_body"
		api_call "$sock" PATCH /vm '{"state":"Paused"}'
		[ -z "$why" ] && [ "$api_status" != 400 ] && why="pausing twice: $api_status"
		api_call "$sock" PATCH /vm '{"state":"Resumed"}'
		[ -z "$why" ] && [ "$api_status" != 204 ] && why="resume: $api_status $api_body"
		api_call "$sock" PUT /machine-config '{"vcpu_count":1,"mem_size_mib":128}'
		[ -z "$why" ] && [[ $api_body != *"after starting"* ]] && why="machine-config after boot: $api_body"
		api_call "$sock" PUT /actions '{"action_type":"InstanceStart"}'
		[ -z "$why" ] && [ "$api_status" != 400 ] && why="second InstanceStart: $api_status"
		api_call "$sock" GET /vm/config
		echo "$api_body" >"$work/got_config.json"
		[ -z "$why" ] && ! python3 -c '
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
assert a["machine-config"] == b["machine-config"], (a["machine-config"], b["machine-config"])
assert a["drives"][0]["path_on_host"] == b["drives"][0]["path_on_host"]
assert a["boot-source"] == b["boot-source"], (a["boot-source"], b["boot-source"])' \
			"$work/vm_config.json" "$work/got_config.json" >>"$out" 2>&1 &&
			why="GET /vm/config differs from the config file"
		api_call "$sock" PUT /actions '{"action_type":"FlushMetrics"}'
		[ -z "$why" ] && [ "$api_status" != 204 ] && why="FlushMetrics: $api_status $api_body"
		[ -z "$why" ] && ! python3 -c '
import json, sys
line = json.loads(open(sys.argv[1]).readlines()[-1])
assert line["vcpu"]["exit_io_out"] > 0, line["vcpu"]
assert line["api_server"]["requests"] > 0, line["api_server"]' "$work/metrics.json" >>"$out" 2>&1 &&
			why="metrics line: $(tail -c 300 "$work/metrics.json")"
		api_call "$sock" GET /metrics
		[ -z "$why" ] && ! grep -q '^mote_vcpu_exit_io_out [1-9]' "$work/api.body" && why="Prometheus text lacks vCPU exits"
		api_call "$sock" PATCH /balloon '{"amount_mib":32}'
		[ -z "$why" ] && [ "$api_status" != 204 ] && why="balloon target: $api_status $api_body"
		for _ in $(seq 1 30); do
			api_call "$sock" GET /balloon/statistics
			[[ $api_body == *total_memory* && $api_body == *'"actual_mib":32'* ]] && break
			sleep 1
		done
		[ -z "$why" ] && [[ $api_body != *total_memory* ]] && why="balloon statistics: $api_status $api_body"
		[ -z "$why" ] && [[ $api_body != *'"actual_mib":32'* ]] && why="the guest did not inflate to 32 MiB: $api_body"
		api_call "$sock" PATCH /balloon/statistics '{"stats_polling_interval_s":0}'
		[ -z "$why" ] && [ "$api_status" != 400 ] && why="turning statistics off after boot: $api_status"
		api_call "$sock" PATCH /balloon/statistics '{"stats_polling_interval_s":2}'
		[ -z "$why" ] && [ "$api_status" != 204 ] && why="a new statistics interval: $api_status $api_body"
		api_call "$sock" GET /balloon
		[ -z "$why" ] && [[ $api_body != *'"stats_polling_interval_s":2'*'"actual_mib":32'* ]] &&
			why="GET /balloon after the changes: $api_body"
		api_call "$sock" PATCH /drives/rootfs '{"drive_id":"rootfs"}'
		[ -z "$why" ] && [ "$api_status" != 204 ] && why="PATCH /drives without a path: $api_status $api_body"
		api_call "$sock" PATCH /network-interfaces/eth0 '{"iface_id":"eth0"}'
		[ -z "$why" ] && [[ $api_body != *"Invalid network interface ID"* ]] && why="PATCH of an interface that is not there: $api_body"
		api_call "$sock" PUT /logger '{"log_path":"/tmp/x"}'
		[ -z "$why" ] && [[ $api_body != *"after starting"* ]] && why="logger after boot: $api_body"
	fi
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if [ -n "$why" ]; then fail api-runtime "$why"; else pass api-runtime; fi
fi

# PATCH /drives: the guest sees a new, larger image behind its disk.
if selected api-drive-patch; then
	sock=$work/api.sock
	truncate -s 8M "$work/small.img"
	truncate -s 24M "$work/large.img"
	script_disk "$work/patch.script" <<'EOF'
echo "size-before: $(cat /sys/block/vda/size)"
for i in $(seq 1 120); do
	[ "$(cat /sys/block/vda/size)" != 16384 ] && break
	sleep 1
done
echo "size-after: $(cat /sys/block/vda/size)"
EOF
	rm -f "$sock"
	"$MOTE" run --api-sock "$sock" --kernel "$VMLINUX" --initrd "$TEST_INITRD" --memory 256M \
		--cmdline "console=ttyS0 quiet" --disk "$work/small.img" \
		--disk "$work/patch.script,ro,id=script" </dev/null >"$out" 2>&1 &
	pid=$!
	why=
	for _ in $(seq 1 "$TIMEOUT"); do
		grep -q "size-before" "$out" && break
		kill -0 $pid 2>/dev/null || break
		sleep 1
	done
	if ! grep -q "size-before: 16384" "$out"; then
		why="the guest did not report its disk"
	else
		api_call "$sock" PATCH /drives/disk0 "{\"drive_id\":\"disk0\",\"path_on_host\":\"/nonexistent.img\"}"
		[ "$api_status" != 400 ] && why="a missing image: $api_status $api_body"
		api_call "$sock" PATCH /drives/disk0 "{\"drive_id\":\"disk0\",\"path_on_host\":\"$work/large.img\"}"
		[ -z "$why" ] && [ "$api_status" != 204 ] && why="PATCH: $api_status $api_body"
		api_wait_exit
		[ -z "$why" ] && ! grep -q "size-after: 49152" "$out" && why="the guest did not see 24 MiB: $(grep size-after "$out")"
	fi
	kill -9 "$pid" 2>/dev/null
	if [ -n "$why" ]; then fail api-drive-patch "$why"; else pass api-drive-patch; fi
	rm -f "$work/small.img" "$work/large.img"
fi

# The Debian image through the getting-started sequence: Debian's kernel and
# initramfs, the image as the root drive (mote adds root=/dev/vda rw), 2 vCPUs;
# at the login prompt SendCtrlAltDel has systemd reboot, and mote exits 0.
if selected api-debian; then
	if [ ! -f "$GUEST/debian.ext4" ]; then
		fail api-debian "no Debian image at $GUEST/debian.ext4 (make rootfs)"
	else
		sock=$work/api.sock
		cp --sparse=always "$GUEST/debian.ext4" "$work/debian.ext4"
		why=
		if ! api_start "$sock"; then
			why="no API"
		else
			api_call "$sock" PUT /boot-source "{\"kernel_image_path\":\"$GUEST/debian-vmlinuz\",\"initrd_path\":\"$GUEST/debian-initrd.img\",\"boot_args\":\"console=ttyS0 reboot=k panic=1\"}"
			[ "$api_status" != 204 ] && why="boot-source: $api_body"
			api_call "$sock" PUT /drives/rootfs "{\"drive_id\":\"rootfs\",\"path_on_host\":\"$work/debian.ext4\",\"is_root_device\":true,\"is_read_only\":false}"
			[ -z "$why" ] && [ "$api_status" != 204 ] && why="drive: $api_body"
			api_call "$sock" PUT /machine-config '{"vcpu_count":2,"mem_size_mib":512}'
			[ -z "$why" ] && [ "$api_status" != 204 ] && why="machine-config: $api_body"
			api_call "$sock" PUT /actions '{"action_type":"InstanceStart"}'
			[ -z "$why" ] && [ "$api_status" != 204 ] && why="InstanceStart: $api_body"
			for _ in $(seq 1 "$TIMEOUT"); do
				[ -n "$why" ] && break
				grep -q "login:" "$out" && break
				kill -0 $pid 2>/dev/null || break
				sleep 1
			done
			[ -z "$why" ] && ! grep -q "login:" "$out" && why="no login prompt"
			if [ -z "$why" ]; then
				api_call "$sock" PUT /actions '{"action_type":"SendCtrlAltDel"}'
				[ "$api_status" != 204 ] && why="SendCtrlAltDel: $api_status $api_body"
				api_wait_exit
				[ -z "$why" ] && [ $rc -ne 0 ] && why="mote exited $rc after Ctrl-Alt-Del"
			fi
		fi
		kill -9 "$pid" 2>/dev/null
		if [ -n "$why" ]; then fail api-debian "$why"; else pass api-debian; fi
		rm -f "$work/debian.ext4"
	fi
fi
