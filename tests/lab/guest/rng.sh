# SPDX-License-Identifier: GPL-2.0-only
# virtio-rng, the guest half of tests/lab/t-virtio-rng.sh (kvmbox.test=rng, with
# kvmbox.modules=virtio_pci,virtio_rng). Each check prints `KVMBOX-RNG-<NAME>: ok` or
# what went wrong; the test fails when any check did.

rng_status=0

rng_check() {
	echo "KVMBOX-RNG-$1: $2"
	[ "$2" = ok ] || rng_status=1
}

# rng_wait: until the hwrng core has the virtio source selected (after a probe).
rng_wait() {
	i=0
	while [ $i -lt 100 ]; do
		case "$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)" in
		virtio_rng*) return 0 ;;
		esac
		usleep 50000
		i=$((i + 1))
	done
	return 1
}

# rng_read: 64 bytes from /dev/hwrng, not all zero.
rng_read() {
	rng_wait || { echo "no virtio_rng in rng_current"; return; }
	hex="$(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | od -An -v -tx1 | tr -d ' \n')"
	[ ${#hex} = 128 ] || { echo "read $((${#hex} / 2)) bytes, wanted 64"; return; }
	[ -n "$(echo "$hex" | tr -d 0)" ] || { echo "64 zero bytes"; return; }
	echo ok
}

# The virtio device the driver is bound to, e.g. virtio0.
rng_vdev() {
	for d in /sys/bus/virtio/drivers/virtio_rng/virtio*; do
		[ -e "$d" ] && { echo "${d##*/}"; return 0; }
	done
	return 1
}

# rng_irqs: the interrupt lines of the device, as /proc/interrupts names them.
rng_irqs() {
	grep "$(rng_vdev)-" /proc/interrupts
}

rng_msix() {
	lines="$(rng_irqs)"
	[ -n "$lines" ] || { echo "no $(rng_vdev) lines in /proc/interrupts"; return; }
	echo "$lines" | sed 's/^/KVMBOX-RNG-IRQ: /' >&2
	echo "$lines" | grep -Eq "(PCI|ITS)-MSI.*-input" || { echo "the request queue is not on MSI-X"; return; }
	echo "$lines" | grep -Eq "(PCI|ITS)-MSI.*-config" || { echo "the config vector is not on MSI-X"; return; }
	echo ok
}

# With pci=nomsi: one shared line through the I/O APIC (INTx, level, from the _PRT).
rng_intx() {
	lines="$(grep "$(rng_vdev)" /proc/interrupts)"
	echo "$lines" | sed 's/^/KVMBOX-RNG-IRQ: /' >&2
	echo "$lines" | grep -q "IO-APIC.*fasteoi" || { echo "not an I/O APIC level line: $lines"; return; }
	count="$(echo "$lines" | awk '{ n = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i; print n }')"
	[ "${count:-0}" -gt 0 ] || { echo "no interrupts counted"; return; }
	echo ok
}

# Unbinding the virtio driver resets the device (status 0) while a read may be in
# flight; binding again must give a working device.
rng_driver_rebind() {
	vdev="$(rng_vdev)" || { echo "no device bound to virtio_rng"; return; }
	drv=/sys/bus/virtio/drivers/virtio_rng
	dd if=/dev/hwrng of=/dev/null bs=64 count=100000 2>/dev/null &
	reader=$!
	usleep 100000
	echo "$vdev" >"$drv/unbind" || { kill $reader; echo "unbind failed"; return; }
	kill $reader 2>/dev/null
	wait $reader 2>/dev/null
	echo "$vdev" >"$drv/bind" || { echo "bind failed"; return; }
	rng_read
}

# Unbinding virtio-pci from the PCI function tears the whole device down (reset, MSI-X
# off); binding probes it from scratch as a new virtio device.
rng_pci_rebind() {
	vdev="$(rng_vdev)" || { echo "no device bound to virtio_rng"; return; }
	bdf="$(basename "$(readlink -f "/sys/bus/virtio/devices/$vdev/..")")"
	drv=/sys/bus/pci/drivers/virtio-pci
	[ -e "$drv/$bdf" ] || { echo "$bdf is not bound to virtio-pci"; return; }
	dd if=/dev/hwrng of=/dev/null bs=64 count=100000 2>/dev/null &
	reader=$!
	usleep 100000
	echo "$bdf" >"$drv/unbind" || { kill $reader; echo "unbind failed"; return; }
	kill $reader 2>/dev/null
	wait $reader 2>/dev/null
	echo "$bdf" >"$drv/bind" || { echo "bind failed"; return; }
	rng_read
}

# Many resets in a row, each with two readers in flight: the device must come back
# every time, and each reset must find the worker joinable.
rng_rebind_loop() {
	drv=/sys/bus/virtio/drivers/virtio_rng
	n=0
	while [ $n -lt 10 ]; do
		vdev="$(rng_vdev)" || { echo "round $n: no device bound"; return; }
		dd if=/dev/hwrng of=/dev/null bs=32 count=100000 2>/dev/null &
		r1=$!
		dd if=/dev/hwrng of=/dev/null bs=4096 count=1000 2>/dev/null &
		r2=$!
		usleep 20000
		echo "$vdev" >"$drv/unbind" || { kill $r1 $r2; echo "round $n: unbind failed"; return; }
		kill $r1 $r2 2>/dev/null
		wait $r1 $r2 2>/dev/null
		echo "$vdev" >"$drv/bind" || { echo "round $n: bind failed"; return; }
		rng_wait || { echo "round $n: no virtio_rng after bind"; return; }
		n=$((n + 1))
	done
	rng_read
}

rng_main() {
	if grep -qw "pci=nomsi" /proc/cmdline; then
		rng_check READ "$(rng_read)"
		rng_check INTX "$(rng_intx)"
		rng_check DRIVER-REBIND "$(rng_driver_rebind)"
		return $rng_status
	fi
	rng_check READ "$(rng_read)"
	rng_check MSIX "$(rng_msix)"
	rng_check DRIVER-REBIND "$(rng_driver_rebind)"
	rng_check PCI-REBIND "$(rng_pci_rebind)"
	rng_check MSIX-AFTER-REBIND "$(rng_msix)"
	rng_check READ-AGAIN "$(rng_read)"
	rng_check REBIND-LOOP "$(rng_rebind_loop)"
	return $rng_status
}

# regflood.sh sources this file for its helpers only.
[ -n "${rng_lib_only:-}" ] || rng_main
