#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""One TCP transfer with a guest, run in the lab machine (tests/lab/t-api-net.sh).

usage: net-sink.py recv ADDR PORT TOTAL SKIP OUT
         listens on ADDR:PORT, takes one connection and reads until TOTAL bytes or EOF,
         then closes. Writes "BYTES RATE" to OUT: RATE (bytes/s) is measured from the
         moment SKIP bytes had arrived to the last byte, so that a limiter's full bucket
         at the start and TCP's slow start hardly show.
       net-sink.py send ADDR PORT TOTAL OUT
         listens on ADDR:PORT, takes one connection, sends TOTAL bytes, closes its side
         and waits for the guest's close. Writes "BYTES SECONDS" to OUT (the guest
         measures the rate itself: bytes sent are not yet bytes delivered).
OUT.ready appears once it listens. Gives up after 120 s without a connection or 300 s
in all (then OUT says "timeout").
"""
import os
import socket
import sys
import time


def listen(addr, port, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1)
    # The test starts the guest's side once this is there.
    open(out + ".ready", "w").close()
    s.settimeout(120)
    c, _ = s.accept()
    s.close()
    c.settimeout(300)
    return c


def recv(c, total, skip):
    got, t_skip, b_skip = 0, None, 0
    while got < total:
        data = c.recv(min(65536, total - got))
        if not data:
            break
        got += len(data)
        if t_skip is None and got >= skip:
            t_skip, b_skip = time.monotonic(), got
    t_end = time.monotonic()
    rate = (got - b_skip) / (t_end - t_skip) if t_skip and t_end > t_skip else 0
    return "%d %.0f" % (got, rate)


def send(c, total):
    chunk = bytes(65536)
    t0, sent = time.monotonic(), 0
    while sent < total:
        sent += c.send(chunk[: min(len(chunk), total - sent)])
    c.shutdown(socket.SHUT_WR)
    while c.recv(65536):
        pass
    return "%d %.2f" % (sent, time.monotonic() - t0)


def main():
    mode, addr, port, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    out = sys.argv[-1]
    try:
        c = listen(addr, port, out)
        line = recv(c, total, int(sys.argv[5])) if mode == "recv" else send(c, total)
        c.close()
    except OSError as e:
        line = "timeout" if isinstance(e, socket.timeout) else "error %s" % e
    with open(out + ".tmp", "w") as f:
        f.write(line + "\n")
    # Whole or absent: the test polls for OUT.
    os.rename(out + ".tmp", out)


if __name__ == "__main__":
    main()
