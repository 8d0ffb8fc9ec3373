#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The host half of tests/lab/t-virtio-console.sh: a client of kvmbox's hvc0 socket.

usage: console-peer.py SOCKET PID

Connects to SOCKET (retrying while the kvmbox process PID lives), then answers the lines
the guest writes to hvc0 (tests/lab/guest/console.sh):
  HELLO TAG NONCE  ->  REPLY TAG <NONCE reversed>
  RECONNECT        ->  closes the connection and connects again, as a new client
  DONE             ->  closes the connection and exits 0
Other lines are counted, not answered. What it does is logged on stdout, one
"PEER-...: ..." line each. Exits 1 when kvmbox goes away before DONE.
"""
import os
import socket
import sys
import time


def log(what, text=""):
    print(f"PEER-{what}: {text}", flush=True)


def alive(pid):
    """Whether PID still runs (a zombie, not yet waited for by the test, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def connect(path, pid):
    while alive(pid):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            log("CONNECTED", path)
            return s
        except OSError:
            s.close()
            time.sleep(0.2)
    return None


def answer(s, text):
    """Handles one line; returns "reconnect", "done" or None."""
    words = text.split()
    if len(words) == 3 and words[0] == "HELLO":
        reply = f"REPLY {words[1]} {words[2][::-1]}"
        log("GOT", text)
        s.sendall(reply.encode() + b"\n")
        log("SENT", reply)
    elif text in ("RECONNECT", "DONE"):
        log("GOT", text)
        return text.lower()
    return None


def serve(s, pid):
    """Answers lines until a command or the end; returns "reconnect", "done" or "gone"."""
    buf = b""
    other = 0
    s.settimeout(1.0)
    while True:
        try:
            data = s.recv(65536)
        except socket.timeout:
            if not alive(pid):
                return "gone"
            continue
        except OSError:
            return "gone"
        if not data:
            return "gone"
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            text = line.decode(errors="replace").strip("\r")
            what = answer(s, text)
            if what:
                log("OTHER-LINES", str(other))
                return what
            if not text.startswith("HELLO "):
                other += 1


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, pid = sys.argv[1], int(sys.argv[2])
    while True:
        s = connect(path, pid)
        if not s:
            log("END", "kvmbox ended before the guest said DONE")
            return 1
        what = serve(s, pid)
        s.close()
        log("CLOSED", what)
        if what == "done":
            return 0
        if what == "gone":
            log("END", "kvmbox closed the connection before the guest said DONE")
            return 1


if __name__ == "__main__":
    sys.exit(main())
