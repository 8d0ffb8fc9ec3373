# SPDX-License-Identifier: GPL-2.0-only
# virtio-console under the stock kernel's virtio_console driver: the guest's hvc0 (the
# guest half is tests/lab/guest/console.sh), in two boots:
#   socket  --virtio-console=socket:PATH with tests/lab/console-peer.py as the client:
#           round trips, driver unbind/bind (once, then five times with output in
#           flight), the client leaving and a new one connecting, output with no client
#   stdio   --virtio-console: the guest's hello shows on kvmbox's stdout, the answer
#           goes in on stdin, and Ctrl-A x still ends kvmbox
# and bad values of the option, which need no guest.

CON_SOCK="$LAB_RUN_TMP/hvc0.sock" # L1's own /tmp: a socket cannot live on the 9p share

con_cmdline() {
	echo "$(guest_cmdline console) kvmbox.modules=virtio_pci,virtio_console $*"
}

# con_start_log NAME ARGS...: BOOT_LOG for NAME with the command line at its top.
con_start_log() {
	mkdir -p "$LAB_LOGS"
	BOOT_LOG="$LAB_LOGS/$1.log"
	shift
	echo "$BOOT_LOG" >"$LAB_TEST_LOGREF"
	printf '# %s' "$KVMBOX" >"$BOOT_LOG"
	printf ' %q' "$@" >>"$BOOT_LOG"
	echo >>"$BOOT_LOG"
}

# con_cached NAME: whether the boot NAME already ran in this run (then BOOT_LOG and
# BOOT_RC are set).
con_cached() {
	BOOT_LOG="$LAB_LOGS/virtio-console-$1.log"
	echo "$BOOT_LOG" >"$LAB_TEST_LOGREF"
	[ -f "$LAB_RUN_TMP/console-$1.rc" ] && read -r BOOT_RC <"$LAB_RUN_TMP/console-$1.rc"
}

con_finish() {
	echo "# exit status $BOOT_RC" >>"$BOOT_LOG"
	echo "$BOOT_RC" >"$LAB_RUN_TMP/console-$1.rc"
}

con_socket_boot() {
	local pid args
	con_cached socket && return 0
	rm -f "$CON_SOCK"
	args=(run --kernel "$LAB_KERNEL" --initrd "$LAB_INITRD" --cpus 1 --memory 256M
		--virtio-console="socket:$CON_SOCK" --cmdline "$(con_cmdline)")
	con_start_log virtio-console-socket "${args[@]}"
	timeout -k 10 "$LAB_BOOT_TIMEOUT" "$KVMBOX" "${args[@]}" </dev/null >>"$BOOT_LOG" 2>&1 &
	pid=$!
	timeout -k 5 "$LAB_BOOT_TIMEOUT" python3 tests/lab/console-peer.py "$CON_SOCK" "$pid" \
		>"$LAB_RUN_TMP/console-peer.log" 2>&1
	echo "$?" >"$LAB_RUN_TMP/console-peer.rc"
	wait "$pid"
	BOOT_RC=$?
	con_finish socket
}

# con_stdio_wait PATTERN: until the boot log has a line matching PATTERN (true), or the
# guest's init ended or the time is up (false).
con_stdio_wait() {
	local i
	for ((i = 0; i < LAB_BOOT_TIMEOUT; i++)); do
		tr -d '\r' <"$BOOT_LOG" | grep "$1" >/dev/null && return 0
		tr -d '\r' <"$BOOT_LOG" | grep "^KVMBOX-TEST: " >/dev/null && return 1
		sleep 1
	done
	return 1
}

# The feeder of the stdio boot: answers the guest's hello from kvmbox's stdout on its
# stdin, then types Ctrl-A x when the guest asks for it.
con_stdio_feeder() {
	local nonce
	con_stdio_wait "^KVMBOX-HVC-STDIO-HELLO: " || return 0
	nonce="$(tr -d '\r' <"$BOOT_LOG" | sed -n 's/^KVMBOX-HVC-STDIO-HELLO: //p' | tail -n1)"
	printf 'REPLY stdio %s\n' "$(echo "$nonce" | rev)"
	con_stdio_wait "^KVMBOX-HVC-STDIO-QUIT-NOW: yes" || return 0
	printf '\001x'
}

con_stdio_boot() {
	local args
	con_cached stdio && return 0
	args=(run --kernel "$LAB_KERNEL" --initrd "$LAB_INITRD" --cpus 1 --memory 256M
		--virtio-console --cmdline "$(con_cmdline kvmbox.hvc=stdio)")
	con_start_log virtio-console-stdio "${args[@]}"
	con_stdio_feeder | timeout -k 10 "$LAB_BOOT_TIMEOUT" "$KVMBOX" "${args[@]}" >>"$BOOT_LOG" 2>&1
	BOOT_RC=${PIPESTATUS[1]}
	con_finish stdio
}

