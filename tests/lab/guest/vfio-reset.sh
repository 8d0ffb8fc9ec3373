# SPDX-License-Identifier: GPL-2.0-only
# Device reset across --on-reboot=restart, the guest half of tests/vfio/linux's reset boot
# (kvmbox.test=vfio-reset, kvmbox.action=reboot, no virtio driver loaded): prints the
# passed virtio-rng's device status as this boot finds it (0 after a reset), then leaves
# the device in a non-default state (ACKNOWLEDGE | DRIVER) and reboots. The host side
# counts the boots and stops kvmbox.

# shellcheck source=tests/lab/guest/vfio-lib.sh
. /tests/vfio-lib.sh

vx_dev="$(vfio_find 0x1af4 0x1044)"
if [ -z "$vx_dev" ]; then
	echo "KVMBOX-VFIO-RESET-STATUS: no 1af4:1044 in /sys/bus/pci/devices"
else
	echo 1 >"$vx_dev/enable" 2>/dev/null
	# QEMU's modern virtio-pci: common configuration at BAR4 offset 0, device_status 0x14.
	echo "KVMBOX-VFIO-RESET-STATUS: $(bar-rw "$vx_dev/resource4" 0x14)"
	echo "KVMBOX-VFIO-RESET-DIRTIED: $(bar-rw "$vx_dev/resource4" 0x14 3)"
fi
