# SPDX-License-Identifier: GPL-2.0-only
# MSI-X passthrough, the guest half of tests/vfio/linux's rng boot (kvmbox.test=vfio-rng,
# kvmbox.modules=virtio_pci,virtio_rng): QEMU's virtio-rng, passed through by kvmbox
# --vfio, is driven by the stock virtio_rng driver on MSI-X vectors whose counts grow
# while it works, and its bytes arrive (DMA through L1's IOMMU into this guest's RAM).
# Prints `KVMBOX-VFIO-RNG-<NAME>: ok` or what is wrong.

vr_check() {
	echo "KVMBOX-VFIO-RNG-$1: $2"
}

# vr_count LINE: the interrupts counted on the /proc/interrupts line named LINE (all CPUs).
vr_count() {
	awk -v n="$1" '$NF == n { s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s }' \
		/proc/interrupts
}

# vr_read: 64 bytes of /dev/hwrng in hex.
vr_read() {
	dd if=/dev/hwrng bs=64 count=1 2>/dev/null | od -An -v -tx1 | tr -d ' \n'
}

# shellcheck source=tests/lab/guest/vfio-lib.sh
. /tests/vfio-lib.sh

vr_dev="$(vfio_find 0x1af4 0x1044)"
vr_vdev=''
for d in /sys/bus/virtio/drivers/virtio_rng/virtio*; do
	[ -e "$d" ] && vr_vdev="${d##*/}"
done
if [ -z "$vr_dev" ]; then
	vr_check SEEN "no 1af4:1044 in /sys/bus/pci/devices"
elif [ -z "$vr_vdev" ]; then
	vr_check SEEN "1af4:1044 is there but virtio_rng did not bind"
else
	vr_check SEEN ok
	i=0
	while [ $i -lt 100 ]; do
		case "$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)" in
		virtio_rng*) break ;;
		esac
		usleep 50000
		i=$((i + 1))
	done
	grep "$vr_vdev-" /proc/interrupts | sed 's/^/KVMBOX-VFIO-RNG-IRQ: /' >&2
	modes="$(cat "$vr_dev"/msi_irqs/* 2>/dev/null | sort -u | tr '\n' ' ')"
	if [ "$modes" = "msix " ] && grep "$vr_vdev-input" /proc/interrupts | grep -q "PCI-MSI"; then
		vr_check MSIX ok
	else
		vr_check MSIX "msi_irqs modes '$modes', input line: $(grep "$vr_vdev-input" /proc/interrupts)"
	fi
	before="$(vr_count "$vr_vdev-input")"
	a="$(vr_read)"
	b="$(vr_read)"
	for i in 1 2 3 4 5 6; do vr_read >/dev/null; done
	after="$(vr_count "$vr_vdev-input")"
	echo "KVMBOX-VFIO-RNG-COUNTS: $before $after" >&2
	if [ -n "$before" ] && [ -n "$after" ] && [ "$after" -ge $((before + 4)) ]; then
		vr_check IRQS-GROW ok
	else
		vr_check IRQS-GROW "input vector count '$before' then '$after' over 8 reads"
	fi
	if [ ${#a} = 128 ] && [ ${#b} = 128 ] && [ "$a" != "$b" ] && [ -n "$(echo "$a" | tr -d 0)" ]; then
		vr_check DATA ok
	else
		vr_check DATA "read '$a' then '$b'"
	fi
fi
