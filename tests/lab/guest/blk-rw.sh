# SPDX-License-Identifier: GPL-2.0-only
# virtio-blk, boot A of tests/lab/t-virtio-blk.sh: one 64 MiB read-write disk with
# serial kvmbox-a. An ext2 file system (the ext4 module) fills its first 32 MiB and
# keeps a file and its checksum for boot B; the rest is used raw.
. /tests/blk-lib.sh

fs_check() {
	mke2fs -F "$dev" 32768 >/dev/null 2>&1 || { echo "mke2fs failed"; return; }
	mkdir -p /mnt
	mount -t ext2 "$dev" /mnt || { echo "mount failed"; return; }
	dd if=/dev/urandom of=/mnt/data bs=64k count=16 conv=fsync 2>/dev/null
	md5sum </mnt/data | cut -d' ' -f1 >/mnt/data.md5
	sync
	umount /mnt || { echo "umount failed"; return; }
	drop_caches
	mount -t ext2 "$dev" /mnt || { echo "second mount failed"; return; }
	got="$(md5sum </mnt/data | cut -d' ' -f1)"
	want="$(cat /mnt/data.md5)"
	umount /mnt
	[ -n "$want" ] && [ "$got" = "$want" ] && echo ok || echo "read back $got, wrote $want"
}

raw_check() {
	dd if=/dev/urandom of=/tmp/raw bs=1M count=1 2>/dev/null
	dd if=/tmp/raw of="$dev" bs=1M seek="$1" conv=fsync 2>/dev/null || { echo "write failed"; return; }
	drop_caches
	[ "$(md5_of "$dev" "$1" 1)" = "$(md5sum </tmp/raw | cut -d' ' -f1)" ] && echo ok ||
		echo "read back differs"
}

# Discarded sectors may read as anything; this device punches a hole in its file, so
# they read as zeros, which shows the discard reached the host.
discard_check() {
	[ "$(cat /sys/block/${dev#/dev/}/queue/discard_max_bytes)" -gt 0 ] ||
		{ echo "no discard support"; return; }
	blkdiscard -o $((40 << 20)) -l $((1 << 20)) "$dev" || { echo "blkdiscard failed"; return; }
	drop_caches
	[ "$(md5_of "$dev" 40 1)" = "$(zero_md5 1)" ] && echo ok || echo "not zero after discard"
}

# Unbinding resets the device (status 0) after the driver quiesces it; binding starts it
# again. Background reads and writes are running when the unbind starts.
rebind_check() {
	vdev="$(basename "$(readlink "/sys/block/${dev#/dev/}/device")")"
	drv=/sys/bus/virtio/drivers/virtio_blk
	dd if="$dev" of=/dev/null bs=64k skip=512 count=256 2>/dev/null &
	dd if=/dev/zero of="$dev" bs=64k seek=768 count=128 conv=fsync 2>/dev/null &
	usleep 50000
	echo "$vdev" >"$drv/unbind" || { echo "unbind failed"; return; }
	wait
	[ ! -e "$drv/$vdev" ] || { echo "still bound after unbind"; return; }
	echo "$vdev" >"$drv/bind" || { echo "bind failed"; return; }
	dev="$(disk_by_serial kvmbox-a)" || { echo "no disk after bind"; return; }
	r="$(raw_check 56)"
	[ "$r" = ok ] || { echo "raw I/O after rebind: $r"; return; }
	mount -t ext2 -o ro "$dev" /mnt || { echo "mount after rebind failed"; return; }
	[ "$(md5sum </mnt/data | cut -d' ' -f1)" = "$(cat /mnt/data.md5)" ] && echo ok ||
		echo "file changed across the rebind"
	umount /mnt
}

dev="$(disk_by_serial kvmbox-a)"
if [ -z "$dev" ]; then
	check DISK "no disk with serial kvmbox-a"
	exit 1
fi
check DISK ok
echo "KVMBOX-BLK-SECTORS: $(cat /sys/block/${dev#/dev/}/size)"
echo "KVMBOX-BLK-RO: $(cat /sys/block/${dev#/dev/}/ro)"
check FS "$(fs_check)"
check RAW "$(raw_check 40)"
check DISCARD "$(discard_check)"
check REBIND "$(rebind_check)"
exit $blk_status
