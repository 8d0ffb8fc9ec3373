# SPDX-License-Identifier: GPL-2.0-only
# What the Go SDK sends, replayed (issue 11). firecracker-go-sdk's Machine.Start polls
# GET /machine-config until the socket answers, then PUTs /logger (a FIFO it reads) and
# /metrics, /machine-config (and GETs it back), /boot-source, /drives with the root drive
# last, /network-interfaces/1 and /2, /vsock, and /actions InstanceStart; its Shutdown
# is SendCtrlAltDel. The same calls, in that order and with the SDK's bodies, boot the
# stock kernel with 2 vCPUs (smt true), a root and a data disk, two taps and the
# userspace vsock. The guest sees 2 CPUs as one core's two threads, the root disk as vda and the data disk
# read-only, both NICs with their MACs; a host client reaches the guest's vsock-echo
# through the Unix socket (CONNECT, OK, the echo); FlushMetrics adds a JSON line that
# names each drive and NIC by its id; SendCtrlAltDel ends the process with 0 and both
# sockets are gone; the logger FIFO carried kvmbox's lines. One boot; the API client is
# tests/api/fc_client.py, the vsock one tests/lab/vsock-client.py.

. tests/lab/api-lib.sh

SDK_TAPS=(kvmsdk1 kvmsdk2)
SDK_MACS=(AA:FC:00:00:00:01 AA:FC:00:00:00:02) # firectl's style, upper case
SDK_PORT=5301
# What the log FIFO's reader copies, kept for a look after the run.
SDK_LOG="$LAB_LOGS/api-sdk-replay.kvmbox-log"

# sdk_taps: fresh taps SDK_TAPS (no address: the test sends no traffic), or a skip.
sdk_taps() {
	local t
	for t in "${SDK_TAPS[@]}"; do
		ip link del "$t" 2>/dev/null
		ip tuntap add dev "$t" mode tap 2>/dev/null && ip link set "$t" up ||
			skip "no tap device could be made in the lab for the interfaces \"1\" and \"2\""
	done
}

# sdk_configure DIR: the SDK's calls from its first poll to InstanceStart. Starts the
# log FIFO's reader (SDK_LOG_READER), as the SDK's captureFifoToFile does, into SDK_LOG.
sdk_configure() {
	local d="$1" cmdline got i
	python3 "$API_CLIENT" "$API_SOCK" --wait 30 /machine-config ||
		fail "GET /machine-config did not answer 200 within 30 s"
	api_expect 204 PUT /logger '{"log_path": "'"$d/log.fifo"'", "level": "Debug",
		"show_level": true, "show_log_origin": false}'
	cat "$d/log.fifo" >"$SDK_LOG" &
	SDK_LOG_READER=$!
	api_expect 204 PUT /metrics '{"metrics_path": "'"$d/metrics.json"'"}'
	api_expect 204 PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256, "smt": true}'
	got="$(api_call GET /machine-config)"
	[[ "$got" =~ ^200\ .*\"smt\":\ ?true ]] || fail "GET /machine-config after smt true: $got"
	cmdline="$(guest_cmdline info shell) reboot=k pci=off"
	cmdline+=" kvmbox.modules=virtio_pci,virtio_blk,virtio_net,vmw_vsock_virtio_transport"
	api_expect 204 PUT /boot-source '{"kernel_image_path": "'"$LAB_KERNEL"'",
		"initrd_path": "'"$LAB_INITRD"'", "boot_args": "'"$cmdline"'"}'
	# The SDK's DrivesBuilder: added drives are "0", "1"...; "root_drive" goes last.
	api_expect 204 PUT /drives/0 '{"drive_id": "0", "path_on_host": "'"$d/data.img"'",
		"is_root_device": false, "is_read_only": true}'
	api_expect 204 PUT /drives/root_drive '{"drive_id": "root_drive",
		"path_on_host": "'"$d/root.img"'", "is_root_device": true, "is_read_only": false}'
	for i in 0 1; do
		api_expect 204 PUT "/network-interfaces/$((i + 1))" '{"iface_id": "'$((i + 1))'",
			"guest_mac": "'"${SDK_MACS[i]}"'", "host_dev_name": "'"${SDK_TAPS[i]}"'"}'
	done
	api_expect 204 PUT /vsock '{"guest_cid": 3, "uds_path": "'"$d/v.sock"'"}'
	api_expect 204 PUT /actions '{"action_type": "InstanceStart"}'
}

