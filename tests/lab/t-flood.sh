# SPDX-License-Identifier: GPL-2.0-only
# Register flood against a stock Linux guest (the guest half is
# tests/lab/guest/regflood.sh): two of three vCPUs write random values to the port-I/O
# devices, a virtio-rng function's configuration space and its virtio registers, while
# the guest reads and writes its virtio-blk disk. kvmbox must stay up without a
# complaint beyond rate-limited guest warnings, the disk must answer every block
# correctly during and after, and the flooded virtio-rng must work once bound again.

FLOOD_DIR="$LAB_RUN_TMP/flood"

boot_flood() {
	mkdir -p "$FLOOD_DIR"
	[ -f "$FLOOD_DIR/disk.img" ] || truncate -s 16M "$FLOOD_DIR/disk.img"
	guest_boot regflood --cpus 3 --memory 256M --rng \
		--disk "$FLOOD_DIR/disk.img,serial=kvmbox-flood" \
		--cmdline "$(guest_cmdline regflood) kvmbox.flood.writes=${LAB_FLOOD_WRITES:-4000} kvmbox.modules=virtio_pci,virtio_blk,virtio_rng"
	guest_expect_end poweroff
}

test_flood_runs_to_the_end() {
	boot_flood
	guest_expect_ok FLOOD RUN
	[ "$BOOT_RC" = 0 ] || fail "kvmbox exited $BOOT_RC"
	! grep -Eq "kvmbox: (error|fatal)|Sanitizer|seccomp" "$BOOT_LOG" ||
		fail "$(grep -Em1 "kvmbox: (error|fatal)|Sanitizer|seccomp" "$BOOT_LOG")"
}

test_disk_serves_during_the_flood() {
	boot_flood
	guest_expect_ok FLOOD BLK-BEFORE BLK-DURING BLK-AFTER
}

test_flooded_device_works_again() {
	boot_flood
	guest_expect_ok FLOOD RNG-AFTER
}
