# SPDX-License-Identifier: GPL-2.0-only
# The Firecracker-compatible control API (kvmbox --api-sock): a stock kernel configured
# and booted over the socket the way the Go SDK does it (machine-config, boot-source,
# the root drive, a tap interface, InstanceStart), and the ways the process ends: guest
# power-off and reboot (0), SIGTERM (143), SendCtrlAltDel (0); PATCH /vm pause and resume;
# PATCH /drives swapping a placeholder for an image, and its rate limiter (a disk read
# under bandwidth and ops limits that PATCHes raise); the main and API threads under
# their seccomp lists by default (every call above then runs filtered), under none with
# --no-seccomp; PUT /snapshot/create on a paused VM, and /snapshot/load refusing damaged
# files. Eight boots; the client is tests/api/fc_client.py.

API_DIR="$LAB_RUN_TMP/api"
API_CLIENT=tests/api/fc_client.py

# api_call METHOD PATH [JSON]: "STATUS BODY" of one request on $API_SOCK.
api_call() {
	python3 "$API_CLIENT" "$API_SOCK" "$@"
}

# api_expect STATUS METHOD PATH [JSON]: the call answers STATUS.
api_expect() {
	local want="$1" got
	shift
	got="$(api_call "$@")" || fail "$1 $2: the client failed"
	[ "${got%% *}" = "$want" ] || fail "$1 $2: got '$got', expected $want"
}

# api_launch NAME [ARGS...]: starts kvmbox --api-sock (and ARGS) in the background with
# a guest console that stays open (for action=shell), output in $LAB_LOGS/NAME.log. Sets
# API_PID, API_SOCK, BOOT_LOG.
api_launch() {
	mkdir -p "$API_DIR" "$LAB_LOGS"
	API_SOCK="$API_DIR/$1.sock"
	BOOT_LOG="$LAB_LOGS/$1.log"
	echo "$BOOT_LOG" >"$LAB_TEST_LOGREF"
	rm -f "$API_SOCK" "$API_DIR/$1.in"
	# A FIFO this shell holds open: the guest's console input never ends.
	mkfifo "$API_DIR/$1.in"
	exec 3<>"$API_DIR/$1.in"
	"$KVMBOX" --api-sock "$API_SOCK" --id "$@" <&3 >"$BOOT_LOG" 2>&1 &
	API_PID=$!
	python3 "$API_CLIENT" "$API_SOCK" --wait 30 || fail "no API on $API_SOCK within 30 s"
}

# api_configure ACTION [NIC [EXTRA-ARGS]]: the Go SDK's order of calls, the root drive
# last; with NIC, a network interface on that tap; EXTRA-ARGS for the kernel.
api_configure() {
	local cmdline
	cmdline="$(guest_cmdline info "$1") ${3:-}"
	[ -f "$API_DIR/root.img" ] || truncate -s 16M "$API_DIR/root.img"
	api_expect 200 GET /machine-config
	api_expect 204 PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 512, "smt": false}'
	api_expect 204 PUT /boot-source '{"kernel_image_path": "'"$LAB_KERNEL"'", "initrd_path": "'"$LAB_INITRD"'",
		"boot_args": "'"$cmdline"' pci=off"}'
	if [ -n "${2:-}" ]; then
		api_expect 204 PUT /network-interfaces/1 '{"iface_id": "1", "host_dev_name": "'"$2"'",
			"guest_mac": "02:fc:00:00:00:01"}'
	fi
	api_expect 204 PUT /drives/rootfs '{"drive_id": "rootfs", "path_on_host": "'"$API_DIR/root.img"'",
		"is_root_device": true, "is_read_only": false}'
	api_expect 204 PUT /actions '{"action_type": "InstanceStart"}'
}

