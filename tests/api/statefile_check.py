#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Reads a kvmbox snapshot state file independently of kvmbox (src/snapshot/statefile.c
describes the layout) and prints one line: "ok SECTION-TYPES... CONFIG-JSON", or
"bad REASON". Exit 0 only for a well-formed file."""
import struct
import sys
import zlib


def check(data):
    if len(data) < 28 or data[:8] != b"KVMBOXST":
        return "bad magic or size"
    version, nr, total = struct.unpack_from("<IIQ", data, 8)
    if total != len(data):
        return "bad size %d, header says %d" % (len(data), total)
    (crc,) = struct.unpack_from("<I", data, len(data) - 4)
    if crc != zlib.crc32(data[:-4]):
        return "bad crc"
    if version != 1:
        return "bad version %d" % version
    pos, types, config = 24, [], ""
    for _ in range(nr):
        typ, flags, length = struct.unpack_from("<IIQ", data, pos)
        if flags or pos + 16 + length > len(data) - 4:
            return "bad section at %d" % pos
        if typ == 1:
            config = data[pos + 16:pos + 16 + length].decode()
        if typ == 2:
            types.append("mem=%d" % struct.unpack_from("<Q", data, pos + 16)[0])
        else:
            types.append(str(typ))
        pos += 16 + length
    if pos != len(data) - 4:
        return "bad trailing bytes"
    return "ok " + " ".join(types) + " " + config


result = check(open(sys.argv[1], "rb").read())
print(result)
sys.exit(0 if result.startswith("ok ") else 1)
