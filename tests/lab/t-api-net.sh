# SPDX-License-Identifier: GPL-2.0-only
# The control API's network interfaces with traffic (issue 11): a guest on a tap whose
# lab side has an address, so the guest talks to the lab machine itself (ping both ways,
# TCP to a listener of tests/lab/net-sink.py). A snapshot taken with the NIC in use and
# loaded with resume_vm onto a new tap (network_overrides); the tx and rx rate limiters
# measured on real transfers, PATCHed at run time. Two boots and one restore.

. tests/lab/api-lib.sh

NETA_SINK=tests/lab/net-sink.py
NETA_GUEST_MAC=02:fc:00:00:00:21
# The lab side's MAC: the same on the tap a restored guest is moved to, as a host that
# moves a VM keeps its gateway's address (the guest's ARP entry stays right).
NETA_LAB_MAC=02:fc:00:00:00:fe

# neta_tap NAME SUBNET: a fresh tap NAME with SUBNET.1/24 on the lab side.
neta_tap() {
	ip link del "$1" 2>/dev/null
	ip tuntap add dev "$1" mode tap && ip link set "$1" address "$NETA_LAB_MAC" &&
		ip addr add "$2.1/24" dev "$1" && ip link set "$1" up ||
		skip "no tap device with an address could be made in the lab"
}

# neta_configure TAP [NIC-JSON]: 2 vCPUs, 256 MiB, virtio-net on TAP (NIC-JSON: more
# fields of the interface, e.g. its limiters), booted to a shell. No disk.
neta_configure() {
	local cmdline
	cmdline="$(guest_cmdline info shell) kvmbox.modules=virtio_pci,virtio_net"
	api_expect 204 PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256}'
	api_expect 204 PUT /boot-source '{"kernel_image_path": "'"$LAB_KERNEL"'", "initrd_path": "'"$LAB_INITRD"'",
		"boot_args": "'"$cmdline"'"}'
	api_expect 204 PUT /network-interfaces/eth0 '{"iface_id": "eth0", "host_dev_name": "'"$1"'",
		"guest_mac": "'"$NETA_GUEST_MAC"'"'"${2:-}"'}'
	api_expect 204 PUT /actions '{"action_type": "InstanceStart"}'
}

# neta_ask KEY SECS COMMAND: runs COMMAND in the guest's shell, prints its KVMBOX-KEY
# value (empty after SECS seconds without one).
neta_ask() {
	local i v
	echo "echo KVMBOX-$1: \$($3)" >&3
	for ((i = 0; i < $2; i++)); do
		v="$(guest_value "$1")"
		[ -n "$v" ] && break
		kill -0 "$API_PID" 2>/dev/null || break
		sleep 1
	done
	echo "$v"
}

# neta_guest_up SUBNET: the guest's eth0 at SUBNET.2/24.
neta_guest_up() {
	local got
	got="$(neta_ask IFUP 30 "ip link set eth0 up && ip addr add $1.2/24 dev eth0 && echo ok")"
	[ "$got" = ok ] || fail "the guest could not configure eth0: '$got'"
}

# neta_ping KEY SUBNET: the guest pings the lab side, the lab side the guest (3 each).
neta_ping() {
	local got
	got="$(neta_ask "$1" 60 "ping -c 3 -W 5 $2.1 | grep -o '[0-9]* packets received'")"
	[ "$got" = "3 packets received" ] || fail "$1: the guest's ping of $2.1: '$got'"
	busybox ping -c 3 -W 5 "$2.2" >/dev/null || fail "$1: the lab's ping of the guest failed"
}

# neta_wait_file FILE SECS: FILE's line, once net-sink.py wrote it (empty if it did not).
neta_wait_file() {
	local i
	for ((i = 0; i < $2; i++)); do
		[ -s "$1" ] && break
		sleep 1
	done
	cat "$1" 2>/dev/null
}

# neta_wait_listener OUT: net-sink.py listens (python starting over 9p takes a while,
# and the guest's nc tries to connect once).
neta_wait_listener() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ -e "$1.ready" ] && return 0
		sleep 0.1
	done
	fail "net-sink.py did not listen within 30 s"
}

