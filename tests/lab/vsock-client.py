#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A host client of the userspace vsock (Firecracker's protocol) for the lab tests:
connects to UDS, says "CONNECT PORT", checks the "OK <port>" reply and the echo of one
line, then either half-closes and waits for the end of the echo ("ok"), or with --hold
keeps the connection open and logs "closed" when kvmbox's end goes away.

usage: vsock-client.py [--hold] UDS PORT LINE LOG
"""
import socket
import sys


def read_line(s):
    line = b""
    while not line.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            raise OSError(f"end of stream after {line!r}")
        line += c
    return line


def main():
    args = sys.argv[1:]
    hold = args[:1] == ["--hold"]
    if hold:
        args = args[1:]
    if len(args) != 4:
        sys.exit(__doc__)
    uds, port, text, log = args[0], args[1], args[2], open(args[3], "a", buffering=1)
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(120)
        s.connect(uds)
        s.sendall(f"CONNECT {port}\n".encode())
        reply = read_line(s)
        if not reply.startswith(b"OK ") or not reply[3:-1].isdigit():
            raise OSError(f"bad handshake reply {reply!r}")
        s.sendall(text.encode() + b"\n")
        echo = read_line(s)
        if echo != text.encode() + b"\n":
            raise OSError(f"echo {echo!r}")
        log.write("echo ok\n")
        if hold:
            # Until kvmbox's end of the connection is gone (it is killed in the test).
            s.settimeout(None)
            try:
                while s.recv(4096):
                    pass
            except ConnectionResetError:
                pass
            log.write("closed\n")
            return
        s.shutdown(socket.SHUT_WR)
        if s.recv(4096):
            raise OSError("data after the echo")
        log.write("ok\n")
    except OSError as e:
        log.write(f"error {e}\n")


if __name__ == "__main__":
    main()
