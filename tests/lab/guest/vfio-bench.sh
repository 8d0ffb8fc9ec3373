# SPDX-License-Identifier: GPL-2.0-only
# The guest half of tools/bench/vfio (kvmbox.test=vfio-bench): times reads of the passed
# edu device's ID register through resource0 (mmapped or trapped: the VMM decides, kvmbox's
# --vfio PATH[,mmap=off] or QEMU's vfio-pci x-no-mmap). Prints `KVMBOX-VFIO-BENCH-START`,
# idles a second, prints `KVMBOX-VFIO-BENCH-IDLE` and waits a second more before the timed
# reads, then prints `KVMBOX-VFIO-BENCH: reads=N ns_per_read=X`: the host reads its KVM
# counters at each line, and takes the idle second's exits off those of the reads.

# shellcheck source=tests/lab/guest/vfio-lib.sh
. /tests/vfio-lib.sh

vb_edu="$(vfio_find 0x1234 0x11e8)"
if [ -z "$vb_edu" ]; then
	echo "KVMBOX-VFIO-BENCH: no 1234:11e8 in /sys/bus/pci/devices"
else
	echo 1 >"$vb_edu/enable" 2>/dev/null
	bar-rw -t 200 "$vb_edu/resource0" 0 >/dev/null # warm: page tables, first exits
	echo "KVMBOX-VFIO-BENCH-START"
	sleep 1
	echo "KVMBOX-VFIO-BENCH-IDLE"
	sleep 1
	echo "KVMBOX-VFIO-BENCH: $(bar-rw -t "${VFIO_BENCH_READS:-5000}" "$vb_edu/resource0" 0)"
fi