# neta_diagnose KEY: after a transfer that did not end, into the guest's log: kvmbox's
# threads (state, CPU ticks, twice a few seconds apart: a spinning one grows), its net
# metrics, what the listener wrote, and whether the guest's shell still answers.
neta_diagnose() {
	local t
	{
		for t in /proc/"$API_PID"/task/*; do
			echo "# diag $1: thread $(cut -d' ' -f2,3,14,15 "$t/stat" 2>/dev/null)"
		done
		sleep 3
		for t in /proc/"$API_PID"/task/*; do
			echo "# diag $1: 3 s later $(cut -d' ' -f2,3,14,15 "$t/stat" 2>/dev/null)"
		done
	} >>"$BOOT_LOG"
	if ! kill -0 "$API_PID" 2>/dev/null; then
		local rc=0
		wait "$API_PID" 2>/dev/null || rc=$?
		echo "# diag $1: kvmbox is gone, exit status $rc$( ((rc > 128)) && echo " (signal $((rc - 128)))")" >>"$BOOT_LOG"
		dmesg 2>/dev/null | tail -n 5 | sed "s/^/# diag $1: dmesg: /" >>"$BOOT_LOG"
	fi
	api_call PUT /actions '{"action_type": "FlushMetrics"}' >/dev/null
	echo "# diag $1: metrics $(tail -n1 "$API_DIR/net-metrics.json" 2>/dev/null | grep -o '"net[^}]*}')" >>"$BOOT_LOG"
	echo "# diag $1: listener '$(cat "$API_DIR/$1.out" 2>/dev/null)'" >>"$BOOT_LOG"
	echo "# diag $1: guest $(neta_ask "ALIVE-$1" 20 "grep eth0 /proc/net/dev")" >>"$BOOT_LOG"
}

# neta_tx KEY SUBNET PORT MIB: the guest sends MIB MiB over TCP to a listener on the lab
# side; sets NETA_RATE to the listener's bytes/s (after the first 1/8 of the data).
neta_tx() {
	local out="$API_DIR/$1.out" total=$(($4 << 20)) got sink
	rm -f "$out" "$out.ready"
	python3 "$NETA_SINK" recv "$2.1" "$3" "$total" $((total / 8)) "$out" &
	sink=$!
	neta_wait_listener "$out"
	got="$(neta_ask "$1" 150 "dd if=/dev/zero bs=64k count=$(($4 * 16)) 2>/dev/null | timeout 120 nc $2.1 $3; echo done")"
	if [ "$got" != done ]; then
		neta_diagnose "$1"
		fail "$1: the guest's transfer did not end in 150 s (a diagnosis is in the log)"
	fi
	got="$(neta_wait_file "$out" 30)"
	wait "$sink" 2>/dev/null || true
	[ "${got%% *}" = "$total" ] || fail "$1: the listener got '$got', expected $total bytes"
	NETA_RATE="${got#* }"
}

# neta_rx KEY SUBNET PORT MIB SIZE: the lab side sends MIB MiB to the guest, which times
# its receipt; sets NETA_RATE to bytes/s as (bytes - SIZE) / seconds (SIZE: the bucket's
# full start).
neta_rx() {
	local out="$API_DIR/$1.out" total=$(($4 << 20)) size="$5" got sink
	rm -f "$out" "$out.ready"
	python3 "$NETA_SINK" send "$2.1" "$3" "$total" "$out" &
	sink=$!
	neta_wait_listener "$out"
	got="$(neta_ask "$1" 150 "t0=\$(cut -d' ' -f1 /proc/uptime); timeout 120 nc $2.1 $3 </dev/null | wc -c; cut -d' ' -f1 /proc/uptime; echo \$t0")"
	wait "$sink" 2>/dev/null || true
	set -- $got
	[ "${1:-}" = "$total" ] && [ -n "${3:-}" ] ||
		fail "rx: the guest received '$got' (bytes, end, start), expected $total bytes"
	NETA_RATE="$(awk -v n="$1" -v s="$size" -v t1="$2" -v t0="$3" \
		'BEGIN { printf "%.0f", (t1 > t0 ? (n - s) / (t1 - t0) : 0) }')"
}

# The snapshot round trip with a NIC (issue 11, "the network works"): a guest on tap
# kvmnr0 pings the lab side and sends it 8 MiB over TCP; pause, snapshot, kill -9, the tap
# deleted; a second process loads the snapshot with network_overrides onto a new tap
# kvmnr1 and resume_vm: the guest's NIC works again both ways (no new boot, the same
# interface and address), and the transfer is whole.
test_snapshot_restore_network() {
	local d="$API_DIR" net=10.0.5 got
	neta_tap kvmnr0 "$net"
	api_launch api-netsnap-a
	neta_configure kvmnr0
	api_wait_line "KVMBOX-INIT: start"
	sleep 2
	neta_guest_up "$net"
	neta_ping PING-1 "$net"
	neta_tx TX-1 "$net" 5101 8
	echo "note: before the snapshot: 8 MiB at $NETA_RATE bytes/s"
	snap_take "$d/netsnap.snap" "$d/netsnap.mem"
	ip link del kvmnr0
	neta_tap kvmnr1 "$net"
	api_launch api-netsnap-b
	snap_load_expect 204 "" "$d/netsnap.snap" "$d/netsnap.mem" \
		', "network_overrides": [{"iface_id": "eth0", "host_dev_name": "kvmnr1"}], "resume_vm": true'
	got="$(api_call GET /vm/config)"
	[[ "$got" == *'"host_dev_name":"kvmnr1"'* ]] || fail "GET /vm/config after the load: $got"
	neta_ping PING-2 "$net"
	guest_has_line "KVMBOX-INIT: start" && fail "the restored guest booted again"
	neta_tx TX-2 "$net" 5102 1
	echo "note: after the restore: 1 MiB at $NETA_RATE bytes/s"
	api_expect 204 PUT /actions '{"action_type": "SendCtrlAltDel"}'
	api_wait_exit
	ip link del kvmnr1
	[ "$API_RC" = 0 ] || fail "SendCtrlAltDel after a restore: kvmbox exited $API_RC"
}

# neta_within NAME RATE LIMIT DIR: RATE (bytes/s) is at most 10% over LIMIT (bytes/s),
# checked now; whether it is at least half of LIMIT is checked by neta_lower_bounds, once
# the lab's own speed in direction DIR (tx, rx) is known.
NETA_MEASURED=()
neta_within() {
	# note: lines are shown by tests/lab/run for a test that passes too.
	echo "note: $1: $(awk -v r="$2" 'BEGIN { printf "%.1f", r / 1024 }') KiB/s under" \
		"$(($3 / 1024)) KiB/s"
	awk -v r="$2" -v l="$3" 'BEGIN { exit !(r <= 1.1 * l) }' ||
		fail "$1: $2 bytes/s, more than 10% over the limit $3"
	NETA_MEASURED+=("$2 $3 $4 $1")
}

# neta_lower_bounds TX-FREE RX-FREE: each measured rate is at least half its limit,
# unless the lab itself carried less than 2 times that limit unlimited in that direction
# (then it is noted). Half, not 90%: the TCG lab's speed follows the host's load and
# moves within a test. Idle, the rates measure 0.97-1.0 of their limits; with other jobs
# on the host, 0.61 of a limit the lab carried 2.2 times a minute later. The bound is for
# a limiter that stalls the NIC or throttles grossly; its precision is the unit tests'
# (test_token_bucket.c, test_virtio_net_limit.c: a fake clock, exact figures).
neta_lower_bounds() {
	local m rate limit dir name cap
	for m in "${NETA_MEASURED[@]}"; do
		read -r rate limit dir name <<<"$m"
		cap="$1"
		[ "$dir" = rx ] && cap="$2"
		awk -v r="$rate" -v l="$limit" 'BEGIN { exit !(r >= 0.5 * l) }' && continue
		if awk -v c="$cap" -v l="$limit" 'BEGIN { exit !(c < 2 * l) }'; then
			echo "note: $name: $rate bytes/s, under half its limit, with the lab carrying" \
				"only $cap bytes/s unlimited: not checked from below"
			continue
		fi
		fail "$name: $rate bytes/s, under half the limit $limit (the lab carries $cap)"
	done
}

# Network rate limiters measured (issue 11): tx (guest to lab) at 256 KiB/s with a bucket
# of 1/4 s (set at boot), 1 MiB over TCP; PATCHed to 512 KiB/s (bucket 1/8 s), 2 MiB; a
# bucket of 8 ms at 500 KiB/s (smaller than a TSO frame), 2 MiB; then rx (lab to guest)
# at 512 KiB/s, 2 MiB timed by the guest; last the limits removed, the lab's own speed
# measured both ways (4 MiB each). Each rate is at most 10% over its limit, and at least
# half of it when the lab carried 2 times the limit unlimited (neta_lower_bounds). The
# limits are half what the idle TCG lab carries (1.0 to 1.7 MB/s on 2026-12-06). A
# limiter delays frames, never drops them: TCP would back off and the rate would fall
# far below the limit. A tiny bucket banks nothing while the sender pauses (Firecracker's
# semantics too): 2 KiB per 8 ms measured 0.8 of its 250 KB/s, as TCP's sends at that
# pace left gaps, so the small bucket is tried at 500 KB/s, where it measured 0.97-0.99.
test_net_rate_limiter() {
	local log="$LAB_LOGS/api-net-limit.log" rc=0
	(net_rate_limiter_once) || rc=$?
	[ "$rc" = 0 ] && return 0
	# The L2 guest's triple fault at full speed, only ever as the first test of a fresh
	# L1 (3 of 5 fresh L1s on 2026-12-06, never in 25 runs later in the same L1): kvmbox
	# ends the VM as a reset does and says so at --level Info. Once, it is the lab's; the
	# test runs again and says it did. Any other failure, or a second one, fails.
	grep -q "triple fault, resetting" "$log" 2>/dev/null || exit "$rc"
	cp "$log" "$LAB_LOGS/api-net-limit-try1.log"
	echo "note: the guest triple-faulted ($(grep -o 'vCPU [0-9]*: triple fault' "$log" | head -1)," \
		"log in api-net-limit-try1.log); running the test again"
	net_rate_limiter_once
}

net_rate_limiter_once() {
	local net=10.0.6 txcap rxcap
	neta_tap kvmrl0 "$net"
	mkdir -p "$API_DIR"
	: >"$API_DIR/net-metrics.json"
	NETA_MEASURED=()
	# Info: a VM the guest ends (a triple fault, a reset) says so in the log.
	api_launch api-net-limit --level Info --metrics-path "$API_DIR/net-metrics.json"
	neta_configure kvmrl0 ', "tx_rate_limiter": {"bandwidth": {"size": 65536, "refill_time": 250}}'
	api_wait_line "KVMBOX-INIT: start"
	sleep 2
	neta_guest_up "$net"
	neta_ping PING "$net"
	neta_tx TX-256K "$net" 5201 1
	neta_within "tx 256 KiB/s" "$NETA_RATE" 262144 tx
	api_expect 204 PATCH /network-interfaces/eth0 '{"iface_id": "eth0",
		"tx_rate_limiter": {"bandwidth": {"size": 65536, "refill_time": 125}}}'
	neta_tx TX-512K "$net" 5202 2
	neta_within "tx 512 KiB/s after PATCH" "$NETA_RATE" 524288 tx
	# A bucket of 8 ms, smaller than the guest's TSO frames: every frame waits for a full
	# bucket, so a worker that wakes late would lose the difference each time.
	api_expect 204 PATCH /network-interfaces/eth0 '{"iface_id": "eth0",
		"tx_rate_limiter": {"bandwidth": {"size": 4096, "refill_time": 8}}}'
	neta_tx TX-SMALL "$net" 5205 2
	neta_within "tx 500 KiB/s, bucket of 8 ms" "$NETA_RATE" 512000 tx
	api_expect 204 PATCH /network-interfaces/eth0 '{"iface_id": "eth0",
		"tx_rate_limiter": {"bandwidth": {"size": 0, "refill_time": 0}},
		"rx_rate_limiter": {"bandwidth": {"size": 65536, "refill_time": 125}}}'
	neta_rx RX-512K "$net" 5203 2 65536
	neta_within "rx 512 KiB/s" "$NETA_RATE" 524288 rx
	api_expect 204 PATCH /network-interfaces/eth0 '{"iface_id": "eth0",
		"rx_rate_limiter": {"bandwidth": {"size": 0, "refill_time": 0}}}'
	neta_tx TX-FREE "$net" 5204 4
	txcap="$NETA_RATE"
	neta_rx RX-FREE "$net" 5206 4 0
	rxcap="$NETA_RATE"
	echo "note: unlimited: tx $txcap, rx $rxcap bytes/s"
	neta_lower_bounds "$txcap" "$rxcap"
	api_expect 204 PUT /actions '{"action_type": "SendCtrlAltDel"}'
	api_wait_exit
	ip link del kvmrl0
}
