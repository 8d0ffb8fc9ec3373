# SPDX-License-Identifier: GPL-2.0-only
# VFIO passthrough, the guest half of tests/vfio/linux (kvmbox.test=vfio): the stock kernel
# sees the edu device kvmbox passes through with its BAR, and /bin/bar-rw reads the ID
# register through an mmap of resource0. Prints `KVMBOX-VFIO-<NAME>: ok` or what is wrong.

vfio_check() {
	echo "KVMBOX-VFIO-$1: $2"
}

# shellcheck source=tests/lab/guest/vfio-lib.sh
. /tests/vfio-lib.sh

edu="$(vfio_find 0x1234 0x11e8)"
if [ -z "$edu" ]; then
	vfio_check SEEN "no 1234:11e8 in /sys/bus/pci/devices"
else
	vfio_check SEEN ok
	# resource: BAR0's first line is "start end flags"; 1 MiB wide.
	set -- $(head -n 1 "$edu/resource")
	if [ $(($2 - $1 + 1)) = 1048576 ] && [ $(($1)) != 0 ]; then
		vfio_check BAR ok
	else
		vfio_check BAR "BAR0 is '$*'"
	fi
	echo 1 >"$edu/enable" 2>/dev/null
	id="$(bar-rw -4 "$edu/resource0" 0)"
	[ "$id" = 0x010000ed ] && vfio_check ID ok || vfio_check ID "read '$id'"
fi