# api_wait_exit: the process's exit status into API_RC (124 after the boot timeout).
api_wait_exit() {
	local i
	for ((i = 0; i < LAB_BOOT_TIMEOUT; i++)); do
		kill -0 "$API_PID" 2>/dev/null || break
		sleep 1
	done
	if kill -0 "$API_PID" 2>/dev/null; then
		kill -KILL "$API_PID"
		fail "kvmbox still running after ${LAB_BOOT_TIMEOUT}s"
	fi
	API_RC=0
	wait "$API_PID" || API_RC=$?
	[ ! -e "$API_SOCK" ] || fail "$API_SOCK left behind after exit"
}

# api_wait_line TEXT: the guest printed TEXT (a whole line) within the boot timeout.
api_wait_line() {
	local i
	for ((i = 0; i < LAB_BOOT_TIMEOUT; i++)); do
		guest_has_line "$1" && return 0
		kill -0 "$API_PID" 2>/dev/null || fail "kvmbox ended before the guest printed '$1'"
		sleep 1
	done
	fail "the guest did not print '$1' within ${LAB_BOOT_TIMEOUT}s"
}

# api_seccomp TASK-NAME: the Seccomp: field (0 none, 2 filtered) of kvmbox's thread of
# that name (the API's is "api"), or "none" without one.
api_seccomp() {
	local t
	for t in /proc/"$API_PID"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = "$1" ] || continue
		awk '/^Seccomp:/ { print $2 }' "$t/status"
		return
	done
	echo none
}

# api_expect_seccomp WANT: the main and API threads' Seccomp: fields are WANT.
api_expect_seccomp() {
	local main api
	main="$(awk '/^Seccomp:/ { print $2 }' /proc/"$API_PID"/status)"
	api="$(api_seccomp api)"
	[ "$main" = "$1" ] && [ "$api" = "$1" ] ||
		fail "Seccomp: of the main thread '$main', of the API thread '$api'; expected $1"
}

