#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Reads and rewrites mote state files (src/snapshot/stream.h) for the tests:
makes the hostile variants of a good snapshot, with or without a valid CRC.

usage: snapfile.py list FILE
       snapfile.py hostile KIND IN OUT
KIND: truncated, crc, version, arch, huge-length, unknown-device, unknown-type,
      vcpu-missing, bad-config, mem-size"""
import struct
import sys
import zlib

HEADER = 16
RECORD = 16
END, CONFIG, MACHINE, DEVICE = 0, 1, 2, 40


def records(buf):
    at = HEADER
    out = []
    while at + RECORD <= len(buf):
        t, inst, n = struct.unpack_from("<IIQ", buf, at)
        out.append((t, inst, buf[at + RECORD:at + RECORD + n]))
        if t == END:
            break
        at += RECORD + ((n + 7) & ~7)
    return out


def build(header, recs):
    out = bytearray(header)
    for t, inst, data in recs:
        if t == END:
            continue
        out += struct.pack("<IIQ", t, inst, len(data)) + data
        out += b"\0" * ((8 - len(out) % 8) % 8)
    crc = zlib.crc32(bytes(out)) & 0xffffffff
    out += struct.pack("<IIQ", END, 0, 4) + struct.pack("<I", crc) + b"\0" * 4
    return bytes(out)


def hostile(kind, buf):
    recs = records(buf)
    head = buf[:HEADER]
    if kind == "truncated":
        return buf[:len(buf) // 2]
    if kind == "crc":
        b = bytearray(buf)
        b[len(b) // 2] ^= 0x40
        return bytes(b)
    if kind == "version":
        return build(head[:8] + struct.pack("<II", 99, 1), recs)
    if kind == "arch":
        return build(head[:8] + struct.pack("<II", 1, 7), recs)
    if kind == "huge-length":
        b = bytearray(buf)
        struct.pack_into("<Q", b, HEADER + 8, 1 << 62)
        return bytes(b)
    if kind == "unknown-device":
        name = b"virtio-gpu".ljust(32, b"\0")
        return build(head, recs + [(DEVICE, 0, name + b"\1\2\3\4")])
    if kind == "unknown-type":
        return build(head, recs + [(39, 0, b"12345678")])
    if kind == "vcpu-missing":
        return build(head, [r for r in recs if not (r[0] == 10 and r[1] == 0)])
    if kind == "bad-config":
        return build(head, [(t, i, b'{"machine-config": 7}' if t == CONFIG else d)
                            for t, i, d in recs])
    if kind == "mem-size":
        out = []
        for t, i, d in recs:
            if t == MACHINE:
                d = struct.pack("<Q", struct.unpack_from("<Q", d)[0] * 2) + d[8:]
            out.append((t, i, d))
        return build(head, out)
    raise SystemExit("unknown kind " + kind)


def main():
    if sys.argv[1] == "list":
        for t, inst, data in records(open(sys.argv[2], "rb").read()):
            name = data[:32].rstrip(b"\0").decode() if t == DEVICE else ""
            print(t, inst, len(data), name)
    elif sys.argv[1] == "hostile":
        buf = open(sys.argv[3], "rb").read()
        open(sys.argv[4], "wb").write(hostile(sys.argv[2], buf))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
