# SPDX-License-Identifier: GPL-2.0-only
# Guest half of boot B of tests/lab/t-virtio-blk.sh: two disks at once. kvmbox-a is
# boot A's disk, now read-only; kvmbox-big is a sparse 5 GiB file, written above 4 GiB.
# Sourced by /init: no exit.

# shellcheck source=tests/lab/guest/blk-lib.sh
. /tests/blk-lib.sh

blk_ro_write() {
	[ "$(blk_sys "$blk_ro_dev" ro)" = 1 ] || { echo "not marked read-only"; return; }
	if dd if=/dev/zero of="$blk_ro_dev" bs=512 count=1 conv=fsync 2>/dev/null; then
		echo "a write to the read-only disk succeeded"
	else
		echo ok
	fi
}

blk_ro_mount() {
	mkdir -p /mnt
	mount -t ext2 -o ro "$blk_ro_dev" /mnt || { echo "mount -o ro failed"; return; }
	if [ "$(blk_file_md5 /mnt/data)" = "$(cat /mnt/data.md5)" ]; then
		echo ok
	else
		echo "boot A's file reads back different"
	fi
	umount /mnt
}

# 4.5 GiB in (block 1179648 of 4 KiB): past what 32 bits of byte offset reach.
blk_above_4g() {
	[ "$(blk_sys "$blk_big_dev" size)" = 10485760 ] || { echo "wrong size"; return; }
	echo kvmbox-above-4g >/tmp/m
	dd if=/tmp/m of="$blk_big_dev" bs=4096 seek=1179648 conv=sync,fsync 2>/dev/null ||
		{ echo "write failed"; return; }
	blk_drop_caches
	blk_got="$(dd if="$blk_big_dev" bs=4096 skip=1179648 count=1 2>/dev/null | tr -d '\0')"
	[ "$blk_got" = kvmbox-above-4g ] || { echo "read back '$blk_got'"; return; }
	# The last sector is readable; nothing past it is.
	blk_n="$(dd if="$blk_big_dev" bs=512 skip=10485759 count=2 2>/dev/null | wc -c)"
	if [ "$blk_n" = 512 ]; then
		echo ok
	else
		echo "reading the last sector gave $blk_n bytes"
	fi
}

blk_multi_main() {
	blk_ro_dev="$(blk_disk kvmbox-a)"
	blk_big_dev="$(blk_disk kvmbox-big)"
	if [ -z "$blk_ro_dev" ] || [ -z "$blk_big_dev" ]; then
		blk_check DISKS "found '$blk_ro_dev' and '$blk_big_dev'"
		return 1
	fi
	blk_check DISKS ok
	blk_check RO-WRITE "$(blk_ro_write)"
	blk_check RO-MOUNT "$(blk_ro_mount)"
	blk_check BIG "$(blk_above_4g)"
	return "$blk_status"
}

blk_multi_main