con_expect_socket_boot() {
	con_socket_boot
	if [ "$BOOT_RC" = 124 ] || [ "$BOOT_RC" = 137 ]; then
		fail "guest did not finish within ${LAB_BOOT_TIMEOUT}s"
	fi
	guest_expect_end poweroff
}

test_round_trip() {
	local tag sent got
	con_expect_socket_boot
	guest_expect_ok HVC OPEN ROUNDTRIP
	# What the guest saw is exactly what the peer sent for what the guest sent.
	sent="$(guest_value HVC-SENT-1)"
	got="$(guest_value HVC-GOT-1)"
	tag="${sent#HELLO 1 }"
	[ "$got" = "REPLY 1 $(echo "$tag" | rev)" ] || fail "sent '$sent', got '$got'"
	grep -qxF "PEER-GOT: $sent" "$LAB_RUN_TMP/console-peer.log" ||
		fail "the peer did not see '$sent'"
	grep -qxF "PEER-SENT: $got" "$LAB_RUN_TMP/console-peer.log" ||
		fail "the peer did not send '$got'"
}

test_driver_unbind_bind() {
	con_expect_socket_boot
	guest_expect_ok HVC DRIVER-REBIND ROUNDTRIP-AFTER-REBIND
}

test_rebind_with_output_in_flight() {
	con_expect_socket_boot
	guest_expect_ok HVC REBIND-LOOP ROUNDTRIP-AFTER-LOOP
}

test_new_client_after_the_first_left() {
	con_expect_socket_boot
	guest_expect_ok HVC NEW-CLIENT
	[ "$(grep -c "^PEER-CONNECTED: " "$LAB_RUN_TMP/console-peer.log")" = 2 ] ||
		fail "the peer did not connect twice: $(tr '\n' '|' <"$LAB_RUN_TMP/console-peer.log")"
	[ "$(cat "$LAB_RUN_TMP/console-peer.rc")" = 0 ] ||
		fail "the peer failed: $(tail -n1 "$LAB_RUN_TMP/console-peer.log")"
}

test_output_without_client_does_not_block() {
	con_expect_socket_boot
	guest_expect_ok HVC WRITE-WITHOUT-CLIENT
}

# A driver that follows the rules never sees NEEDS_RESET; kvmbox removes its socket.
test_clean_exit() {
	con_expect_socket_boot
	! grep -q "needs a reset" "$BOOT_LOG" || fail "$(grep -m1 "needs a reset" "$BOOT_LOG")"
	! grep -q "kvmbox: warning" "$BOOT_LOG" || fail "$(grep -m1 "kvmbox: warning" "$BOOT_LOG")"
	[ "$BOOT_RC" = 0 ] || fail "kvmbox exited $BOOT_RC"
	[ ! -e "$CON_SOCK" ] || fail "$CON_SOCK is still there after kvmbox exited"
}

test_stdio_round_trip_and_ctrl_a_x() {
	con_stdio_boot
	guest_expect_ok HVC STDIO-ROUNDTRIP
	guest_has_line "KVMBOX-HVC-STDIO-QUIT-NOW: yes" || fail "the guest did not get to Ctrl-A x"
	! guest_has_line "KVMBOX-HVC-STDIO-STILL-RUNNING: yes" || fail "Ctrl-A x did not stop kvmbox"
	[ "$BOOT_RC" = 0 ] || fail "kvmbox exited $BOOT_RC after Ctrl-A x, expected 0"
}

# con_expect_usage_error ARGS...: kvmbox exits 2 with one line on stderr, no guest run.
con_expect_usage_error() {
	local rc lines
	timeout -k 5 60 "$KVMBOX" run --kernel "$LAB_KERNEL" --initrd "$LAB_INITRD" "$@" \
		</dev/null >"$LAB_RUN_TMP/usage.out" 2>"$LAB_RUN_TMP/usage.err"
	rc=$?
	lines="$(wc -l <"$LAB_RUN_TMP/usage.err")"
	[ "$rc" = 2 ] || fail "kvmbox $* exited $rc, expected 2: $(head -c 200 "$LAB_RUN_TMP/usage.err")"
	[ "$lines" = 1 ] || fail "kvmbox $*: $lines lines on stderr, expected 1"
}

test_bad_values_exit_2() {
	local taken="$LAB_RUN_TMP/taken"
	con_expect_usage_error --virtio-console=bogus
	con_expect_usage_error --virtio-console=socket:
	echo keep >"$taken"
	con_expect_usage_error --virtio-console="socket:$taken"
	grep -q "exists" "$LAB_RUN_TMP/usage.err" || fail "no 'exists' in: $(cat "$LAB_RUN_TMP/usage.err")"
	[ "$(cat "$taken")" = keep ] || fail "kvmbox touched the existing $taken"
}
