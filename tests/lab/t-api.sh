# SPDX-License-Identifier: GPL-2.0-only
# The Firecracker-compatible control API (kvmbox --api-sock): a stock kernel configured
# and booted over the socket the way the Go SDK does it (machine-config, boot-source,
# the root drive, a tap interface, InstanceStart; t-api-sdk.sh replays all it sends),
# and the ways the process ends: guest power-off and reboot (0), SIGTERM (143),
# SendCtrlAltDel (0); PATCH /vm pause and resume; PATCH /drives swapping a placeholder
# for an image, and its rate limiter (a disk read under bandwidth and ops limits that
# PATCHes raise); the main and API threads under their seccomp lists by default (every
# call above then runs filtered), under none with --no-seccomp; PUT /snapshot/create on
# a paused VM; PUT /snapshot/load restoring it in a second process (and a third,
# paused), refusing damaged files; FlushMetrics lines counting the guest's disk I/O and
# exits; virtio-balloon inflated and deflated over PATCH /balloon; a Diff snapshot
# rebased onto a Full one and loaded; a snapshot loaded with the Uffd memory backend
# through a page-fault handler. Thirteen boots; the client is tests/api/fc_client.py.

. tests/lab/api-lib.sh

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
	# smt false: two cores of a thread each (t-api-sdk.sh checks smt true).
	[ "$(guest_value SIBLINGS)" = 0 ] || fail "smt false: cpu0's thread siblings are '$(guest_value SIBLINGS)'"
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

# snap_configure [MACHINE-JSON]: 2 vCPUs, 256 MiB (and MACHINE-JSON's fields), a root
# disk of the test's own (an ext2 file system the guest's counter appends to) and
# virtio-rng, booted to a shell.
snap_configure() {
	local cmdline
	cmdline="$(guest_cmdline info shell) kvmbox.modules=virtio_pci,virtio_blk,crc32c_generic,ext4,virtio_rng"
	rm -f "$API_DIR/snap-root.img"
	truncate -s 32M "$API_DIR/snap-root.img"
	api_expect 204 PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256'"${1:-}"'}'
	api_expect 204 PUT /boot-source '{"kernel_image_path": "'"$LAB_KERNEL"'", "initrd_path": "'"$LAB_INITRD"'",
		"boot_args": "'"$cmdline"'"}'
	api_expect 204 PUT /entropy '{}'
	api_expect 204 PUT /drives/rootfs '{"drive_id": "rootfs", "path_on_host": "'"$API_DIR/snap-root.img"'",
		"is_root_device": true, "is_read_only": false}'
	api_expect 204 PUT /actions '{"action_type": "InstanceStart"}'
}

# snap_count: the counter's last value, from its "KVMBOX-COUNT: N UPTIME" lines.
snap_count() {
	local v
	v="$(guest_value COUNT)"
	echo "${v%% *}"
}

# snap_wait_count MIN: until the counter printed MIN or more (fails after 60 s).
snap_wait_count() {
	local i
	for ((i = 0; i < 60; i++)); do
		[ "$(snap_count)" -ge "$1" ] 2>/dev/null && return 0
		kill -0 "$API_PID" 2>/dev/null || fail "kvmbox ended while the counter ran"
		sleep 1
	done
	fail "the guest's counter did not reach $1 (at '$(snap_count)')"
}

# snap_file_check KEY: the counter's file read back from the disk (caches dropped): as
# many lines as its last value (each number appended once, none lost), at least MIN.
snap_file_check() {
	local got
	# One pass over the file (awk): the counter appends meanwhile, and a count and a last
	# line read apart could straddle an append ('10 11').
	got="$(snap_ask "$1" "sync; echo 3 >/proc/sys/vm/drop_caches; awk 'END { print NR, \$0 }' /mnt/count")"
	set -- $got "$2"
	[ -n "${2:-}" ] && [ "$1" = "$2" ] && [ "$2" -ge "$3" ] ||
		fail "the counter's file on the disk: '$got' (lines, last), expected >= $3 and equal"
	echo "$2"
}