test_sdk_boot_over_socket() {
	local tap=kvmapi0 got
	ip tuntap add dev "$tap" mode tap 2>/dev/null && ip link set "$tap" up || tap=""
	api_launch api-sdk
	api_configure poweroff "$tap"
	got="$(api_call GET /)"
	[[ "$got" =~ \"state\":\"Running\" ]] || fail "GET / after InstanceStart: $got"
	api_expect 400 PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 128}'
	api_expect 400 PUT /actions '{"action_type": "InstanceStart"}'
	api_wait_exit
	[ -z "$tap" ] || ip link del "$tap"
	guest_expect_end poweroff
	[ "$API_RC" = 0 ] || fail "guest powered off, kvmbox exited $API_RC (expected 0)"
	[ "$(guest_value NPROC)" = 2 ] || fail "vcpu_count 2: guest nproc is '$(guest_value NPROC)'"
	local kb
	kb="$(guest_value MEMTOTAL-KB)"
	[[ "$kb" =~ ^[0-9]+$ ]] && [ $((kb / 1024)) -ge 400 ] ||
		fail "mem_size_mib 512: guest MemTotal is '$kb' kB"
	[ -n "$tap" ] || skip "booted, but no tap device could be made for the network interface"
}

test_guest_reboot_ends_process() {
	api_launch api-reboot
	api_configure reboot
	api_wait_exit
	guest_expect_end reboot
	[ "$API_RC" = 0 ] || fail "guest rebooted, kvmbox exited $API_RC (expected 0)"
}

# Also --no-seccomp: no thread of kvmbox is filtered.
test_sigterm_ends_process() {
	api_launch api-sigterm --no-seccomp
	api_configure shell
	api_wait_line "KVMBOX-INIT: start"
	api_expect_seccomp 0
	kill -TERM "$API_PID"
	api_wait_exit
	[ "$API_RC" = 143 ] || fail "SIGTERM: kvmbox exited $API_RC (expected 143)"
}

test_send_ctrl_alt_del_ends_process() {
	api_launch api-cad
	api_configure shell
	api_wait_line "KVMBOX-INIT: start"
	api_expect 400 PUT /actions '{"action_type": "FlushMetrics"}'
	api_expect 204 PUT /actions '{"action_type": "SendCtrlAltDel"}'
	api_wait_exit
	[ "$API_RC" = 0 ] || fail "SendCtrlAltDel: kvmbox exited $API_RC (expected 0)"
}

# api_ticks: how many KVMBOX-TICK lines the guest printed so far.
api_ticks() {
	tr -d '\r' <"$BOOT_LOG" | grep -cx "KVMBOX-TICK" || true
}

# api_io_count: how many fsync'd writes the guest's disk loop has finished (it prints
# the count on request).
api_io_count() {
	local n i
	echo "echo KVMBOX-IOCOUNT-$1: \$(cat /tmp/ion)" >&3
	for ((i = 0; i < 30; i++)); do
		n="$(guest_value "IOCOUNT-$1")"
		[ -n "$n" ] && break
		sleep 1
	done
	echo "$n"
}

# PATCH /vm Paused parks every vCPU and stops the disk's worker once what it took is
# done: a guest loop that prints a line a second falls silent while another writes and
# fsyncs the disk, GET / says Paused, and after Resumed both go on (the disk's worker
# restarts and picks up the requests queued around the pause).
test_pause_resume() {
	local before after got i io1 io2
	api_launch api-pause
	api_configure shell "" "kvmbox.modules=virtio_pci,virtio_blk"
	api_wait_line "KVMBOX-INIT: start"
	sleep 2
	echo 'n=0; (while true; do dd if=/dev/urandom of=/dev/vda bs=64k count=16 conv=fsync 2>/dev/null; n=$((n+1)); echo $n >/tmp/ion; done) &' >&3
	# Both loops in the background: the shell then runs the count requests below.
	echo 'while true; do echo KVMBOX-TICK; sleep 1; done &' >&3
	for ((i = 0; i < 60 && $(api_ticks) < 3; i++)); do sleep 1; done
	[ "$(api_ticks)" -ge 3 ] || fail "the guest's loop printed no ticks"
	# By default the API thread and the main thread run under their seccomp lists.
	[ "${KVMBOX_SECCOMP:-on}" = off ] || api_expect_seccomp 2
	api_expect 204 PATCH /vm '{"state": "Paused"}'
	got="$(api_call GET /)"
	[[ "$got" =~ \"state\":\"Paused\" ]] || fail "GET / while paused: $got"
	before="$(api_ticks)"
	sleep 5
	after="$(api_ticks)"
	# A line already on its way out of the UART may still land: at most one.
	[ "$after" -le $((before + 1)) ] || fail "paused guest printed $((after - before)) ticks in 5 s"
	api_expect 204 PATCH /vm '{"state": "Resumed"}'
	for ((i = 0; i < 60 && $(api_ticks) < after + 3; i++)); do sleep 1; done
	[ "$(api_ticks)" -ge $((after + 3)) ] || fail "the guest did not go on after Resumed"
	# Pauses that land in the middle of the disk's requests.
	for ((i = 0; i < 5; i++)); do
		api_expect 204 PATCH /vm '{"state": "Paused"}'
		api_expect 204 PATCH /vm '{"state": "Resumed"}'
	done
	io1="$(api_io_count 1)"
	sleep 3
	io2="$(api_io_count 2)"
	[ -n "$io1" ] && [ "$io1" -ge 1 ] || fail "the guest's disk loop wrote nothing: '$io1'"
	[ -n "$io2" ] && [ "$io2" -gt "$io1" ] || fail "the disk stopped after Resumed: $io1 then '$io2'"
	api_expect 204 PUT /actions '{"action_type": "SendCtrlAltDel"}'
	api_wait_exit
	[ "$API_RC" = 0 ] || fail "SendCtrlAltDel after a resume: kvmbox exited $API_RC"
}

# PUT /snapshot/create: refused while the VM runs; on the paused VM it writes a state
# file that an independent reader (tests/api/statefile_check.py) finds whole, with the
# configuration, the VM's and both vCPUs' sections and the devices', and a memory file
# of the guest's RAM size; a path that cannot be written is a 400 that leaves the VM as
# it was; after Resumed the guest goes on.
test_snapshot_create_on_paused_vm() {
	local got i before mem_kb
	api_launch api-snap-create
	api_configure shell "" "kvmbox.modules=virtio_pci,virtio_blk"
	api_wait_line "KVMBOX-INIT: start"
	sleep 2
	echo 'while true; do echo KVMBOX-TICK; sleep 1; done &' >&3
	for ((i = 0; i < 60 && $(api_ticks) < 2; i++)); do sleep 1; done
	rm -f "$API_DIR/vm.snap" "$API_DIR/vm.mem"
	api_expect 400 PUT /snapshot/create '{"snapshot_type": "Full",
		"snapshot_path": "'"$API_DIR/vm.snap"'", "mem_file_path": "'"$API_DIR/vm.mem"'"}'
	[ ! -e "$API_DIR/vm.snap" ] || fail "a snapshot of a running VM was written"
	api_expect 204 PATCH /vm '{"state": "Paused"}'
	api_expect 400 PUT /snapshot/create '{"snapshot_path": "/nonexistent/vm.snap",
		"mem_file_path": "/nonexistent/vm.mem"}'
	api_expect 204 PUT /snapshot/create '{"snapshot_type": "Full",
		"snapshot_path": "'"$API_DIR/vm.snap"'", "mem_file_path": "'"$API_DIR/vm.mem"'"}'
	got="$(python3 tests/api/statefile_check.py "$API_DIR/vm.snap")" ||
		fail "the state file: $got"
	[[ "$got" == "ok 1 mem=536870912 3 4 16 17 "* ]] || fail "the state file's sections: $got"
	[[ "$got" == *"$API_DIR/root.img"* ]] || fail "the state file's configuration: $got"
	[ "$(stat -c %s "$API_DIR/vm.mem")" = 536870912 ] ||
		fail "the memory file: $(stat -c %s "$API_DIR/vm.mem") bytes, not 512 MiB"
	mem_kb="$(du -k "$API_DIR/vm.mem" | cut -f1)"
	echo "snapshot: memory file 512 MiB, $mem_kb KiB on disk" >&2
	ls "$API_DIR" | grep -q '\.tmp\.' && fail "a temporary file was left: $(ls "$API_DIR")"
	before="$(api_ticks)"
	api_expect 204 PATCH /vm '{"state": "Resumed"}'
	for ((i = 0; i < 60 && $(api_ticks) < before + 3; i++)); do sleep 1; done
	[ "$(api_ticks)" -ge $((before + 3)) ] || fail "the guest did not go on after the snapshot"
	api_expect 204 PUT /actions '{"action_type": "SendCtrlAltDel"}'
	api_wait_exit
	[ "$API_RC" = 0 ] || fail "SendCtrlAltDel after a snapshot: kvmbox exited $API_RC"
	api_load_refusals
}

