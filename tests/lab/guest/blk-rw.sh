# SPDX-License-Identifier: GPL-2.0-only
# Guest half of boot A of tests/lab/t-virtio-blk.sh: one 64 MiB read-write disk with
# serial kvmbox-a. An ext2 file system (the ext4 module) fills its first 32 MiB and
# keeps a file and its checksum for boot B; the rest is used raw.
# Sourced by /init: no exit.

# shellcheck source=tests/lab/guest/blk-lib.sh
. /tests/blk-lib.sh

blk_fs() {
	mke2fs -F "$blk_dev" 32768 >/dev/null 2>&1 || { echo "mke2fs failed"; return; }
	mkdir -p /mnt
	mount -t ext2 "$blk_dev" /mnt || { echo "mount failed"; return; }
	dd if=/dev/urandom of=/mnt/data bs=64k count=16 conv=fsync 2>/dev/null
	blk_file_md5 /mnt/data >/mnt/data.md5
	sync
	umount /mnt || { echo "umount failed"; return; }
	blk_drop_caches
	mount -t ext2 "$blk_dev" /mnt || { echo "second mount failed"; return; }
	blk_got="$(blk_file_md5 /mnt/data)"
	blk_want="$(cat /mnt/data.md5)"
	umount /mnt
	if [ -n "$blk_want" ] && [ "$blk_got" = "$blk_want" ]; then
		echo ok
	else
		echo "read back $blk_got, wrote $blk_want"
	fi
}

# blk_raw OFFSET_MIB: 1 MiB written, synced, read back from the disk.
blk_raw() {
	dd if=/dev/urandom of=/tmp/raw bs=1M count=1 2>/dev/null
	dd if=/tmp/raw of="$blk_dev" bs=1M seek="$1" conv=fsync 2>/dev/null ||
		{ echo "write failed"; return; }
	blk_drop_caches
	if [ "$(blk_md5 "$blk_dev" "$1" 1)" = "$(blk_file_md5 /tmp/raw)" ]; then
		echo ok
	else
		echo "read back differs"
	fi
}

# Discarded sectors may read as anything; this device punches a hole in its file, so
# they read as zeros, which shows the discard reached the host.
blk_discard() {
	[ "$(blk_sys "$blk_dev" queue/discard_max_bytes)" -gt 0 ] ||
		{ echo "no discard support"; return; }
	blkdiscard -o $((40 << 20)) -l $((1 << 20)) "$blk_dev" || { echo "blkdiscard failed"; return; }
	blk_drop_caches
	if [ "$(blk_md5 "$blk_dev" 40 1)" = "$(blk_zero_md5 1)" ]; then
		echo ok
	else
		echo "not zero after discard"
	fi
}

# Unbinding resets the device (status 0) once the driver has quiesced it; binding starts
# it again. Background reads and writes are running when the unbind starts.
blk_rebind() {
	blk_vdev="$(basename "$(readlink "/sys/block/${blk_dev#/dev/}/device")")"
	blk_drv=/sys/bus/virtio/drivers/virtio_blk
	dd if="$blk_dev" of=/dev/null bs=64k skip=512 count=256 2>/dev/null &
	dd if=/dev/zero of="$blk_dev" bs=64k seek=768 count=128 conv=fsync 2>/dev/null &
	usleep 50000
	echo "$blk_vdev" >"$blk_drv/unbind" || { echo "unbind failed"; return; }
	wait
	[ ! -e "$blk_drv/$blk_vdev" ] || { echo "still bound after unbind"; return; }
	echo "$blk_vdev" >"$blk_drv/bind" || { echo "bind failed"; return; }
	blk_dev="$(blk_disk kvmbox-a)" || { echo "no disk after bind"; return; }
	blk_r="$(blk_raw 56)"
	[ "$blk_r" = ok ] || { echo "raw I/O after rebind: $blk_r"; return; }
	mount -t ext2 -o ro "$blk_dev" /mnt || { echo "mount after rebind failed"; return; }
	if [ "$(blk_file_md5 /mnt/data)" = "$(cat /mnt/data.md5)" ]; then
		echo ok
	else
		echo "the file changed across the rebind"
	fi
	umount /mnt
}

blk_rw_main() {
	blk_dev="$(blk_disk kvmbox-a)" || { blk_check DISK "no disk with serial kvmbox-a"; return 1; }
	blk_check DISK ok
	echo "KVMBOX-BLK-SECTORS: $(blk_sys "$blk_dev" size)"
	echo "KVMBOX-BLK-RO: $(blk_sys "$blk_dev" ro)"
	blk_check FS "$(blk_fs)"
	blk_check RAW "$(blk_raw 40)"
	blk_check DISCARD "$(blk_discard)"
	blk_check REBIND "$(blk_rebind)"
	return "$blk_status"
}

blk_rw_main