# The snapshot round trip: a guest counter prints to the console and appends to a file
# on its disk with fsync; pause, create, kill -9; a second process refuses a state file
# with a byte flipped, a truncated one, a short memory file, an unknown override (400,
# still usable), then loads it with resume_vm: the counter goes on from where it was (no
# new boot, the guest's uptime continues), the file read back from the disk has every
# value, keeps growing, and virtio-rng still answers. A snapshot of that VM, loaded
# paused in a third process, waits for PATCH Resumed. A load whose drive is gone fails
# after it began: 400, and the process exits 1.
test_snapshot_restore_continues_guest() {
	local d="$API_DIR" c1 u1 first uptime got n1 n2 boot_line i
	api_launch api-restore-a --boot-timer
	snap_configure
	snap_start_counter
	boot_line="$(grep -h 'first KVM_RUN' "$BOOT_LOG" | tail -n1)"
	snap_take "$d/restore.snap" "$d/restore.mem"
	c1="$(snap_count)"
	u1="$(guest_value COUNT)"
	u1="${u1#* }"

	cp "$d/restore.snap" "$d/restore-flip.snap"
	printf '\xff' | dd of="$d/restore-flip.snap" bs=1 seek=200 conv=notrunc status=none
	head -c -7 "$d/restore.snap" >"$d/restore-cut.snap"
	truncate -s 128M "$d/restore-short.mem"
	api_launch api-restore-b --boot-timer
	snap_load_expect 400 "CRC mismatch" "$d/restore-flip.snap" "$d/restore.mem"
	snap_load_expect 400 "truncated" "$d/restore-cut.snap" "$d/restore.mem"
	snap_load_expect 400 "the snapshot's RAM is 268435456" "$d/restore.snap" "$d/restore-short.mem"
	snap_load_expect 400 "no interface eth9" "$d/restore.snap" "$d/restore.mem" \
		', "network_overrides": [{"iface_id": "eth9", "host_dev_name": "tap9"}]'
	got="$(api_call GET /)"
	[[ "$got" == 200*'"state":"Not started"'* ]] || fail "GET / after refused loads: $got"
	snap_load_expect 204 "" "$d/restore.snap" "$d/restore.mem" ', "resume_vm": true'
	snap_wait_count $((c1 + 2))
	guest_has_line "KVMBOX-INIT: start" && fail "the restored guest booted again"
	first="$(tr -d '\r' <"$BOOT_LOG" | sed -n 's/^KVMBOX-COUNT: //p' | head -n1)"
	uptime="${first#* }"
	first="${first%% *}"
	[ "$first" -gt "$c1" ] && [ "$first" -le $((c1 + 3)) ] ||
		fail "the counter went on from $first, it was at $c1 at the snapshot"
	awk -v a="$uptime" -v b="$u1" 'BEGIN { exit !(a >= b && a < b + 600) }' ||
		fail "the guest's uptime after restore $uptime, before $u1"
	echo "snapshot restore: counter $c1 -> $first, uptime $u1 -> $uptime" >&2
	echo "fresh boot: ${boot_line#*boot timer: }" >&2
	echo "restore: $(grep -h 'first KVM_RUN' "$BOOT_LOG" | tail -n1 | sed 's/.*boot timer: //')" >&2
	n1="$(snap_file_check FILE-1 "$c1")" || fail "$n1"
	snap_wait_count $((n1 + 2))
	got="$(snap_file_check FILE-2 $((n1 + 1)))" || fail "$got"
	got="$(snap_ask RNG 'dd if=/dev/hwrng bs=64 count=1 2>/dev/null | wc -c')"
	[ "$got" = 64 ] || fail "virtio-rng after restore gave '$got' bytes, wanted 64"

	n2="$(snap_count)"
	snap_take "$d/restore2.snap" "$d/restore2.mem"
	api_launch api-restore-c
	snap_load_expect 204 "" "$d/restore2.snap" "$d/restore2.mem" ', "resume_vm": false'
	got="$(api_call GET /)"
	[[ "$got" == *'"state":"Paused"'* ]] || fail "GET / after a load without resume_vm: $got"
	sleep 3
	[ -z "$(snap_count)" ] || fail "the guest ran before PATCH Resumed: $(snap_count)"
	api_expect 204 PATCH /vm '{"state": "Resumed"}'
	# A guest that stays silent is poked once with a key (a serial interrupt): the
	# failure then says whether that woke it, i.e. whether a timer was lost.
	for ((i = 0; i < 30; i++)); do [ -n "$(snap_count)" ] && break; sleep 1; done
	if [ -z "$(snap_count)" ]; then
		echo "" >&3
		sleep 15
		fail "nothing ran 30 s after PATCH Resumed; after a key the counter is at '$(snap_count)'"
	fi
	snap_wait_count $((n2 + 2))
	api_expect 204 PUT /actions '{"action_type": "SendCtrlAltDel"}'
	api_wait_exit
	[ "$API_RC" = 0 ] || fail "SendCtrlAltDel after a restore: kvmbox exited $API_RC"

	mv "$d/snap-root.img" "$d/snap-root.away"
	api_launch api-restore-d
	snap_load_expect 400 "cannot be opened" "$d/restore.snap" "$d/restore.mem"
	mv "$d/snap-root.away" "$d/snap-root.img"
	api_wait_exit
	[ "$API_RC" = 1 ] || fail "a load that failed half-way: kvmbox exited $API_RC, not 1"
}

