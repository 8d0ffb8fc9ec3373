#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A tiny HTTP client for kvmbox's Firecracker API socket, for the tests.

usage: fc_client.py SOCKET METHOD PATH [JSON]   prints "STATUS BODY", exit 0
       fc_client.py SOCKET --raw FILE            sends FILE's bytes, prints the reply
       fc_client.py SOCKET --wait SECONDS [PATH] waits for GET PATH (default /) to
                                                 answer 200 (until then the socket
                                                 may not exist yet)
Each request goes on its own connection unless --keep is given first (then every
METHOD PATH [JSON] triple after it goes on one keep-alive connection).
"""
import json
import socket
import sys
import time


def read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def request(s, method, path, body=None):
    payload = body.encode() if body is not None else b""
    req = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
    if body is not None:
        req += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
    s.sendall(req.encode() + b"\r\n" + payload)
    resp = read_response(s)
    head, _, body = resp.partition(b"\r\n\r\n")
    status = head.split(b" ")[1].decode() if head else "none"
    return status, body.decode(errors="replace")


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    return s


def main(argv):
    sock = argv[1]
    if argv[2] == "--wait":
        end = time.time() + float(argv[3])
        path = argv[4] if len(argv) > 4 else "/"
        while time.time() < end:
            try:
                with connect(sock) as s:
                    if request(s, "GET", path)[0] == "200":
                        return 0
            except OSError:
                pass
            time.sleep(0.1)
        return 1
    if argv[2] == "--raw":
        with open(argv[3], "rb") as f, connect(sock) as s:
            s.sendall(f.read())
            s.shutdown(socket.SHUT_WR)
            print(read_response(s).decode(errors="replace"))
        return 0
    if argv[2] == "--keep":
        args = argv[3:]
        with connect(sock) as s:
            while args:
                method, path = args[0], args[1]
                body = args[2] if method != "GET" else None
                args = args[3:] if method != "GET" else args[2:]
                print(*request(s, method, path, body))
        return 0
    body = argv[4] if len(argv) > 4 else None
    with connect(sock) as s:
        print(*request(s, argv[2], argv[3], body))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
