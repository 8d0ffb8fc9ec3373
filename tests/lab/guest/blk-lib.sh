# SPDX-License-Identifier: GPL-2.0-only
# Helpers of the virtio-blk guest scripts (blk-*.sh), sourced from /tests. Each check
# prints `KVMBOX-BLK-<NAME>: ok` or `KVMBOX-BLK-<NAME>: <what went wrong>`; a script
# exits 1 when any check failed.

blk_status=0

# check NAME RESULT
check() {
	echo "KVMBOX-BLK-$1: $2"
	[ "$2" = ok ] || blk_status=1
}

# disk_by_serial SERIAL: the /dev node of the virtio disk with that serial (GET_ID),
# waiting a little for the driver's probe to create it.
disk_by_serial() {
	i=0
	while [ $i -lt 50 ]; do
		for d in /sys/block/vd*; do
			[ -e "$d/serial" ] || continue
			if [ "$(cat "$d/serial")" = "$1" ] && [ -b "/dev/${d##*/}" ]; then
				echo "/dev/${d##*/}"
				return 0
			fi
		done
		usleep 100000
		i=$((i + 1))
	done
	return 1
}

# Later reads must come from the disk, not from the guest's page cache.
drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# md5_of DEV OFFSET_MIB LEN_MIB
md5_of() {
	dd if="$1" bs=1M skip="$2" count="$3" 2>/dev/null | md5sum | cut -d' ' -f1
}

zero_md5() {
	dd if=/dev/zero bs=1M count="$1" 2>/dev/null | md5sum | cut -d' ' -f1
}
