# virtio-vsock: host programs and guest programs talk through mote's Unix socket with
# Firecracker's protocol, on the kit kernel's vsock driver (sourced by run.sh). The guest's
# side is tests/integration/vsock_guest.c, handed to the test VM as its first disk; the host's
# side is the Python below.

VSOCK_GUEST=$TESTBIN/vsock-guest
VSOCK_BYTES=$((${VSOCK_MIB:-100} * 1024 * 1024))
# Nested, the guest moves a few MiB a second: room for 100 MiB both ways.
VSOCK_TIMEOUT=${VSOCK_TIMEOUT:-1800}

# vsock_prepare: builds the guest helper if needed (make -f mk/vsock.mk, for a
# Makefile that does not include it yet) and makes its disk image; sets
# $vg_size (the ELF's bytes) and writes the host helper to $work/vsock_host.py.
vsock_prepare() {
	if [ ! -x "$VSOCK_GUEST" ] || [ tests/integration/vsock_guest.c -nt "$VSOCK_GUEST" ]; then
		make --no-print-directory -f Makefile -f mk/vsock.mk BUILD="$BUILD_DIR" \
			"$VSOCK_GUEST" >"$out" 2>&1 || return 1
	fi
	vg_size=$(stat -c %s "$VSOCK_GUEST")
	cp "$VSOCK_GUEST" "$work/vg.img"
	truncate -s %512 "$work/vg.img"
	cat >"$work/vsock_host.py" <<'PY'
# The host's side: a client of mote's socket (host-initiated) or a listener at
# PATH_PORT (guest-initiated). Each exchange sends SIZE bytes of a seeded random
# stream while it reads what comes back, and prints both SHA-256s.
import hashlib, random, socket, sys, threading, time

TIMEOUT = float(sys.argv[-1])

def send_stream(sock, size, seed, out):
    rng, h, left = random.Random(seed), hashlib.sha256(), size
    while left:
        chunk = rng.randbytes(min(left, 1 << 20))
        sock.sendall(chunk)
        h.update(chunk)
        left -= len(chunk)
    sock.shutdown(socket.SHUT_WR)
    out["sent"] = h.hexdigest()

def exchange(sock, size, seed, who):
    out = {}
    t = threading.Thread(target=send_stream, args=(sock, size, seed, out))
    t.start()
    h, n = hashlib.sha256(), 0
    while True:
        b = sock.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    t.join()
    print(f"{who}: sent {out.get('sent')} received {h.hexdigest()} {n} bytes", flush=True)

def wait_console(path, text):
    end = time.time() + TIMEOUT
    while time.time() < end:
        with open(path, "rb") as f:
            if text.encode() in f.read():
                return True
        time.sleep(0.2)
    return False

def connect(uds, port):
    """CONNECT PORT on mote's socket: (socket, reply line); the line is '' if mote closed."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect(uds)
    s.sendall(f"CONNECT {port}\n".encode())
    line = b""
    while not line.endswith(b"\n") and len(line) < 64:
        b = s.recv(1)
        if not b:
            break
        line += b
    return s, line.decode(errors="replace")

def client(uds, port, refused_port, size, console):
    if not wait_console(console, f"vg: listening on {port}"):
        sys.exit("client: the guest never listened")
    s, line = connect(uds, refused_port)
    print(f"client: port {refused_port}: " + (f"got {line!r}" if line else "closed without OK"), flush=True)
    s.close()
    s, line = connect(uds, port)
    print(f"client: port {port}: {line.strip()}", flush=True)
    if line.startswith("OK "):
        exchange(s, size, 1, "client")

def server(path, size):
    l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    l.bind(path)
    l.listen(1)
    l.settimeout(TIMEOUT)
    print("server: listening", flush=True)
    c, _ = l.accept()
    c.settimeout(TIMEOUT)
    exchange(c, size, 2, "server")

if sys.argv[1] == "client":
    client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
elif sys.argv[1] == "server":
    server(sys.argv[2], int(sys.argv[3]))
elif sys.argv[1] == "hold":  # listens on PATH until killed
    l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    l.bind(sys.argv[2])
    l.listen(1)
    print("hold: listening", flush=True)
    time.sleep(TIMEOUT)
elif sys.argv[1] == "echo-hold":  # CONNECT PORT, 4 KiB echoed, then hold the connection
    if not wait_console(sys.argv[4], f"vg: listening on {sys.argv[3]}"):
        sys.exit("echo-hold: the guest never listened")
    s, line = connect(sys.argv[2], int(sys.argv[3]))
    print(f"hold: {line.strip()}", flush=True)
    if line.startswith("OK "):
        s.sendall(b"x" * 4096)
        got = 0
        while got < 4096:
            b = s.recv(4096)
            if not b:
                break
            got += len(b)
        print(f"hold: echoed {got}", flush=True)
    time.sleep(TIMEOUT)
elif sys.argv[1] == "stale":  # leaves a socket file nobody listens on
    socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).bind(sys.argv[2])
PY
}

# vsock_script FILE LINES...: a guest script that copies the helper to /tmp/vg, then LINES.
vsock_script() {
	local f=$1
	shift
	{
		echo "head -c $vg_size /dev/vda >/tmp/vg && chmod +x /tmp/vg"
		printf '%s\n' "$@"
	} >"$f"
}

# vsock_boot NAME SCRIPT ARGS...: run_script in the background; $vm_pid is its shell.
vsock_boot() {
	(
		TIMEOUT=$VSOCK_TIMEOUT run_script "$@"
		exit "$rc"
	) &
	vm_pid=$!
}

# vsock_end: waits for the VM of vsock_boot (ending it if $1 is "kill"); sets $rc.
vsock_end() {
	local p
	if [ "${1:-}" = kill ]; then
		for p in $(pgrep -P "$vm_pid"); do kill "$p" 2>/dev/null; done
	fi
	wait "$vm_pid"
	rc=$?
}

# field FILE PREFIX N: the Nth word after PREFIX on the last line of FILE that starts with it.
field() {
	grep -a "^$2" "$1" | tail -n 1 | tr -d '\r' | sed "s/^$2//" | awk -v n="$3" '{print $n}'
}

# Host-initiated: a host client CONNECTs to the guest's listener and sends
# VSOCK_MIB MiB, which the guest echoes back while it comes; a port without a
# listener closes the client without "OK".
if selected vsock-host-connect; then
	if ! vsock_prepare; then
		fail vsock-host-connect "cannot build $VSOCK_GUEST"
	else
		uds=$work/v.sock
		vsock_script "$work/vh.sh" "/tmp/vg listen 5000; echo \"vg-exit: \$?\""
		vsock_boot vsock-host-connect "$work/vh.sh" --disk "$work/vg.img,ro" --vsock "cid=3,uds=$uds"
		timeout -k 10 "$VSOCK_TIMEOUT" python3 "$work/vsock_host.py" client "$uds" 5000 5999 \
			"$VSOCK_BYTES" "$out" "$VSOCK_TIMEOUT" >"$work/client.out" 2>&1
		py=$?
		[ $py -eq 0 ] && vsock_end || vsock_end kill
		cat "$work/client.out" >>"$out"
		sent=$(field "$work/client.out" "client: sent " 1)
		got=$(field "$work/client.out" "client: sent " 3)
		n=$(field "$work/client.out" "client: sent " 4)
		if ! grep -q "client: port 5999: closed without OK" "$work/client.out"; then
			fail vsock-host-connect "a CONNECT to a port without a listener was not closed"
		elif ! grep -q "client: port 5000: OK 1073741825" "$work/client.out"; then
			# host ports count up from 2^30; the refused CONNECT took the first
			fail vsock-host-connect "no 'OK 1073741825' for CONNECT 5000 (python exit $py)"
		elif [ "$n" != "$VSOCK_BYTES" ] || [ "$sent" != "$got" ]; then
			fail vsock-host-connect "sent $VSOCK_BYTES bytes ($sent), got back ${n:-none} ($got)"
		elif [ $rc -ne 0 ] || ! grep -q "vg: echoed $VSOCK_BYTES bytes" "$out"; then
			fail vsock-host-connect "mote exited $rc, or the guest did not echo it all"
		elif [ -e "$uds" ]; then
			fail vsock-host-connect "mote left $uds behind"
		else
			pass "vsock-host-connect ($((VSOCK_BYTES >> 20)) MiB each way)"
		fi
	fi
fi

# Guest-initiated: the guest connects to host port 5001, which mote hands to
# the listener at PATH_5001; each side sends VSOCK_MIB MiB and reads the
# other's. A port nobody listens on gets the guest an RST.
if selected vsock-guest-connect; then
	if ! vsock_prepare; then
		fail vsock-guest-connect "cannot build $VSOCK_GUEST"
	else
		uds=$work/g.sock
		timeout -k 10 "$VSOCK_TIMEOUT" python3 "$work/vsock_host.py" server "${uds}_5001" \
			"$VSOCK_BYTES" "$VSOCK_TIMEOUT" >"$work/server.out" 2>&1 &
		srv=$!
		for _ in $(seq 1 100); do
			grep -q "server: listening" "$work/server.out" && break
			sleep 0.1
		done
		vsock_script "$work/vg.sh" \
			"echo \"gen: \$(/tmp/vg gen $VSOCK_BYTES | sha256sum | cut -d' ' -f1)\"" \
			"echo \"recv: \$(/tmp/vg send 5001 $VSOCK_BYTES | sha256sum | cut -d' ' -f1)\"" \
			"/tmp/vg send 5999 1; echo \"no-listener-exit: \$?\""
		vsock_boot vsock-guest-connect "$work/vg.sh" --disk "$work/vg.img,ro" --vsock "cid=4,uds=$uds"
		vsock_end
		kill "$srv" 2>/dev/null
		wait "$srv" 2>/dev/null
		cat "$work/server.out" >>"$out"
		sent=$(field "$work/server.out" "server: sent " 1)
		got=$(field "$work/server.out" "server: sent " 3)
		n=$(field "$work/server.out" "server: sent " 4)
		gen=$(field "$out" "gen: " 1)
		recv=$(field "$out" "recv: " 1)
		if [ $rc -ne 0 ]; then
			fail vsock-guest-connect "mote exited $rc"
		elif [ "$n" != "$VSOCK_BYTES" ] || [ -z "$gen" ] || [ "$got" != "$gen" ]; then
			fail vsock-guest-connect "the guest sent $VSOCK_BYTES bytes ($gen), the host got ${n:-none} ($got)"
		elif [ -z "$sent" ] || [ "$recv" != "$sent" ]; then
			fail vsock-guest-connect "the host sent $sent, the guest got $recv"
		elif ! grep -q "vg: connect: Connection reset by peer" "$out" ||
			! grep -q "no-listener-exit: 1" "$out"; then
			fail vsock-guest-connect "a connection to a port without a listener was not reset"
		else
			pass "vsock-guest-connect ($((VSOCK_BYTES >> 20)) MiB each way)"
		fi
	fi
fi

# The socket file: refused while a program listens on it, replaced when a
# dead one left it, removed at exit.
if selected vsock-socket-file; then
	if ! vsock_prepare; then
		fail vsock-socket-file "cannot build $VSOCK_GUEST"
	else
		uds=$work/busy.sock
		python3 "$work/vsock_host.py" hold "$uds" 60 >"$work/hold.out" 2>&1 &
		holder=$!
		for _ in $(seq 1 100); do
			grep -q "hold: listening" "$work/hold.out" && break
			sleep 0.1
		done
		run_mote --kernel "$VMLINUX" --initrd "$TEST_INITRD" --vsock "cid=5,uds=$uds"
		kill "$holder" 2>/dev/null
		wait "$holder" 2>/dev/null
		if [ $rc -ne 1 ] || ! grep -q "^mote: --vsock uds=$uds: in use: a program listens on it" "$out"; then
			fail vsock-socket-file "mote exited $rc with a socket in use, expected 1 naming it"
		else
			rm -f "$uds"
			python3 "$work/vsock_host.py" stale "$uds" 1
			printf 'ls /sys/bus/virtio/drivers/vmw_vsock_virtio_transport | grep virtio\n' >"$work/vs.sh"
			TIMEOUT=$VSOCK_TIMEOUT run_script vsock-socket-file "$work/vs.sh" --vsock "cid=5,uds=$uds"
			if [ $rc -ne 0 ] || ! grep -q "^virtio[0-9]" "$out"; then
				fail vsock-socket-file "no boot over a stale socket file, or no vsock driver bound (exit $rc)"
			elif [ -e "$uds" ]; then
				fail vsock-socket-file "mote left $uds behind"
			else
				pass vsock-socket-file
			fi
		fi
	fi
fi

# Snapshot and restore with a vsock device: a host connection is open when
# the VM is snapshotted; the restored guest is told its transport was reset
# (its connection fails: the host's socket stayed with the old process), and
# a new host connection to the restored VM carries 1 MiB each way.
if selected snapshot-vsock; then
	if ! vsock_prepare; then
		fail snapshot-vsock "cannot build $VSOCK_GUEST"
	else
		uds=$work/sv.sock sock=$work/sv-api.sock dir=$work/sv
		why=
		rm -rf "$dir" "$sock"
		mkdir -p "$dir"
		vsock_script "$work/sv.sh" "/tmp/vg listen 5000; echo \"vg-exit: \$?\"" \
			"/tmp/vg listen 5001; echo \"vg2-exit: \$?\""
		vsock_boot snapshot-vsock "$work/sv.sh" --disk "$work/vg.img,ro" \
			--vsock "cid=3,uds=$uds" --api-sock "$sock"
		python3 "$work/vsock_host.py" echo-hold "$uds" 5000 "$out" "$VSOCK_TIMEOUT" \
			>"$work/sv-hold.out" 2>&1 &
		holder=$!
		for _ in $(seq 1 "$VSOCK_TIMEOUT"); do
			grep -q "hold: echoed 4096" "$work/sv-hold.out" && break
			kill -0 $holder 2>/dev/null || break
			sleep 1
		done
		grep -q "hold: echoed 4096" "$work/sv-hold.out" ||
			why="no echo before the snapshot: $(tr '\n' '|' <"$work/sv-hold.out")"
		api_call "$sock" PATCH /vm '{"state":"Paused"}'
		api_call "$sock" PUT /snapshot/create '{"snapshot_path":"'"$dir"'/vmstate","mem_file_path":"'"$dir"'/memory"}'
		[ -z "$why" ] && [ "$api_status" != 204 ] && why="snapshot: $api_status $api_body"
		vsock_end kill
		kill $holder 2>/dev/null
		wait $holder 2>/dev/null
		if [ -z "$why" ]; then
			"$MOTE" run --restore "$dir" </dev/null >"$work/sv-restored.out" 2>&1 &
			pr=$!
			timeout -k 10 "$VSOCK_TIMEOUT" python3 "$work/vsock_host.py" client "$uds" 5001 5999 \
				1048576 "$work/sv-restored.out" "$VSOCK_TIMEOUT" >"$work/sv-client.out" 2>&1
			snap_wait $pr
			sr=$?
			cat "$work/sv-restored.out" "$work/sv-client.out" >>"$out"
			sent=$(field "$work/sv-client.out" "client: sent " 1)
			got=$(field "$work/sv-client.out" "client: sent " 3)
			n=$(field "$work/sv-client.out" "client: sent " 4)
			if ! grep -q "vg-exit: 1" "$work/sv-restored.out"; then
				why="the restored guest's connection did not fail (no transport reset?)"
			elif [ "$n" != 1048576 ] || [ -z "$sent" ] || [ "$sent" != "$got" ]; then
				why="a new connection after the restore: sent 1 MiB ($sent), got back ${n:-none} ($got)"
			elif [ $sr -ne 0 ] || ! grep -q "vg2-exit: 0" "$work/sv-restored.out"; then
				why="the restored VM exited $sr, or its guest's second listener failed"
			fi
		fi
		if [ -n "$why" ]; then fail snapshot-vsock "$why"; else pass snapshot-vsock; fi
	fi
fi
