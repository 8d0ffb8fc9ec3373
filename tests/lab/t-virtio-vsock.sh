# SPDX-License-Identifier: GPL-2.0-only
# virtio-vsock through L1's vhost-vsock, under the stock kernel's
# vmw_vsock_virtio_transport driver (the guest half is tests/lab/guest/vsock.sh): a
# listener on the host side (python3, AF_VSOCK) accepts the guest's connections to CID 2
# and answers; the guest checks the answers, the host logs the peer's CID and line. The
# device must work again after unbind/bind of the driver. Bad --vsock values, and a CID
# another VM holds, exit 2 before any guest runs.

VSOCK_CID=3
VSOCK_PORT=5201

# vsock_need_vhost: skip, saying why, where the lab kernel has no vhost-vsock.
vsock_need_vhost() {
	[ -c /dev/vhost-vsock ] ||
		skip "no /dev/vhost-vsock in the lab: its kernel lacks vhost-vsock (vhost_vsock module)"
	python3 -c 'import socket; socket.AF_VSOCK' 2>/dev/null ||
		skip "python3 with socket.AF_VSOCK is needed for the host listener"
}

# vsock_listener LOG: the host half, in the background (pid in LISTENER). Listens on
# VSOCK_PORT of any CID; per connection reads one line, answers "kvmbox-host: LINE" and
# logs "peer CID LINE".
vsock_listener() {
	python3 -u tests/lab/line-echo.py vsock "$VSOCK_PORT" "$1" &
	LISTENER=$!
}

# vsock_boot: one boot with the listener running (shared by the tests of this file,
# like every boot with the same options); HOST_LOG is the listener's log.
vsock_boot() {
	vsock_need_vhost
	HOST_LOG="$LAB_RUN_TMP/vsock-host.log"
	if [ ! -f "$LAB_RUN_TMP/vsock-booted" ]; then
		: >"$HOST_LOG"
		vsock_listener "$HOST_LOG"
		trap 'kill $LISTENER 2>/dev/null' EXIT
		# Ready when it says so; a listener that died instead fails the test.
		until grep -q '^listening$' "$HOST_LOG"; do
			kill -0 "$LISTENER" 2>/dev/null || fail "the host listener died: $(tail -n1 "$HOST_LOG")"
			sleep 0.2
		done
		touch "$LAB_RUN_TMP/vsock-booted"
	fi
	guest_boot virtio-vsock --vsock "cid=$VSOCK_CID" --cpus 1 --memory 256M --cmdline \
		"$(guest_cmdline vsock) kvmbox.modules=virtio_pci,vmw_vsock_virtio_transport kvmbox.vsock_port=$VSOCK_PORT kvmbox.vsock_cid=$VSOCK_CID"
	guest_expect_end poweroff
}

# host_saw LINE: the listener took a connection from our CID with that line.
host_saw() {
	grep -qxF "peer $VSOCK_CID $1" "$HOST_LOG" ||
		fail "the host listener saw no 'peer $VSOCK_CID $1' line (it logged: $(tr '\n' '|' <"$HOST_LOG"))"
}

test_host_listener_accepts_guest_connection() {
	vsock_boot
	guest_expect_ok VSOCK BOUND CONNECT
	host_saw first
}

test_guest_reads_its_cid() {
	vsock_boot
	guest_expect_ok VSOCK LOCAL-CID
}

test_interrupts_are_msix() {
	vsock_boot
	guest_expect_ok VSOCK MSIX
}

test_driver_unbind_bind_resets() {
	vsock_boot
	guest_expect_ok VSOCK DRIVER-REBIND CONNECT-AGAIN
	host_saw after-rebind-1
	host_saw after-rebind-3
	host_saw last
}

# A driver that follows the rules never sees NEEDS_RESET, and kvmbox has no complaint.
test_no_device_errors() {
	vsock_boot
	! grep -q "needs a reset" "$BOOT_LOG" || fail "$(grep -m1 "needs a reset" "$BOOT_LOG")"
	! grep -q "kvmbox: warning\|kvmbox: error" "$BOOT_LOG" ||
		fail "$(grep -m1 "kvmbox: warning\|kvmbox: error" "$BOOT_LOG")"
	[ "$BOOT_RC" = 0 ] || fail "kvmbox exited $BOOT_RC"
}

# vsock_expect_exit2 WHAT ARGS...: `kvmbox run --kernel K ARGS` exits 2 with one line on
# stderr that contains WHAT.
vsock_expect_exit2() {
	local what="$1" rc err="$LAB_RUN_TMP/vsock-err"
	shift
	timeout -k 5 120 "$KVMBOX" run --kernel "$LAB_KERNEL" "$@" </dev/null >/dev/null 2>"$err"
	rc=$?
	[ "$rc" = 2 ] || fail "kvmbox $* exited $rc, expected 2: $(head -c 200 "$err")"
	[ "$(wc -l <"$err")" = 1 ] || fail "kvmbox $*: expected one line on stderr: $(tr '\n' '|' <"$err")"
	grep -qF "$what" "$err" || fail "kvmbox $*: '$(cat "$err")' does not say '$what'"
}

test_bad_options_exit_2() {
	vsock_expect_exit2 "from 3 to 4294967294" --vsock cid=2
	vsock_expect_exit2 "from 3 to 4294967294" --vsock cid=4294967295
	vsock_expect_exit2 "from 3 to 4294967294" --vsock cid=three
	vsock_expect_exit2 "unknown key 'port'" --vsock cid=3,port=5
	vsock_expect_exit2 "cid=N is required" --vsock ""
	vsock_expect_exit2 "only one --vsock" --vsock cid=3 --vsock cid=4
}

# Another holder of the CID (here a bare vhost-vsock fd, as a second VM would be).
test_cid_in_use_exits_2() {
	vsock_need_vhost
	python3 - "$KVMBOX" "$LAB_KERNEL" <<'PY' >"$LAB_RUN_TMP/vsock-inuse" 2>&1
import fcntl, os, struct, subprocess, sys

VHOST_VSOCK_SET_GUEST_CID = 0x4008AF60  # _IOW(0xAF, 0x60, __u64)
fd = os.open("/dev/vhost-vsock", os.O_RDWR)
fcntl.ioctl(fd, VHOST_VSOCK_SET_GUEST_CID, struct.pack("<Q", 7))
r = subprocess.run([sys.argv[1], "run", "--kernel", sys.argv[2], "--vsock", "cid=7"],
                   stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
print(r.returncode)
print(r.stderr, end="")
PY
	local rc
	rc="$(head -n1 "$LAB_RUN_TMP/vsock-inuse")"
	[ "$rc" = 2 ] || fail "kvmbox --vsock cid=7 with CID 7 taken: $(tr '\n' '|' <"$LAB_RUN_TMP/vsock-inuse")"
	grep -q "CID 7 is already in use" "$LAB_RUN_TMP/vsock-inuse" ||
		fail "no 'CID 7 is already in use' line: $(tr '\n' '|' <"$LAB_RUN_TMP/vsock-inuse")"
}