# api_load_expect FAULT STATE-FILE MEM-FILE: PUT /snapshot/load answers 400 with FAULT.
api_load_expect() {
	local got
	got="$(api_call PUT /snapshot/load '{"snapshot_path": "'"$2"'",
		"mem_backend": {"backend_type": "File", "backend_path": "'"$3"'"}, "resume_vm": true}')"
	[[ "$got" == 400* && "$got" == *"$1"* ]] || fail "load of $2, $3: '$got', expected '$1'"
}

# PUT /snapshot/load on a fresh process checks the files the create above wrote: one
# byte flipped, truncated, a short memory file are refused with the reason; the whole
# snapshot passes the checks (and then gets the 400 of a restore not done yet).
api_load_refusals() {
	local d="$API_DIR"
	cp "$d/vm.snap" "$d/flip.snap"
	printf '\xff' | dd of="$d/flip.snap" bs=1 seek=100 conv=notrunc status=none
	head -c -1 "$d/vm.snap" >"$d/cut.snap"
	truncate -s 256M "$d/short.mem"
	api_launch api-snap-load
	api_load_expect "CRC mismatch" "$d/flip.snap" "$d/vm.mem"
	api_load_expect "truncated" "$d/cut.snap" "$d/vm.mem"
	api_load_expect "bytes, the snapshot's RAM is 536870912" "$d/vm.snap" "$d/short.mem"
	api_load_expect "not supported by kvmbox yet" "$d/vm.snap" "$d/vm.mem"
	api_expect 204 PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 128}'
	kill -TERM "$API_PID"
	api_wait_exit
}

