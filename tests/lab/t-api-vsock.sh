# SPDX-License-Identifier: GPL-2.0-only
# A snapshot of a VM with the userspace vsock (PUT /vsock with uds_path, issue 11). The
# guest listens on two ports (vsock-echo); a host client connects to the first through
# the Unix socket and keeps its connection open. Pause, create, kill -9: the client sees
# its connection closed, and the socket file stays behind. A second process refuses the
# load while that file is there (400, still usable), then loads with vsock_override onto
# a new path and resume_vm: the guest's driver got the transport reset (the first
# listener's connection ends with "Connection reset"), its second listener survived and
# a new host CONNECT through the new path echoes. One boot, one restore; the host client
# is tests/lab/vsock-client.py.

. tests/lab/api-lib.sh

VSA_CID=3
VSA_OLD=5401 # the connection that the snapshot cuts
VSA_NEW=5402 # the listener a new connection reaches after the restore

vsa_configure() {
	local cmdline
	cmdline="$(guest_cmdline info shell) kvmbox.modules=virtio_pci,vmw_vsock_virtio_transport"
	api_expect 204 PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 256}'
	api_expect 204 PUT /boot-source '{"kernel_image_path": "'"$LAB_KERNEL"'", "initrd_path": "'"$LAB_INITRD"'",
		"boot_args": "'"$cmdline"'"}'
	api_expect 204 PUT /vsock '{"guest_cid": '"$VSA_CID"', "uds_path": "'"$1"'"}'
	api_expect 204 PUT /actions '{"action_type": "InstanceStart"}'
}

# vsa_wait_log LOG TEXT: LOG has the line TEXT within 60 s.
vsa_wait_log() {
	local i
	for ((i = 0; i < 60; i++)); do
		grep -qxF "$2" "$1" 2>/dev/null && return 0
		sleep 1
	done
	fail "no '$2' in $1: $(tr '\n' '|' <"$1" 2>/dev/null)"
}

test_snapshot_with_uds_vsock() {
	local d="$API_DIR/vsa" got client
	command -v python3 >/dev/null || skip "python3 is needed for the host halves"
	rm -rf "$d"
	mkdir -p "$d"
	: >"$d/old.log"
	: >"$d/new.log"
	api_launch api-vsock-a
	vsa_configure "$d/v.sock"
	api_wait_line "KVMBOX-INIT: start"
	sleep 2
	echo "vsock-echo $VSA_OLD >/tmp/old.out 2>&1 & vsock-echo $VSA_NEW >/tmp/new.out 2>&1 &" >&3
	got="$(snap_ask READY 'sleep 1; cat /tmp/old.out /tmp/new.out | grep -c ^ready')"
	[ "$got" = 2 ] || fail "the guest's listeners are not ready: '$got'"
	python3 -u tests/lab/vsock-client.py --hold "$d/v.sock" "$VSA_OLD" before "$d/old.log" &
	client=$!
	vsa_wait_log "$d/old.log" "echo ok"

	snap_take "$d/vm.snap" "$d/vm.mem"
	vsa_wait_log "$d/old.log" closed
	wait "$client" || true
	[ -S "$d/v.sock" ] || fail "the killed kvmbox left no socket file (the test expects one)"

	api_launch api-vsock-b
	snap_load_expect 400 "the vsock uds_path $d/v.sock exists" "$d/vm.snap" "$d/vm.mem"
	snap_load_expect 400 "missing field \`uds_path\`" "$d/vm.snap" "$d/vm.mem" ', "vsock_override": {}'
	snap_load_expect 204 "" "$d/vm.snap" "$d/vm.mem" \
		', "resume_vm": true, "vsock_override": {"uds_path": "'"$d/v2.sock"'"}'
	got="$(api_call GET /vm/config)"
	[[ "$got" == *"$d/v2.sock"* ]] || fail "GET /vm/config after the load: $got"
	python3 -u tests/lab/vsock-client.py "$d/v2.sock" "$VSA_NEW" after "$d/new.log"
	grep -qxF ok "$d/new.log" || fail "the new connection after the restore: $(tr '\n' '|' <"$d/new.log")"
	# Reset by the transport reset event; without it, vsock-echo would still wait in read.
	got="$(snap_ask OLD 'sleep 1; tail -n1 /tmp/old.out')"
	[[ "$got" == *"Connection reset"* ]] ||
		fail "the guest's connection from before the snapshot: '$got' (expected a reset)"
	got="$(snap_ask NEW 'tail -n1 /tmp/new.out')"
	[ "$got" = "echoed 6" ] || fail "the guest's listener after the restore: '$got'"
	! grep -q "needs a reset\|event queue\|event buffer" "$BOOT_LOG" ||
		fail "$(grep -m1 "needs a reset\|event queue\|event buffer" "$BOOT_LOG")"
	api_expect 204 PUT /actions '{"action_type": "SendCtrlAltDel"}'
	api_wait_exit
	[ ! -e "$d/v2.sock" ] || fail "$d/v2.sock is still there after kvmbox exited"
}
