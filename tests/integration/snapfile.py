#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Reads and rewrites mote state files (src/snapshot/stream.h) for the tests:
makes the hostile variants of a good snapshot, with or without a valid CRC.

usage: snapfile.py list FILE
       snapfile.py hostile KIND IN OUT
       snapfile.py compare A B
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


# Record types whose every byte must survive a save, a load into a new VM
# and a second save, less the fields that move with time on their own.
VCPU_TYPES = range(10, 19)  # regs, sregs, xsave, xcrs, msrs, lapic, mp_state, events, debugregs
MSRS, LAPIC, PIT, CLOCK = 14, 15, 33, 34
# The TSC, and two Hyper-V MSRs KVM lists as saveable that count time: the
# reference counter, and the vCPU's run time, which KVM reads from the
# calling thread's own run time (so it differs between threads as well).
MSR_VOLATILE = (0x10, 0x40000010, 0x40000020)
LAPIC_TMCCT = 0x390  # the timer's current count, computed when read


def volatile_free(t, data):
    """The bytes of a record that do not move while a VM is paused."""
    if t == MSRS:  # struct kvm_msr_entry[]: u32 index, u32 reserved, u64 data
        out = bytearray()
        for at in range(0, len(data), 16):
            index, = struct.unpack_from("<I", data, at)
            out += data[at:at + 8] + (b"\0" * 8 if index in MSR_VOLATILE else data[at + 8:at + 16])
        return bytes(out)
    if t == LAPIC:
        return data[:LAPIC_TMCCT] + b"\0" * 4 + data[LAPIC_TMCCT + 4:]
    if t == PIT:  # three channels of 24 bytes: count_load_time (host time) at 16
        b = bytearray(data)
        for ch in range(3):
            b[ch * 24 + 16:ch * 24 + 24] = b"\0" * 8
        return bytes(b)
    if t == CLOCK:  # kvm-clock's value now
        return b""
    return data


def compare(a, b):
    """Every record of A is in B with the same bytes (less volatile_free's fields), and the
    other way round; each vCPU register set is there. Prints differences; returns 0 or 1."""
    ra = {(t, i, d[:32] if t == DEVICE else b""): d for t, i, d in records(a) if t != END}
    rb = {(t, i, d[:32] if t == DEVICE else b""): d for t, i, d in records(b) if t != END}
    bad = 0
    for key in sorted(set(ra) | set(rb)):
        t, i, name = key
        what = f"record {t} instance {i} {name.rstrip(bytes(1)).decode()}".rstrip()
        if key not in ra or key not in rb:
            print(f"{what}: only in {'B' if key not in ra else 'A'}")
            bad = 1
            continue
        x, y = volatile_free(t, ra[key]), volatile_free(t, rb[key])
        if x != y:
            at = next((k for k in range(min(len(x), len(y))) if x[k] != y[k]), min(len(x), len(y)))
            print(f"{what}: {len(x)} and {len(y)} bytes, first difference at byte {at}")
            if t == MSRS:
                for k in range(0, min(len(x), len(y)), 16):
                    if x[k:k + 16] != y[k:k + 16]:
                        print("  MSR %#x: %#x and %#x" % (struct.unpack_from("<IIQ", x, k)[0],
                              struct.unpack_from("<Q", x, k + 8)[0],
                              struct.unpack_from("<Q", y, k + 8)[0]))
            bad = 1
    vcpus = {i for t, i, _ in ra if t == 10}
    for i in sorted(vcpus):
        missing = [t for t in VCPU_TYPES if (t, i, b"") not in ra]
        if missing:
            print(f"vCPU {i}: no record of types {missing}")
            bad = 1
    print(f"compared {len(ra)} records of {len(vcpus)} vCPUs: {'different' if bad else 'equal'}")
    return bad


def main():
    if sys.argv[1] == "list":
        for t, inst, data in records(open(sys.argv[2], "rb").read()):
            name = data[:32].rstrip(b"\0").decode() if t == DEVICE else ""
            print(t, inst, len(data), name)
    elif sys.argv[1] == "hostile":
        buf = open(sys.argv[3], "rb").read()
        open(sys.argv[4], "wb").write(hostile(sys.argv[2], buf))
    elif sys.argv[1] == "compare":
        sys.exit(compare(open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read()))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
