# SPDX-License-Identifier: GPL-2.0-only
# Guest half of boot C of tests/lab/t-virtio-blk.sh: writes a marker at byte 1 MiB of
# the disk kvmbox-k, fsyncs it, says so, and waits to be killed: the host then kill -9's
# kvmbox and looks for the marker in the image file.
# Sourced by /init: no exit.

# shellcheck source=tests/lab/guest/blk-lib.sh
. /tests/blk-lib.sh

blk_kill_main() {
	blk_dev="$(blk_disk kvmbox-k)" || { blk_check DISK "no disk with serial kvmbox-k"; return 1; }
	blk_marker="kvmbox-fsync-$(cat /proc/sys/kernel/random/uuid)"
	echo "$blk_marker" >/tmp/m
	if ! dd if=/tmp/m of="$blk_dev" bs=512 seek=2048 conv=sync,fsync 2>/dev/null; then
		blk_check MARKER "write failed"
		return 1
	fi
	echo "KVMBOX-BLK-MARKER: $blk_marker"
	sleep 600
}

blk_kill_main
