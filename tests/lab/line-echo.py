#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The host half of the vsock lab tests: a listener that answers each connection's first
line with "kvmbox-host: LINE" and logs "peer [CID ]LINE" (one connection at a time).

usage: line-echo.py vsock PORT LOG   (AF_VSOCK, any CID; the log names the peer's CID)
       line-echo.py unix PATH LOG    (a Unix stream socket at PATH)
"""
import socket
import sys


def listener(kind, where):
    if kind == "vsock":
        srv = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
        srv.bind((socket.VMADDR_CID_ANY, int(where)))
    else:
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(where)
    srv.listen(8)
    return srv


def first_line(conn):
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("vsock", "unix"):
        sys.exit(__doc__)
    kind, where, log = sys.argv[1], sys.argv[2], open(sys.argv[3], "a", buffering=1)
    srv = listener(kind, where)
    log.write("listening\n")
    while True:
        conn, addr = srv.accept()
        with conn:
            conn.settimeout(120)
            try:
                data = first_line(conn)
                conn.sendall(b"kvmbox-host: " + data)
            except OSError as e:
                log.write(f"error {e}\n")
                continue
        peer = f"{addr[0]} " if kind == "vsock" else ""
        log.write(f"peer {peer}{data.decode(errors='replace').strip()}\n")


if __name__ == "__main__":
    main()
