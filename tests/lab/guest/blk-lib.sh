# SPDX-License-Identifier: GPL-2.0-only
# Helpers for the guest halves of tests/lab/t-virtio-blk.sh (blk-rw.sh, blk-multi.sh,
# blk-kill.sh). Each check prints `KVMBOX-BLK-<NAME>: ok` or `KVMBOX-BLK-<NAME>: <what
# went wrong>`; a script returns 1 when any check failed. Sourced by /init (busybox
# ash), so: no exit, and every name starts with blk_.

# shellcheck disable=SC2034 # read by the scripts that source this
blk_status=0

# blk_check NAME RESULT
blk_check() {
	echo "KVMBOX-BLK-$1: $2"
	[ "$2" = ok ] || blk_status=1
}

# blk_disk SERIAL: the /dev node of the virtio disk with that serial (GET_ID), waiting
# a little for the driver's probe to create it.
blk_disk() {
	blk_i=0
	while [ $blk_i -lt 50 ]; do
		for blk_d in /sys/block/vd*; do
			[ -e "$blk_d/serial" ] || continue
			if [ "$(cat "$blk_d/serial")" = "$1" ] && [ -b "/dev/${blk_d##*/}" ]; then
				echo "/dev/${blk_d##*/}"
				return 0
			fi
		done
		usleep 100000
		blk_i=$((blk_i + 1))
	done
	return 1
}

# blk_sys DEV ATTR: /sys/block/<dev>/ATTR.
blk_sys() {
	cat "/sys/block/${1#/dev/}/$2"
}

# Later reads must come from the disk, not from the guest's page cache.
blk_drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# blk_md5 DEV OFFSET_MIB LEN_MIB
blk_md5() {
	dd if="$1" bs=1M skip="$2" count="$3" 2>/dev/null | md5sum | cut -d' ' -f1
}

blk_zero_md5() {
	dd if=/dev/zero bs=1M count="$1" 2>/dev/null | md5sum | cut -d' ' -f1
}

blk_file_md5() {
	md5sum <"$1" | cut -d' ' -f1
}