# snap_start_counter: the guest makes and mounts its disk's file system and starts the
# counter (a line and an fsync'd append every second).
snap_start_counter() {
	local got
	api_wait_line "KVMBOX-INIT: start"
	sleep 2
	got="$(snap_ask MOUNT 'mke2fs -F /dev/vda >/dev/null 2>&1; mkdir -p /mnt; mount -t ext2 /dev/vda /mnt && echo ok')"
	[ "$got" = ok ] || fail "the guest could not make and mount its file system: '$got'"
	echo '(n=0; while true; do n=$((n+1)); echo $n >>/mnt/count; fsync /mnt/count 2>/dev/null || sync; echo "KVMBOX-COUNT: $n $(cut -d" " -f1 /proc/uptime)"; sleep 1; done) &' >&3
	snap_wait_count 3
}

# snap_pause_take TYPE STATE MEM: pause and take a TYPE (Full, Diff) snapshot, the
# process left paused.
snap_pause_take() {
	api_expect 204 PATCH /vm '{"state": "Paused"}'
	rm -f "$2" "$3"
	api_expect 204 PUT /snapshot/create '{"snapshot_type": "'"$1"'", "snapshot_path": "'"$2"'", "mem_file_path": "'"$3"'"}'
}

# Diff snapshots (track_dirty_pages): Full snapshot A while paused, the counter goes on,
# Diff snapshot B a few seconds later holds far fewer pages than A (st_blocks), B's
# memory rebased onto A's (kvmbox snapshot-rebase) loads in a new process and the
# counter goes on from its value at B, not at A; the disk's file agrees with it.
test_snapshot_diff_rebased_continues_guest() {
	local d="$API_DIR" ca cb first a_kb b_kb got
	api_launch api-diff-a
	snap_configure ', "track_dirty_pages": true'
	snap_start_counter
	api_expect 400 PUT /snapshot/create '{"snapshot_type": "Diff", "snapshot_path": "'"$d/diff-x.snap"'", "mem_file_path": "'"$d/diff-x.mem"'"}'
	snap_pause_take Full "$d/diff-a.snap" "$d/diff-a.mem"
	ca="$(snap_count)"
	api_expect 204 PATCH /vm '{"state": "Resumed"}'
	snap_wait_count $((ca + 4))
	snap_pause_take Diff "$d/diff-b.snap" "$d/diff-b.mem"
	cb="$(snap_count)"
	kill -KILL "$API_PID"
	wait "$API_PID" 2>/dev/null || true
	rm -f "$API_SOCK"
	[ "$(stat -c %s "$d/diff-b.mem")" = 268435456 ] ||
		fail "the Diff memory file: $(stat -c %s "$d/diff-b.mem") bytes, not 256 MiB"
	a_kb="$(du -k "$d/diff-a.mem" | cut -f1)"
	b_kb="$(du -k "$d/diff-b.mem" | cut -f1)"
	echo "note: diff snapshot: Full $a_kb KiB on disk, Diff $b_kb KiB (counter $ca -> $cb)" >&2
	[ "$b_kb" -gt 0 ] && [ $((b_kb * 4)) -lt "$a_kb" ] ||
		fail "the Diff memory file holds $b_kb KiB, the Full one $a_kb KiB: not much smaller"
	"$KVMBOX" snapshot-rebase "$d/diff-a.mem" "$d/diff-x.mem" 2>/dev/null &&
		fail "snapshot-rebase of a missing file succeeded"
	"$KVMBOX" snapshot-rebase "$d/diff-a.mem" "$d/diff-b.mem" ||
		fail "snapshot-rebase of B onto A failed"
	api_launch api-diff-b
	snap_load_expect 204 "" "$d/diff-b.snap" "$d/diff-a.mem" ', "resume_vm": true'
	snap_wait_count $((cb + 2))
	first="$(tr -d '\r' <"$BOOT_LOG" | sed -n 's/^KVMBOX-COUNT: //p' | head -n1)"
	first="${first%% *}"
	[ "$first" -gt "$cb" ] && [ "$first" -le $((cb + 3)) ] ||
		fail "the rebased restore's counter went on from $first; at A it was $ca, at B $cb"
	echo "note: diff restore: counter $cb -> $first" >&2
	got="$(snap_file_check FILE "$cb")" || fail "$got"
	api_expect 204 PUT /actions '{"action_type": "SendCtrlAltDel"}'
	api_wait_exit
	[ "$API_RC" = 0 ] || fail "SendCtrlAltDel after a diff restore: kvmbox exited $API_RC"
}

