#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Console tests that need a terminal: mote is run on a pseudo-terminal.

  console.py quit MOTE ARGS...    waits for the init marker, checks the
      terminal is raw, types Ctrl-A x: mote must exit 0 and give the
      terminal back as it was.
  console.py stall MOTE ARGS...   the guest (the shell initramfs) floods
      its console while mote's stdout is a pipe nobody reads; SIGTERM must
      end mote within 30 s with status 143, the terminal given back.
  console.py cad MOTE ARGS...     a guest with the i8042 and atkbd drivers
      (held in its init): Ctrl-A d presses Ctrl-Alt-Del, the guest's kernel
      restarts, mote exits 0 long before the hold ends.
  console.py cad-refused MOTE ARGS...  a guest whose keyboard port is off:
      Ctrl-A d says why nothing was sent, the guest goes on, Ctrl-A x quits.

  console.py login MOTE ARGS...   a distribution guest (the Debian image):
      systemd reaches the multi-user target and a login prompt on the
      serial console; root logs in (no password), checks the system state,
      runs `systemctl reboot`: mote must exit 0. LOGIN_CHECKS (env) is a
      shell command run after login whose output must include LOGIN_WANT.

Prints one line "console: <case>: ok ..." or "console: <case>: FAIL ..."
and exits 0 or 1.
"""
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time

MARKER = b"MOTE-GUEST-INIT-OK"
TIMEOUT = int(os.environ.get("TEST_TIMEOUT", "300"))


def fail(case, why):
    print(f"console: {case}: FAIL {why}")
    sys.exit(1)


def read_until(fd, want, deadline, seen=b""):
    """Reads fd until want appears in what was read, or the deadline."""
    while want not in seen and time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def is_raw(fd):
    lflag = termios.tcgetattr(fd)[3]
    return not (lflag & (termios.ICANON | termios.ECHO))


def wait_exit(proc, seconds):
    try:
        return proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def quit_case(argv):
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True)
    seen = read_until(master, MARKER, time.monotonic() + TIMEOUT)
    if MARKER not in seen:
        proc.kill()
        fail("quit", "no init marker")
    raw = is_raw(slave)
    os.write(master, b"\x01x")
    status = wait_exit(proc, 30)
    after = termios.tcgetattr(slave)
    if not raw:
        fail("quit", "the terminal was not raw while the VM ran")
    if status != 0:
        fail("quit", f"mote exited {status} after Ctrl-A x, expected 0")
    if after != before:
        fail("quit", "the terminal was not given back as it was")
    print("console: quit: ok (Ctrl-A x: exit 0, terminal restored)")


def stall_case(argv):
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    out_r, out_w = os.pipe()
    proc = subprocess.Popen(argv, stdin=slave, stdout=out_w, stderr=subprocess.PIPE,
                            start_new_session=True)
    os.close(out_w)
    seen = read_until(out_r, b"mote shell:", time.monotonic() + TIMEOUT)
    if b"mote shell:" not in seen:
        proc.kill()
        fail("stall", "the shell did not start")
    time.sleep(1)
    os.write(master, b"while :; do echo 0123456789abcdef0123456789abcdef; done\r")
    time.sleep(8)  # stdout is read no more: the pipe fills, the vCPU blocks
    proc.send_signal(signal.SIGTERM)
    start = time.monotonic()
    status = wait_exit(proc, 30)
    took = time.monotonic() - start
    err = proc.stderr.read().decode(errors="replace")
    after = termios.tcgetattr(slave)
    if status is None:
        fail("stall", "mote did not end within 30 s of SIGTERM (killed)")
    if status != 143:
        fail("stall", f"mote exited {status}, expected 143: {err.strip()[-300:]}")
    if after != before:
        fail("stall", "the terminal was not given back as it was")
    print(f"console: stall: ok (SIGTERM ended mote in {took:.1f} s, exit 143, "
          "terminal restored)")


def start_held(case, argv):
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True)
    seen = read_until(master, MARKER, time.monotonic() + TIMEOUT)
    if MARKER not in seen:
        proc.kill()
        fail(case, "no init marker")
    return proc, master


def cad_case(argv):
    proc, master = start_held("cad", argv)
    # The keyboard driver binds in the background: press until it is there.
    seen = b""
    start = time.monotonic()
    deadline = start + 120
    while proc.poll() is None and time.monotonic() < deadline:
        os.write(master, b"\x01d")
        seen = read_until(master, b"Restarting system", time.monotonic() + 5, seen)
        if b"Restarting system" in seen:
            break
    status = wait_exit(proc, 60)
    took = time.monotonic() - start
    if b"Restarting system" not in seen:
        fail("cad", "the guest did not restart after Ctrl-A d: "
             + seen[-300:].decode(errors="replace"))
    if status != 0:
        fail("cad", f"mote exited {status} after the guest restarted, expected 0")
    print(f"console: cad: ok (Ctrl-A d: the guest restarted, exit 0, {took:.1f} s)")


def cad_refused_case(argv):
    proc, master = start_held("cad-refused", argv)
    os.write(master, b"\x01d")
    want = b"Ctrl-Alt-Del not sent: the guest has not enabled its keyboard"
    seen = read_until(master, want, time.monotonic() + 30)
    if want not in seen:
        proc.kill()
        fail("cad-refused", "no message saying why: " + seen[-300:].decode(errors="replace"))
    time.sleep(2)
    if proc.poll() is not None:
        fail("cad-refused", f"mote ended ({proc.returncode}) after a refused Ctrl-A d")
    os.write(master, b"\x01x")
    status = wait_exit(proc, 30)
    if status != 0:
        fail("cad-refused", f"mote exited {status} after Ctrl-A x, expected 0")
    print("console: cad-refused: ok (said why, the guest went on, Ctrl-A x: exit 0)")


def login_case(argv):
    master, slave = pty.openpty()
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True)
    seen = read_until(master, b"login:", start + TIMEOUT)
    if b"login:" not in seen:
        proc.kill()
        fail("login", "no login prompt: " + seen[-600:].decode(errors="replace"))
    to_login = time.monotonic() - start
    if b"Reached target" not in seen or b"Multi-User System" not in seen:
        proc.kill()
        fail("login", "login prompt without 'Reached target Multi-User System'")
    os.write(master, b"root\r")
    seen = read_until(master, b"# ", time.monotonic() + 120)
    if b"# " not in seen:
        proc.kill()
        fail("login", "no shell after logging in: " + seen[-300:].decode(errors="replace"))
    checks = os.environ.get("LOGIN_CHECKS", "")
    want = os.environ.get("LOGIN_WANT", "").encode()
    cmd = "systemctl is-system-running --wait; " + checks + "; echo LOGIN-CHECKS-DONE"
    os.write(master, cmd.encode() + b"\r")
    seen = read_until(master, b"LOGIN-CHECKS-DONE\r\n", time.monotonic() + 300)
    state = b"running" in seen or b"degraded" in seen
    if not state or (want and want not in seen):
        proc.kill()
        fail("login", "checks failed: " + seen[-800:].decode(errors="replace"))
    os.write(master, b"systemctl reboot\r")
    status = wait_exit(proc, 300)
    if status != 0:
        fail("login", f"mote exited {status} after systemctl reboot, expected 0")
    print(f"console: login: ok (login prompt after {to_login:.0f} s, "
          f"{'running' if b'running' in seen else 'degraded'}, reboot: exit 0)")


CASES = {"quit": quit_case, "stall": stall_case, "cad": cad_case,
         "cad-refused": cad_refused_case, "login": login_case}


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in CASES:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    CASES[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
