#!/usr/bin/env python3
"""mote's API over its Unix socket, for the integration tests.

  api_client.py SOCK call METHOD PATH [BODY]   one request; prints "STATUS BODY"
  api_client.py SOCK wait                      waits until the socket answers GET /
  api_client.py SOCK hostile                   malformed HTTP of every kind; each must
                                               get a 400 or a closed connection, and
                                               the server must go on answering
  api_client.py SOCK endpoints-preboot         every endpoint's success and refusals
                                               before InstanceStart (table below)
"""
import json, socket, sys, threading, time

SOCK = sys.argv[1]
TIMEOUT = 30


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect(SOCK)
    return s


def read_response(s):
    """Reads one response; returns (status, body) or (None, b'') if closed."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v)
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, body


def request(method, path, body=None, sock=None):
    s = sock or connect()
    data = b"" if body is None else (body if isinstance(body, bytes) else body.encode())
    req = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n".encode()
    if body is not None:
        req += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(data)
    s.sendall(req + b"\r\n" + data)
    r = read_response(s)
    if sock is None:
        s.close()
    return r


def raw(data, wait_close=True):
    """Sends raw bytes; returns the status of the answer or None if the
    connection closed without one."""
    s = connect()
    try:
        s.sendall(data)
        st, body = read_response(s)
    except (ConnectionResetError, BrokenPipeError):
        st, body = None, b""
    s.close()
    return st, body


def fail(msg):
    print(f"api_client: FAIL {msg}")
    sys.exit(1)


def alive():
    st, body = request("GET", "/")
    if st != 200 or b"state" not in body:
        fail(f"the server stopped answering GET / ({st} {body!r})")


def hostile():
    big_header = b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
    cases = [
        ("bad request line", b"HELLO\r\n\r\n"),
        ("bad version", b"GET / HTTP/7.0\r\n\r\n"),
        ("oversized headers", big_header),
        ("oversized body", b"PUT /machine-config HTTP/1.1\r\nContent-Length: 60000\r\n\r\n" + b" " * 60000),
        ("chunked body", b"PUT /machine-config HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"),
        ("invalid UTF-8", b"PUT /boot-source HTTP/1.1\r\nContent-Length: 30\r\n\r\n" + b'{"kernel_image_path":"\xff\xfe"}'.ljust(30)),
        ("invalid JSON", b"PUT /machine-config HTTP/1.1\r\nContent-Length: 9\r\n\r\n{vcpu:1,}"),
        ("JSON not an object", b"PUT /machine-config HTTP/1.1\r\nContent-Length: 5\r\n\r\n[1,2]"),
        ("empty body", b"PUT /machine-config HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
        ("NUL in path", b"GET /\x00x HTTP/1.1\r\n\r\n"),
        ("huge content-length", b"PUT /vm HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"),
    ]
    for what, data in cases:
        st, body = raw(data)
        if st not in (400, None):
            fail(f"{what}: answered {st} {body[:200]!r}, expected 400 or a close")
        if st == 400 and b"fault_message" not in body:
            fail(f"{what}: 400 without a fault_message: {body[:200]!r}")
        alive()
    # a client that sends half a request and stalls holds nobody up
    stalled = connect()
    stalled.sendall(b"PUT /machine-config HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"vcpu")
    alive()
    # 100 clients at once, each gets its own answer
    results = []

    def one(i):
        try:
            st, body = request("GET", "/machine-config")
            results.append(st == 200 and b"vcpu_count" in body)
        except OSError as e:
            results.append(False)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if results.count(True) != 100:
        fail(f"100 concurrent clients: {results.count(True)} answered")
    stalled.close()
    alive()
    print("api_client: hostile ok")


def endpoints_preboot(kernel, disk):
    """(method, path, body, status, substring of the answer)."""
    table = [
        ("GET", "/", None, 200, '"state":"Not started"'),
        ("GET", "/version", None, 200, "firecracker_version"),
        ("PUT", "/machine-config", '{"vcpu_count":2,"mem_size_mib":256}', 204, ""),
        ("PATCH", "/machine-config", '{"mem_size_mib":192}', 204, ""),
        ("GET", "/machine-config", None, 200, '"mem_size_mib":192'),
        ("PUT", "/machine-config", '{"vcpu_count":2}', 400, "missing field `mem_size_mib`"),
        ("PUT", "/machine-config", '{"vcpu_count":2,"mem_size_mib":256,"foo":1}', 400, "unknown field `foo`"),
        ("PUT", "/boot-source", '{"kernel_image_path":"%s","boot_args":"console=ttyS0"}' % kernel, 204, ""),
        ("PUT", "/boot-source", '{"kernel_image_path":"/no/such/kernel"}', 400, "/no/such/kernel"),
        ("PUT", "/drives/rootfs", '{"drive_id":"rootfs","path_on_host":"%s","is_root_device":true,"is_read_only":false}' % disk, 204, ""),
        ("PUT", "/drives/rootfs", '{"drive_id":"other","path_on_host":"%s","is_root_device":true}' % disk, 400, "does not match"),
        ("PUT", "/drives/", '{"drive_id":"","path_on_host":"%s","is_root_device":true}' % disk, 400, "Invalid request method and/or path"),
        ("PUT", "/network-interfaces/eth0", '{"iface_id":"eth0","host_dev_name":"mote-nothere"}', 204, ""),
        ("PUT", "/network-interfaces/eth0", '{"iface_id":"eth0","host_dev_name":"t","guest_mac":"zz"}', 400, "unicast MAC"),
        ("PUT", "/vsock", '{"guest_cid":1,"uds_path":"/tmp/v.sock"}', 400, "guest_cid 1"),
        ("PUT", "/balloon", '{"amount_mib":0,"deflate_on_oom":true,"stats_polling_interval_s":1}', 204, ""),
        ("GET", "/balloon", None, 200, '"deflate_on_oom":true'),
        ("PUT", "/entropy", "{}", 204, ""),
        ("PUT", "/logger", '{"log_path":"/no/dir/log","level":"Info"}', 400, "/no/dir/log"),
        ("PUT", "/metrics", '{"metrics_path":"/no/dir/metrics"}', 400, "/no/dir/metrics"),
        ("GET", "/vm/config", None, 200, '"drive_id":"rootfs"'),
        ("GET", "/metrics", None, 200, "mote_api_server_requests"),
        ("PATCH", "/vm", '{"state":"Paused"}', 400, "not supported before starting"),
        ("PATCH", "/balloon", '{"amount_mib":1}', 400, "not supported before starting"),
        ("GET", "/balloon/statistics", None, 400, "not supported before starting"),
        ("PATCH", "/drives/rootfs", '{"drive_id":"rootfs"}', 400, "not supported before starting"),
        ("PUT", "/actions", '{"action_type":"SendCtrlAltDel"}', 400, "before starting"),
        ("PUT", "/actions", '{"action_type":"FlushMetrics"}', 400, "metrics"),
        ("PUT", "/actions", '{"action_type":"Reboot"}', 400, "unknown variant `Reboot`"),
        ("PUT", "/actions", '{"type":"InstanceStart"}', 400, "unknown field `type`"),
        ("PUT", "/snapshot/create", '{"snapshot_path":"/tmp/s","mem_file_path":"/tmp/m"}', 400,
         "not supported before starting"),
        ("PUT", "/snapshot/load", '{}', 400, "missing field `snapshot_path`"),
        ("PUT", "/snapshot/load", '{"snapshot_path":"/tmp/s"}', 400, "one of `mem_backend`"),
        ("PUT", "/snapshot/load",
         '{"snapshot_path":"/tmp/s","mem_backend":{"backend_path":"/tmp/m","backend_type":"Uffd"}}',
         400, "Uffd"),
        ("PUT", "/snapshot/load",
         '{"snapshot_path":"/no/such/vmstate","mem_file_path":"/tmp/m"}', 400, "/no/such/vmstate"),
        ("DELETE", "/machine-config", None, 400, "Invalid request method and/or path: DELETE /machine-config."),
        ("GET", "/mmds", None, 400, "Invalid request method and/or path"),
    ]
    for method, path, body, want, sub in table:
        st, got = request(method, path, body)
        text = got.decode(errors="replace")
        if st != want or sub not in text:
            fail(f"{method} {path} {body}: {st} {text!r}, expected {want} with {sub!r}")
    print(f"api_client: endpoints-preboot ok ({len(table)} calls)")


def main():
    cmd = sys.argv[2]
    if cmd == "call":
        st, body = request(sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else None)
        print(st, body.decode(errors="replace"))
    elif cmd == "wait":
        deadline = time.monotonic() + float(sys.argv[3] if len(sys.argv) > 3 else 60)
        while time.monotonic() < deadline:
            try:
                alive()
                return
            except OSError:
                time.sleep(0.05)
        fail("the API socket never answered")
    elif cmd == "hostile":
        hostile()
    elif cmd == "endpoints-preboot":
        endpoints_preboot(sys.argv[3], sys.argv[4])
    else:
        fail(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
