# SPDX-License-Identifier: GPL-2.0-only
# virtio-blk, boot C of tests/lab/t-virtio-blk.sh: writes a marker at byte 1 MiB of the
# disk kvmbox-k, fsyncs it, says so, and waits to be killed: the host then kill -9's
# kvmbox and looks for the marker in the image file.
. /tests/blk-lib.sh

dev="$(disk_by_serial kvmbox-k)" || { check DISK "no disk with serial kvmbox-k"; exit 1; }
marker="kvmbox-fsync-$(cat /proc/sys/kernel/random/uuid)"
echo "$marker" >/tmp/m
if ! dd if=/tmp/m of="$dev" bs=512 seek=2048 conv=sync,fsync 2>/dev/null; then
	check MARKER "write failed"
	exit 1
fi
echo "KVMBOX-BLK-MARKER: $marker"
sleep 600