# The Uffd memory backend: a snapshot of a running guest loaded in a second process whose
# RAM a page-fault handler (tests/lab/uffd-handler.c, built beside kvmbox) fills from
# the memory file on first touch. A backend_path no handler listens on is a 400 naming
# it, the process still unconfigured; through the handler the counter goes on from its
# value at the snapshot, the disk's file agrees, and the handler served pages. A
# snapshot of that VM reads the pages it never touched too (the handler fills all of
# the RAM) and loads (File) in a third process.
test_snapshot_uffd_backend_continues_guest() {
	local d="$API_DIR" c1 c2 first got hpid i
	local handler="${UFFD_HANDLER:-$(dirname "$KVMBOX")/uffd-handler}"
	[ -x "$handler" ] || fail "no page-fault handler at $handler (make builds it)"
	api_launch api-uffd-a
	snap_configure
	snap_start_counter
	snap_take "$d/uffd.snap" "$d/uffd.mem"
	c1="$(snap_count)"
	api_launch api-uffd-b
	rm -f "$d/uffd.sock" "$d/none.sock"
	got="$(api_call PUT /snapshot/load '{"snapshot_path": "'"$d/uffd.snap"'",
		"mem_backend": {"backend_type": "Uffd", "backend_path": "'"$d/none.sock"'"}}')"
	[[ "$got" == 400*"$d/none.sock"* ]] || fail "a Uffd load without a handler: '$got'"
	got="$(api_call GET /)"
	[[ "$got" == 200*'"state":"Not started"'* ]] || fail "GET / after a refused Uffd load: $got"
	"$handler" "$d/uffd.sock" "$d/uffd.mem" 2>"$LAB_LOGS/uffd-handler.log" &
	hpid=$!
	for ((i = 0; i < 50; i++)); do [ -S "$d/uffd.sock" ] && break; sleep 0.2; done
	got="$(api_call PUT /snapshot/load '{"snapshot_path": "'"$d/uffd.snap"'", "resume_vm": true,
		"mem_backend": {"backend_type": "Uffd", "backend_path": "'"$d/uffd.sock"'"}}')"
	[[ "$got" == 204* ]] || fail "the Uffd load: '$got'; handler: $(cat "$LAB_LOGS/uffd-handler.log")"
	snap_wait_count $((c1 + 2))
	first="$(tr -d '\r' <"$BOOT_LOG" | sed -n 's/^KVMBOX-COUNT: //p' | head -n1)"
	first="${first%% *}"
	[ "$first" -gt "$c1" ] && [ "$first" -le $((c1 + 3)) ] ||
		fail "the counter went on from $first, it was at $c1 at the snapshot"
	snap_file_check FILE "$c1" >/dev/null
	snap_take "$d/uffd2.snap" "$d/uffd2.mem"
	c2="$(snap_count)"
	# The handler ends once kvmbox is gone (it polls for that twice a second).
	for ((i = 0; i < 20; i++)); do kill -0 "$hpid" 2>/dev/null || break; sleep 0.5; done
	kill "$hpid" 2>/dev/null && fail "the handler still ran 10 s after kvmbox ended"
	wait "$hpid" || fail "the handler failed: $(cat "$LAB_LOGS/uffd-handler.log")"
	got="$(sed -n 's/^uffd-handler: served \([0-9]*\) pages for .*/\1/p' "$LAB_LOGS/uffd-handler.log")"
	[ "${got:-0}" -gt 0 ] || fail "the handler served no pages: $(cat "$LAB_LOGS/uffd-handler.log")"
	echo "note: uffd restore: counter $c1 -> $first; $(tail -n1 "$LAB_LOGS/uffd-handler.log")" >&2
	# The snapshot read every page of the 256 MiB, so the handler filled them all
	# (file sizes say little here: L1's tmpfs may allocate huge pages).
	[ "$got" -ge 65536 ] || fail "the handler served $got pages: the snapshot skipped some"
	api_launch api-uffd-c
	snap_load_expect 204 "" "$d/uffd2.snap" "$d/uffd2.mem" ', "resume_vm": true'
	snap_wait_count $((c2 + 2))
	snap_file_check FILE-2 "$c2" >/dev/null
	api_expect 204 PUT /actions '{"action_type": "SendCtrlAltDel"}'
	api_wait_exit
	[ "$API_RC" = 0 ] || fail "SendCtrlAltDel after restoring the Uffd VM: kvmbox exited $API_RC"
}