# sdk_guest_checks: CPUs, disks and NICs as the guest sees them.
sdk_guest_checks() {
	local got
	[ "$(guest_value NPROC)" = 2 ] || fail "vcpu_count 2: the guest's nproc is '$(guest_value NPROC)'"
	# smt true: the two vCPUs are one core's two threads (CPUID leaves 0xB, 4, 0x8000001E).
	got="$(guest_value SIBLINGS)"
	[ "$got" = "0-1" ] || fail "smt true: cpu0's thread siblings are '$got', not 0-1"
	got="$(snap_ask DISKS 'cat /sys/block/vda/size /sys/block/vdb/size /sys/block/vdb/ro')"
	[ "$got" = "32768 16384 1" ] ||
		fail "vda, vdb sectors and vdb's ro flag: '$got' (expected the 16 MiB root as vda)"
	got="$(snap_ask ROOTARG "grep -o 'root=[^ ]* r[ow]' /proc/cmdline")"
	[ "$got" = "root=/dev/vda rw" ] || fail "the root drive's kernel argument: '$got'"
	got="$(snap_ask NICS 'cat /sys/class/net/eth0/address /sys/class/net/eth1/address | sort')"
	[ "$got" = "aa:fc:00:00:00:01 aa:fc:00:00:00:02" ] || fail "eth0 and eth1's MACs: '$got'"
}

# sdk_vsock_echo DIR: a host connection through DIR/v.sock to the guest's vsock-echo.
sdk_vsock_echo() {
	local got
	echo "vsock-echo $SDK_PORT >/tmp/echo.out 2>&1 &" >&3
	got="$(snap_ask READY 'sleep 1; cat /tmp/echo.out')"
	[ "$got" = ready ] || fail "the guest's vsock-echo is not ready: '$got'"
	python3 -u tests/lab/vsock-client.py "$1/v.sock" "$SDK_PORT" hello "$1/vsock.log"
	[ "$(tr '\n' ' ' <"$1/vsock.log")" = "echo ok ok " ] ||
		fail "the host's vsock connection: $(tr '\n' '|' <"$1/vsock.log")"
	got="$(snap_ask ECHOED 'tail -n1 /tmp/echo.out')"
	[ "$got" = "echoed 6" ] || fail "the guest's vsock-echo: '$got'"
}

# sdk_metrics_check FILE: every line is JSON; over all of them the groups of both drives
# and NICs are there, and the root disk was read (the guest's partition scan).
sdk_metrics_check() {
	python3 - "$1" <<'EOF' || fail "the metrics file $1: $(tail -n1 "$1")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
for key in ("utc_timestamp_ms", "block_0", "block_root_drive", "net_1", "net_2"):
    assert all(key in l for l in lines), f"no {key} in a line"
reads = sum(l["block_root_drive"]["read_count"] for l in lines)
assert reads > 0, "no reads of the root drive counted"
EOF
}

test_go_sdk_replay() {
	local d="$API_DIR/sdk" n0 n1 i
	command -v python3 >/dev/null || skip "python3 is needed for the clients"
	sdk_taps
	rm -rf "$d"
	mkdir -p "$d"
	truncate -s 16M "$d/root.img"
	truncate -s 8M "$d/data.img"
	mkfifo "$d/log.fifo"
	: >"$d/metrics.json"
	api_spawn api-sdk-replay
	sdk_configure "$d"
	api_wait_line "KVMBOX-END: shell"
	sdk_guest_checks
	sdk_vsock_echo "$d"

	n0="$(wc -l <"$d/metrics.json")"
	api_expect 204 PUT /actions '{"action_type": "FlushMetrics"}'
	n1="$(wc -l <"$d/metrics.json")"
	cp "$d/metrics.json" "$LAB_LOGS/api-sdk-replay.metrics"
	[ "$n1" -gt "$n0" ] || fail "FlushMetrics wrote no line ($n0 before, $n1 after)"
	sdk_metrics_check "$d/metrics.json"

	api_expect 204 PUT /actions '{"action_type": "SendCtrlAltDel"}'
	api_wait_exit
	[ "$API_RC" = 0 ] || fail "SendCtrlAltDel: kvmbox exited $API_RC (expected 0)"
	[ ! -e "$d/v.sock" ] || fail "the vsock socket $d/v.sock is still there after the exit"
	# kvmbox was the FIFO's only writer: its reader ends with it.
	for ((i = 0; i < 10; i++)); do
		kill -0 "$SDK_LOG_READER" 2>/dev/null || break
		sleep 1
	done
	! kill -0 "$SDK_LOG_READER" 2>/dev/null || fail "the log FIFO's reader did not see its end"
	grep -qF "virtio-vsock: guest CID 3, host connections on $d/v.sock" "$SDK_LOG" ||
		fail "no vsock line in the log FIFO's $(wc -l <"$SDK_LOG") lines ($SDK_LOG)"
	# Level Debug took effect (the taps' offloads are logged at it).
	grep -q "^kvmbox: debug: " "$SDK_LOG" || fail "no debug line in the log FIFO ($SDK_LOG)"
	for i in "${SDK_TAPS[@]}"; do
		ip link del "$i"
	done
}
