# SPDX-License-Identifier: GPL-2.0-only
# The userspace virtio-vsock (--vsock cid=N,uds=PATH): Firecracker's Unix-socket protocol,
# under the stock kernel's vmw_vsock_virtio_transport driver (the guest half is
# tests/lab/guest/vsock-uds.sh). No vhost-vsock needed. In one boot:
#  - guest-initiated: the guest's connection to CID 2, port VSU_PORT reaches a python3
#    listener on PATH_VSU_PORT, which answers each line; a port with no PATH_<port> is
#    refused;
#  - host-initiated: once the guest listens on VSU_ECHO, a python3 client connects to PATH,
#    writes "CONNECT VSU_ECHO\n", must read "OK <port>\n", then sends 300 KiB (more than
#    the 256 KiB credit either side gives) and half-closes; the guest echoes every byte
#    and the client checks them all.
# After the guest powers off, kvmbox has removed PATH.

VSU_CID=3
VSU_PORT=5301
VSU_ECHO=5302

vsu_need_python() {
	command -v python3 >/dev/null || skip "python3 is needed for the host halves"
}

# vsu_listener PATH LOG: answers "kvmbox-host: LINE" on the Unix socket PATH (pid in
# VSU_LISTENER), logging "peer LINE" per connection.
vsu_listener() {
	python3 -u tests/lab/line-echo.py unix "$1" "$2" &
	VSU_LISTENER=$!
}

# vsu_client UDS BOOTLOG LOG: waits for the guest's LISTENING line in BOOTLOG, then does
# the host-initiated exchange through UDS; logs "ok N" or "error ...".
vsu_client() {
	python3 -u - "$1" "$2" "$3" "$VSU_ECHO" <<'PY' &
import os
import socket
import sys
import threading
import time

uds, bootlog, log, port = sys.argv[1], sys.argv[2], open(sys.argv[3], "a", buffering=1), sys.argv[4]
deadline = time.time() + 600
want = f"KVMBOX-VSOCKUDS-LISTENING: {port}"
while True:
    try:
        with open(bootlog, errors="replace") as f:
            if any(l.strip() == want for l in f):
                break
    except OSError:
        pass
    if time.time() > deadline:
        log.write("error: the guest never listened\n")
        sys.exit(1)
    time.sleep(0.2)
try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(120)
    s.connect(uds)
    s.sendall(f"CONNECT {port}\n".encode())
    line = b""
    while not line.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            raise OSError(f"end of stream after {line!r}")
        line += c
    log.write(f"handshake {line.decode().strip()}\n")
    if not line.startswith(b"OK ") or not line[3:-1].isdigit():
        raise OSError(f"bad handshake reply {line!r}")
    data = os.urandom(300 * 1024)
    got = bytearray()

    def reader():
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return
            got.extend(chunk)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(180)
    if bytes(got) != data:
        raise OSError(f"echo differs: sent {len(data)} bytes, got {len(got)}")
    log.write(f"ok {len(got)}\n")
except OSError as e:
    log.write(f"error {e}\n")
PY
	VSU_CLIENT=$!
}

vsu_boot() {
	vsu_need_python
	VSU_DIR="$LAB_RUN_TMP/vsu"
	VSU_UDS="$VSU_DIR/v.sock"
	VSU_HOST_LOG="$VSU_DIR/host.log"
	VSU_CLIENT_LOG="$VSU_DIR/client.log"
	if [ ! -f "$LAB_RUN_TMP/vsu-booted" ]; then
		mkdir -p "$VSU_DIR"
		: >"$VSU_HOST_LOG"
		: >"$VSU_CLIENT_LOG"
		vsu_listener "${VSU_UDS}_$VSU_PORT" "$VSU_HOST_LOG"
		trap 'kill $VSU_LISTENER $VSU_CLIENT 2>/dev/null' EXIT
		until grep -q '^listening$' "$VSU_HOST_LOG"; do
			kill -0 "$VSU_LISTENER" 2>/dev/null || fail "the host listener died: $(tail -n1 "$VSU_HOST_LOG")"
			sleep 0.2
		done
		# guest_boot names the log after its first argument.
		rm -f "$LAB_LOGS/virtio-vsock-uds.log"
		vsu_client "$VSU_UDS" "$LAB_LOGS/virtio-vsock-uds.log" "$VSU_CLIENT_LOG"
		touch "$LAB_RUN_TMP/vsu-booted"
	fi
	guest_boot virtio-vsock-uds --vsock "cid=$VSU_CID,uds=$VSU_UDS" --cpus 1 --memory 256M --cmdline \
		"$(guest_cmdline vsock-uds) kvmbox.modules=virtio_pci,vmw_vsock_virtio_transport kvmbox.vsock_port=$VSU_PORT kvmbox.vsock_echo=$VSU_ECHO"
	# The client ends with the echo (or its error); give it a moment to write its line.
	for _ in $(seq 1 50); do
		grep -q '^ok \|^error' "$VSU_CLIENT_LOG" && break
		sleep 0.2
	done
	guest_expect_end poweroff
}

test_guest_connects_to_uds_port() {
	vsu_boot
	guest_expect_ok VSOCKUDS GUEST-CONNECT GUEST-CONNECT-AGAIN
	grep -qxF "peer from-guest" "$VSU_HOST_LOG" ||
		fail "the host listener saw no 'peer from-guest' ($(tr '\n' '|' <"$VSU_HOST_LOG"))"
}

test_guest_connect_without_listener_refused() {
	vsu_boot
	guest_expect_ok VSOCKUDS REFUSED
}

test_host_connect_ok_and_echo() {
	vsu_boot
	grep -qE '^handshake OK [0-9]+$' "$VSU_CLIENT_LOG" ||
		fail "no 'OK <port>' handshake: $(tr '\n' '|' <"$VSU_CLIENT_LOG")"
	grep -qxF "ok $((300 * 1024))" "$VSU_CLIENT_LOG" ||
		fail "the echo round trip failed: $(tr '\n' '|' <"$VSU_CLIENT_LOG")"
	guest_expect_ok VSOCKUDS ECHO
}

test_socket_removed_at_exit() {
	vsu_boot
	[ "$BOOT_RC" = 0 ] || fail "kvmbox exited $BOOT_RC"
	[ ! -e "$VSU_UDS" ] || fail "$VSU_UDS is still there after kvmbox exited"
}

test_no_device_errors() {
	vsu_boot
	! grep -q "needs a reset" "$BOOT_LOG" || fail "$(grep -m1 "needs a reset" "$BOOT_LOG")"
	! grep -q "kvmbox: warning\|kvmbox: error" "$BOOT_LOG" ||
		fail "$(grep -m1 "kvmbox: warning\|kvmbox: error" "$BOOT_LOG")"
}