# metrics_value FILE OBJECT KEY: KEY of OBJECT in the last line of FILE ('' if absent).
metrics_value() {
	python3 -c 'import json, sys
line = open(sys.argv[1]).read().splitlines()[-1]
print(json.loads(line).get(sys.argv[2], {}).get(sys.argv[3], ""))' "$@"
}

# --metrics-path and FlushMetrics: after the guest wrote and read its root drive, the
# line has that drive's own object (block_rootfs) with the bytes, the "block" group,
# and the vCPUs' exits; the next line counts only what happened since.
test_metrics_count_guest_io() {
	local m="$API_DIR/metrics.json" w r i got
	mkdir -p "$API_DIR"
	: >"$m"
	api_launch api-metrics --metrics-path "$m"
	api_configure shell "" "kvmbox.modules=virtio_pci,virtio_blk"
	api_wait_line "KVMBOX-INIT: start"
	api_expect 204 PUT /actions '{"action_type": "FlushMetrics"}'
	echo 'dd if=/dev/urandom of=/dev/vda bs=64k count=16 oflag=direct 2>/dev/null; dd if=/dev/vda of=/dev/null bs=64k count=8 iflag=direct 2>/dev/null; echo KVMBOX-MDONE: ok' >&3
	for ((i = 0; i < 60; i++)); do
		[ -n "$(guest_value MDONE)" ] && break
		sleep 1
	done
	[ "$(guest_value MDONE)" = ok ] || fail "the guest's dd did not finish"
	api_expect 204 PUT /actions '{"action_type": "FlushMetrics"}'
	[ "$(wc -l <"$m")" -ge 2 ] || fail "two FlushMetrics, $(wc -l <"$m") lines in $m"
	w="$(metrics_value "$m" block_rootfs write_bytes)"
	r="$(metrics_value "$m" block_rootfs read_bytes)"
	[ -n "$w" ] && [ "$w" -ge $((1024 * 1024)) ] || fail "block_rootfs write_bytes '$w' after 1 MiB written: $(tail -1 "$m")"
	[ -n "$r" ] && [ "$r" -ge $((512 * 1024)) ] || fail "block_rootfs read_bytes '$r' after 512 KiB read"
	got="$(metrics_value "$m" block write_count)"
	[ -n "$got" ] && [ "$got" -ge 16 ] || fail "block write_count '$got' after 16 writes"
	# Kicks are ioeventfds that KVM handles; the console's output reaches kvmbox.
	got="$(metrics_value "$m" vcpu exit_io_out)"
	[ -n "$got" ] && [ "$got" -gt 0 ] || fail "vcpu exit_io_out '$got' after the guest printed a line"
	# Only what came since: nothing written by the guest in between.
	api_expect 204 PUT /actions '{"action_type": "FlushMetrics"}'
	got="$(metrics_value "$m" block_rootfs write_bytes)"
	[ "$got" = 0 ] || fail "a third line with nothing written: write_bytes '$got'"
	api_expect 204 PUT /actions '{"action_type": "SendCtrlAltDel"}'
	api_wait_exit
}