# Kata's shape: a zero-length placeholder drive at boot, then PATCH /drives points it at
# a real image, and the guest sees the new size and reads the image's bytes.
test_patch_drive_swaps_file() {
	local got i
	mkdir -p "$API_DIR"
	: >"$API_DIR/placeholder.img"
	truncate -s 1M "$API_DIR/real.img"
	printf 'KVMBOXSWAPOK' | dd of="$API_DIR/real.img" conv=notrunc status=none
	api_launch api-patch-drive
	api_expect 204 PUT /drives/drive_1 '{"drive_id": "drive_1", "path_on_host": "'"$API_DIR/placeholder.img"'",
		"is_root_device": false, "rate_limiter": {}}'
	api_configure shell "" "kvmbox.modules=virtio_pci,virtio_blk"
	api_wait_line "KVMBOX-INIT: start"
	sleep 2
	api_expect 400 PATCH /drives/drive_1 '{"drive_id": "drive_1", "path_on_host": "/nonexistent"}'
	api_expect 400 PATCH /drives/nothere '{"drive_id": "nothere", "path_on_host": "'"$API_DIR/real.img"'"}'
	api_expect 204 PATCH /drives/drive_1 '{"drive_id": "drive_1", "path_on_host": "'"$API_DIR/real.img"'"}'
	got="$(api_call GET /vm/config)"
	[[ "$got" == *"$API_DIR/real.img"* ]] || fail "GET /vm/config after the PATCH: $got"
	# The root drive is vda, the placeholder vdb. Give the driver a moment for the
	# configuration change interrupt.
	sleep 2
	echo 'echo KVMBOX-SWAP: $(cat /sys/block/vdb/size) $(head -c 12 /dev/vdb)' >&3
	for ((i = 0; i < 60; i++)); do
		got="$(guest_value SWAP)"
		[ -n "$got" ] && break
		sleep 1
	done
	[ "$got" = "2048 KVMBOXSWAPOK" ] || fail "the guest's vdb after the swap: '$got'"
	api_expect 204 PUT /actions '{"action_type": "SendCtrlAltDel"}'
	api_wait_exit
}

# rl_read NAME DD-ARGS: the guest reads vdb with O_DIRECT (one request at a time, no
# page cache); prints the seconds it took, by the guest's clock.
rl_read() {
	local got i
	echo "t0=\$(cut -d' ' -f1 /proc/uptime); dd if=/dev/vdb of=/dev/null iflag=direct $2 2>/dev/null;" \
		"echo KVMBOX-RL-$1: \$t0 \$(cut -d' ' -f1 /proc/uptime)" >&3
	for ((i = 0; i < 120; i++)); do
		got="$(guest_value "RL-$1")"
		[ -n "$got" ] && break
		sleep 1
	done
	# Nothing printed when there is no line: the caller fails (this runs in $(...)).
	[ -n "$got" ] && echo "$got" | awk '{ printf "%.2f", $2 - $1 }'
}

# rl_rate NAME AMOUNT DD-ARGS: AMOUNT (MiB or requests) divided by rl_read's seconds.
rl_rate() {
	local t
	t="$(rl_read "$1" "$3")"
	[ -n "$t" ] || fail "no KVMBOX-RL-$1 line: the guest's read did not finish in 120 s"
	awk -v n="$2" -v t="$t" 'BEGIN { printf "%.2f", (t > 0 ? n / t : 0) }'
}

