# SPDX-License-Identifier: GPL-2.0-only
# virtio-blk under the stock kernel's virtio_blk driver, in three boots (the guest
# halves are tests/lab/guest/blk-*.sh):
#   A  blk-rw     one disk: ext2 file system, raw I/O, discard, unbind/bind reset
#   B  blk-multi  A's disk read-only beside a sparse 5 GiB disk, on the thread pool
#   C  blk-kill   an fsync'd write is in the image after kill -9 of kvmbox
# Images live in the run's temp folder (tmpfs in the lab), made once per run.

BLK_DIR="$LAB_RUN_TMP/blk"

blk_cmdline() {
	echo "$(guest_cmdline "$1") kvmbox.modules=virtio_pci,virtio_blk,crc32c_generic,ext4"
}

blk_images() {
	mkdir -p "$BLK_DIR"
	[ -f "$BLK_DIR/a.img" ] || truncate -s 64M "$BLK_DIR/a.img"
	[ -f "$BLK_DIR/big.img" ] || truncate -s 5G "$BLK_DIR/big.img"
	[ -f "$BLK_DIR/k.img" ] || truncate -s 16M "$BLK_DIR/k.img"
}

boot_a() {
	blk_images
	# -v: the engine each disk uses is an info message.
	guest_boot blk-rw -v --cpus 2 --memory 256M --disk "$BLK_DIR/a.img,serial=kvmbox-a" \
		--cmdline "$(blk_cmdline blk-rw)"
	guest_expect_end poweroff
}

# After A, whose file system B mounts; A's image must come out of B unchanged.
boot_b() {
	boot_a
	[ -f "$BLK_DIR/a.sha256" ] || sha256sum "$BLK_DIR/a.img" >"$BLK_DIR/a.sha256"
	KVMBOX_BLOCK_BACKEND=threads guest_boot blk-multi -v --cpus 2 --memory 256M \
		--disk "$BLK_DIR/a.img,ro,serial=kvmbox-a" \
		--disk "$BLK_DIR/big.img,serial=kvmbox-big" --cmdline "$(blk_cmdline blk-multi)"
	guest_expect_end poweroff
}

test_disk_serial_and_size() {
	boot_a
	guest_expect_ok BLK DISK
	[ "$(guest_value BLK-SECTORS)" = 131072 ] ||
		fail "64 MiB disk: guest sees $(guest_value BLK-SECTORS) sectors"
	[ "$(guest_value BLK-RO)" = 0 ] || fail "a read-write disk shows ro=$(guest_value BLK-RO)"
}

test_filesystem_write_fsync_read() {
	boot_a
	guest_expect_ok BLK FS
}

test_raw_io_and_discard() {
	boot_a
	guest_expect_ok BLK RAW DISCARD
}

test_reset_by_unbind_bind() {
	boot_a
	guest_expect_ok BLK REBIND
	! grep -q "needs a reset" "$BOOT_LOG" || fail "the device asked for a reset"
	[ "$BOOT_RC" = 0 ] || fail "kvmbox exited $BOOT_RC"
}

# io_uring where the lab's kernel allows it; the thread pool is a valid fallback.
test_io_uring_engine() {
	boot_a
	grep -q "virtio-blk .*: io_uring I/O" "$BOOT_LOG" && return 0
	grep -q "virtio-blk .*: threads I/O" "$BOOT_LOG" &&
		skip "io_uring unavailable here: the disk used the thread pool"
	fail "no engine message from virtio-blk"
}

test_read_only_disk() {
	boot_b
	guest_expect_ok BLK DISKS RO-WRITE RO-MOUNT
	sha256sum -c --quiet "$BLK_DIR/a.sha256" >/dev/null 2>&1 ||
		fail "the read-only image changed"
}

test_two_disks_on_threads() {
	boot_b
	guest_expect_ok BLK DISKS
	[ "$(grep -c "virtio-blk .*: threads I/O" "$BOOT_LOG")" -ge 2 ] ||
		fail "KVMBOX_BLOCK_BACKEND=threads: expected both disks on the thread pool"
}

test_sparse_disk_above_4g() {
	local got kib
	boot_b
	guest_expect_ok BLK BIG
	got="$(dd if="$BLK_DIR/big.img" bs=4096 skip=1179648 count=1 2>/dev/null | tr -d '\0')"
	[ "$got" = kvmbox-above-4g ] || fail "host file at 4.5 GiB holds '$got'"
	kib="$(du -k "$BLK_DIR/big.img" | cut -f1)"
	[ "$kib" -lt 65536 ] || fail "the 5 GiB image is no longer sparse ($kib KiB used)"
}

# The guest fsyncs a marker and says so; kvmbox dies by SIGKILL right after, with no
# chance to flush anything of its own: the marker must be in the image already.
test_fsync_survives_kill9() {
	local log="$LAB_LOGS/blk-kill.log" pid marker got i
	blk_images
	mkdir -p "$LAB_LOGS"
	echo "$log" >"$LAB_TEST_LOGREF"
	# Emptied before the job starts: its own redirection may come after the first look,
	# which would then find the last run's marker (t-arm64.sh's restart test did so).
	: >"$log"
	"$KVMBOX" run --kernel "$LAB_KERNEL" --initrd "$LAB_INITRD" --cpus 1 --memory 256M \
		--disk "$BLK_DIR/k.img,serial=kvmbox-k" --cmdline "$(blk_cmdline blk-kill)" \
		</dev/null >>"$log" 2>&1 &
	pid=$!
	# Once a second: each look costs processes, which are slow under emulation.
	for ((i = 0; i < LAB_BOOT_TIMEOUT; i++)); do
		sleep 1
		marker="$(tr -d '\r' <"$log" | sed -n 's/^KVMBOX-BLK-MARKER: //p')"
		[ -n "$marker" ] && break
		kill -0 "$pid" 2>/dev/null || break
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ -n "$marker" ] || fail "the guest never reported its marker"
	got="$(dd if="$BLK_DIR/k.img" bs=512 skip=2048 count=1 2>/dev/null | tr -d '\0\n')"
	[ "$got" = "$marker" ] || fail "after kill -9 the image holds '$got', not '$marker'"
}

# Refused before the guest starts, with exit status 2 and the reason.
test_bad_disk_options_exit_2() {
	local out rc img="$BLK_DIR/bad.img"
	blk_images
	truncate -s 1000 "$img"
	for arg in "$BLK_DIR/missing.img" "$BLK_DIR/a.img,cache=none" "$img" \
		"$BLK_DIR/a.img,serial=123456789012345678901"; do
		out="$("$KVMBOX" run --kernel "$LAB_KERNEL" --disk "$arg" </dev/null 2>&1)"
		rc=$?
		[ "$rc" = 2 ] || fail "--disk $arg: exit status $rc, expected 2"
		grep -q -- "--disk " <<<"$out" || fail "--disk $arg: no message naming --disk: $out"
	done
	out="$("$KVMBOX" run --kernel "$LAB_KERNEL" --disk "$BLK_DIR/k.img" \
		--disk "$BLK_DIR/k.img" </dev/null 2>&1)"
	rc=$?
	if [ "$rc" != 2 ] || ! grep -q locked <<<"$out"; then
		fail "one image twice: exit $rc: $out"
	fi
}
