# SPDX-License-Identifier: GPL-2.0-only
# virtio-rng over virtio-pci under the stock kernel's virtio_rng driver (the guest half
# is tests/lab/guest/rng.sh), in two boots:
#   msix   reads from /dev/hwrng on MSI-X; unbind/bind of the virtio driver and of the
#          PCI function, each with a read in flight, then reads again; ten more driver
#          resets with two readers each
#   intx   the same device with pci=nomsi: INTx through the I/O APIC as the _PRT says

rng_cmdline() {
	echo "$(guest_cmdline rng) kvmbox.modules=virtio_pci,virtio_rng $*"
}

boot_msix() {
	guest_boot virtio-rng --rng --cpus 1 --memory 256M --cmdline "$(rng_cmdline)"
	guest_expect_end poweroff
}

boot_intx() {
	guest_boot virtio-rng-intx --rng --cpus 1 --memory 256M --cmdline "$(rng_cmdline pci=nomsi)"
	guest_expect_end poweroff
}

test_reads_random_bytes() {
	boot_msix
	guest_expect_ok RNG READ
}

test_interrupts_are_msix() {
	boot_msix
	guest_expect_ok RNG MSIX
}

test_driver_unbind_bind_resets() {
	boot_msix
	guest_expect_ok RNG DRIVER-REBIND
}

test_pci_unbind_bind_resets() {
	boot_msix
	guest_expect_ok RNG PCI-REBIND MSIX-AFTER-REBIND READ-AGAIN
}

test_repeated_resets_with_reads_in_flight() {
	boot_msix
	guest_expect_ok RNG REBIND-LOOP
}

# A driver that follows the rules never sees NEEDS_RESET, and kvmbox has no complaint.
test_no_device_errors() {
	boot_msix
	! grep -q "needs a reset" "$BOOT_LOG" || fail "$(grep -m1 "needs a reset" "$BOOT_LOG")"
	! grep -q "kvmbox: warning" "$BOOT_LOG" || fail "$(grep -m1 "kvmbox: warning" "$BOOT_LOG")"
	[ "$BOOT_RC" = 0 ] || fail "kvmbox exited $BOOT_RC"
}

test_intx_without_msi() {
	boot_intx
	guest_expect_ok RNG READ INTX DRIVER-REBIND
}

# Without --rng there is no virtio device at all.
test_no_device_without_option() {
	guest_boot virtio-rng-none --cpus 1 --memory 256M \
		--cmdline "$(guest_cmdline devices) kvmbox.modules=virtio_pci"
	guest_expect_end poweroff
	! grep -q "^KVMBOX-PCI: .* 0x1af4:" "$BOOT_LOG" ||
		fail "a virtio PCI function without --rng"
	grep -q "^KVMBOX-PCI: 0000:00:00.0 " "$BOOT_LOG" ||
		fail "the guest found no PCI bus"
}
