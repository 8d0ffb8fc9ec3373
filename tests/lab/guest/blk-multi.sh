# SPDX-License-Identifier: GPL-2.0-only
# virtio-blk, boot B of tests/lab/t-virtio-blk.sh: two disks at once. kvmbox-a is boot
# A's disk, now read-only; kvmbox-big is a sparse 5 GiB file, written above 4 GiB.
. /tests/blk-lib.sh

ro_write_check() {
	[ "$(cat /sys/block/${ro#/dev/}/ro)" = 1 ] || { echo "not marked read-only"; return; }
	if dd if=/dev/zero of="$ro" bs=512 count=1 conv=fsync 2>/dev/null; then
		echo "a write to the read-only disk succeeded"
	else
		echo ok
	fi
}

ro_mount_check() {
	mkdir -p /mnt
	mount -t ext2 -o ro "$ro" /mnt || { echo "mount -o ro failed"; return; }
	[ "$(md5sum </mnt/data | cut -d' ' -f1)" = "$(cat /mnt/data.md5)" ] && echo ok ||
		echo "boot A's file reads back different"
	umount /mnt
}

# 4.5 GiB in: past what 32 bits of byte offset reach.
big_check() {
	[ "$(cat /sys/block/${big#/dev/}/size)" = 10485760 ] || { echo "wrong size"; return; }
	echo kvmbox-above-4g >/tmp/m
	dd if=/tmp/m of="$big" bs=4096 seek=1179648 conv=sync,fsync 2>/dev/null ||
		{ echo "write failed"; return; }
	drop_caches
	got="$(dd if="$big" bs=4096 skip=1179648 count=1 2>/dev/null | tr -d '\0')"
	[ "$got" = kvmbox-above-4g ] || { echo "read back '$got'"; return; }
	# The last sector is readable; nothing past it is.
	n="$(dd if="$big" bs=512 skip=10485759 count=2 2>/dev/null | wc -c)"
	[ "$n" = 512 ] && echo ok || echo "reading the last sector gave $n bytes"
}

ro="$(disk_by_serial kvmbox-a)"
big="$(disk_by_serial kvmbox-big)"
if [ -z "$ro" ] || [ -z "$big" ]; then
	check DISKS "found '$ro' and '$big'"
	exit 1
fi
check DISKS ok
check RO-WRITE "$(ro_write_check)"
check RO-MOUNT "$(ro_mount_check)"
check BIG "$(big_check)"
exit $blk_status