# api_rss_kb: kvmbox's resident memory (VmRSS, kB).
api_rss_kb() {
	awk '/^VmRSS:/ { print $2 }' /proc/"$API_PID"/status
}

# api_stat FIELD: FIELD's value in GET /balloon/statistics ("" when it is not there).
api_stat() {
	local got
	got="$(api_call GET /balloon/statistics)"
	[[ "$got" =~ \"$1\":([0-9]+) ]] && echo "${BASH_REMATCH[1]}"
}

# api_wait_stat FIELD VALUE [!]: FIELD is VALUE (with !: is there and is not) within 60 s.
api_wait_stat() {
	local i v
	for ((i = 0; i < 60; i++)); do
		v="$(api_stat "$1")"
		if [ -z "${3:-}" ]; then
			[ "$v" = "$2" ] && return 0
		else
			[ -n "$v" ] && [ "$v" != "$2" ] && return 0
		fi
		sleep 1
	done
	fail "GET /balloon/statistics: $1 is '$v' after 60 s, wanted ${3:-}$2"
}

# virtio-balloon over the API: a 256 MiB guest (tests/lab/guest/balloon.sh) touches its
# memory; PATCH /balloon to 64 MiB takes MemTotal down by 64 MiB and kvmbox's RSS down
# with it (by at least half of that: the guest picks the pages); back to 0, the guest
# has its memory again. Statistics every second, with Firecracker's field names, and
# still coming after a pause.
test_balloon_inflate_deflate() {
	local cfg="$API_DIR/balloon.json" rss0 rss1 got
	mkdir -p "$API_DIR"
	cat >"$cfg" <<-JSON
		{"boot-source": {"kernel_image_path": "$LAB_KERNEL", "initrd_path": "$LAB_INITRD",
		 "boot_args": "$(guest_cmdline balloon) kvmbox.modules=virtio_pci,virtio_balloon"},
		 "machine-config": {"vcpu_count": 1, "mem_size_mib": 256},
		 "balloon": {"amount_mib": 0, "deflate_on_oom": false, "stats_polling_interval_s": 1}}
	JSON
	api_launch api-balloon --config-file "$cfg"
	api_wait_line "KVMBOX-BALLOON: touched"
	rss0="$(api_rss_kb)"
	got="$(api_call GET /balloon)"
	[[ "$got" =~ ^200\ .*\"stats_polling_interval_s\":1 ]] || fail "GET /balloon: $got"
	api_wait_stat target_mib 0
	got="$(api_call GET /balloon/statistics)"
	[[ "$got" =~ \"free_memory\":[0-9]+ && "$got" =~ \"total_memory\":[0-9]+ ]] ||
		fail "GET /balloon/statistics without the guest's numbers: $got"
	api_expect 400 PATCH /balloon '{"amount_mib": 257}'
	api_expect 204 PATCH /balloon '{"amount_mib": 64}'
	api_wait_line "KVMBOX-BALLOON: inflated"
	api_wait_stat actual_mib 64
	rss1="$(api_rss_kb)"
	echo "kvmbox VmRSS ${rss0} kB before, ${rss1} kB inflated"
	((rss0 - rss1 >= 32 * 1024)) || fail "RSS went from $rss0 kB to $rss1 kB only"
	api_expect 400 PATCH /balloon/statistics '{"stats_polling_interval_s": 0}'
	api_expect 204 PATCH /balloon/statistics '{"stats_polling_interval_s": 2}'
	# After a pause the polls go on: the guest's minor faults (its wait loop forks)
	# change again after what the resume itself brought.
	api_expect 204 PATCH /vm '{"state": "Paused"}'
	api_expect 204 PATCH /vm '{"state": "Resumed"}'
	sleep 3
	got="$(api_stat minor_faults)"
	[ -n "$got" ] || fail "no minor_faults in GET /balloon/statistics"
	api_wait_stat minor_faults "$got" !
	api_expect 204 PATCH /balloon '{"amount_mib": 0}'
	api_wait_line "KVMBOX-BALLOON: deflated"
	api_wait_stat actual_mib 0
	api_wait_exit
	[ "$API_RC" = 0 ] || fail "kvmbox exited $API_RC"
	guest_has_line "KVMBOX-TEST: balloon status=0" || fail "the guest's checks failed"
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
