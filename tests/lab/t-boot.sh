# SPDX-License-Identifier: GPL-2.0-only
# Boot the stock Debian kernel with the lab's guest initramfs and check what
# the guest sees. Boots with equal options are shared (see guest_boot), so
# these tests cost three boots.

# The common boot: 2 CPUs, 512M, the info test, then power off.
boot_info_2cpu() {
	guest_boot boot-info-2cpu --cpus 2 --memory 512M --cmdline "$(guest_cmdline info)"
}

test_boot_reaches_init() {
	boot_info_2cpu
	guest_has_line "KVMBOX-INIT: start" ||
		fail "no 'KVMBOX-INIT: start' line: the guest did not reach /init (exit $BOOT_RC)"
}

test_nproc_2() {
	boot_info_2cpu
	guest_expect_end poweroff
	local n
	n="$(guest_value NPROC)"
	[ "$n" = 2 ] || fail "--cpus 2: guest nproc is '$n'"
}

test_nproc_1() {
	guest_boot boot-info-1cpu --cpus 1 --memory 512M --cmdline "$(guest_cmdline info)"
	guest_expect_end poweroff
	local n
	n="$(guest_value NPROC)"
	[ "$n" = 1 ] || fail "--cpus 1: guest nproc is '$n'"
}

# MemTotal is what the kernel keeps after its own reservations (kernel
# image, page tables, firmware areas): less than --memory, but not much.
test_memtotal_fits_memory() {
	boot_info_2cpu
	guest_expect_end poweroff
	local kb mib
	kb="$(guest_value MEMTOTAL-KB)"
	[[ "$kb" =~ ^[0-9]+$ ]] || fail "no MemTotal in the guest output (got '$kb')"
	mib=$((kb / 1024))
	[ "$mib" -ge 400 ] && [ "$mib" -le 512 ] ||
		fail "--memory 512M: guest MemTotal is $mib MiB, expected 400..512"
}

# The guest's clock comes from the emulated RTC; it must say this year.
test_year_matches_host() {
	boot_info_2cpu
	guest_expect_end poweroff
	local year host
	year="$(guest_value YEAR)"
	host="$(date +%Y)"
	[ "$year" = "$host" ] || fail "guest year is '$year', host year is $host"
}

# KVM_X86_SETUP_MCE: QEMU's 10 machine-check banks, not KVM's default 32, which
# Linux would probe MSR by MSR on every CPU.
test_mce_banks_10() {
	boot_info_2cpu
	guest_expect_end poweroff
	local n
	n="$(guest_value MCE-BANKS)"
	[ "$n" = 10 ] || fail "the guest's machinecheck0 has '$n' banks, expected 10"
}

test_guest_poweroff_exits_0() {
	boot_info_2cpu
	guest_expect_end poweroff
	[ "$BOOT_RC" = 0 ] || fail "guest powered off, kvmbox exited $BOOT_RC (expected 0)"
}

test_guest_reboot_exits_0() {
	guest_boot boot-reboot --cpus 1 --memory 256M --cmdline "$(guest_cmdline none reboot)"
	guest_expect_end reboot
	[ "$BOOT_RC" = 0 ] || fail "guest rebooted, kvmbox exited $BOOT_RC (expected 0)"
}
