# SPDX-License-Identifier: GPL-2.0-only
# Helpers for the guest halves of the VFIO lab tests and bench (vfio.sh, vfio-rng.sh,
# vfio-reset.sh, mdev.sh, vfio-bench.sh). Sourced by /init (busybox ash), so: no exit,
# and every name starts with vfio_.

# vfio_find VENDOR DEVICE: print the sysfs folder of the first PCI function with these IDs
# (as sysfs spells them: 0x1234 0x11e8); print nothing and return 1 when there is none.
vfio_find() {
	local d
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor" 2>/dev/null)" = "$1" ] &&
			[ "$(cat "$d/device" 2>/dev/null)" = "$2" ] && { echo "$d"; return 0; }
	done
	return 1
}