# rl_band NAME RATE LIMIT UNIT: RATE is within a loose band of LIMIT (0.3x to 1.5x),
# a functional check that the limiter bites, not a benchmark.
rl_band() {
	echo "  $1: $2 $4 under a limit of $3 $4" >&2
	awk -v r="$2" -v l="$3" 'BEGIN { exit !(r > 0.3 * l && r < 1.5 * l) }' ||
		fail "$1: $2 $4, outside 0.3x..1.5x of the limit $3 $4"
}

# Rate limiters (issue 11): a bandwidth limit of 0.5 MiB/s then 2 MiB/s after a PATCH,
# then the bandwidth bucket removed and an ops limit of 5/s, raised to 20/s. Each bucket
# is small (1/8 or 1/5 s of its rate) so that the start's full bucket hardly shows. The
# limits stay well below what the loaded TCG lab reached under limits of 8 MiB/s and 80/s
# (2.7 MiB/s and 38 requests/s, one request in flight, 2026-12-06): the lab's own speed,
# not the limiter, set those, so the raised rates here are the limiter's.
test_drive_rate_limiter() {
	local t r1 r2 o1 o2
	mkdir -p "$API_DIR"
	truncate -s 32M "$API_DIR/data.img"
	api_launch api-rate-limiter
	api_expect 204 PUT /drives/data '{"drive_id": "data", "path_on_host": "'"$API_DIR/data.img"'",
		"is_root_device": false, "rate_limiter": {"bandwidth": {"size": 65536, "refill_time": 125}}}'
	api_configure shell "" "kvmbox.modules=virtio_pci,virtio_blk"
	api_wait_line "KVMBOX-INIT: start"
	sleep 2
	r1="$(rl_rate BW1 2 "bs=64k count=32")" || exit 1
	rl_band "bandwidth 0.5 MiB/s" "$r1" 0.5 MiB/s
	api_expect 400 PATCH /drives/data '{"drive_id": "data", "rate_limiter": {"bandwidth": {"size": 1}}}'
	api_expect 204 PATCH /drives/data '{"drive_id": "data",
		"rate_limiter": {"bandwidth": {"size": 262144, "refill_time": 125}}}'
	r2="$(rl_rate BW2 8 "bs=64k count=128")" || exit 1
	rl_band "bandwidth 2 MiB/s after PATCH" "$r2" 2 MiB/s
	awk -v a="$r1" -v b="$r2" 'BEGIN { exit !(b > 1.5 * a) }' ||
		fail "the PATCH to 2 MiB/s did not raise the rate: $r1 then $r2 MiB/s"
	# Firecracker's PATCH: size 0 removes a bucket, one left out stays.
	api_expect 204 PATCH /drives/data '{"drive_id": "data", "rate_limiter": {
		"bandwidth": {"size": 0, "refill_time": 0}, "ops": {"size": 1, "refill_time": 200}}}'
	o1="$(rl_rate OPS1 20 "bs=4k count=20")" || exit 1
	rl_band "ops 5/s" "$o1" 5 ops/s
	api_expect 204 PATCH /drives/data '{"drive_id": "data", "rate_limiter": {
		"ops": {"size": 4, "refill_time": 200}}}'
	o2="$(rl_rate OPS2 80 "bs=4k count=80")" || exit 1
	rl_band "ops 20/s after PATCH" "$o2" 20 ops/s
	awk -v a="$o1" -v b="$o2" 'BEGIN { exit !(b > 1.5 * a) }' ||
		fail "the PATCH to 20 ops/s did not raise the rate: $o1 then $o2 ops/s"
	t="$(api_call GET /vm/config)"
	[[ "$t" == *'"rate_limiter":{"bandwidth":null,"ops":{"size":4,"one_time_burst":0,"refill_time":200}}'* ]] ||
		fail "GET /vm/config after the PATCHes: $t"
	echo "KVMBOX rate limiter figures: bw $r1 -> $r2 MiB/s, ops $o1 -> $o2 /s" >>"$BOOT_LOG"
	api_expect 204 PUT /actions '{"action_type": "SendCtrlAltDel"}'
	api_wait_exit
}
