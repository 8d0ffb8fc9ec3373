# SPDX-License-Identifier: GPL-2.0-only
# The stock kernel's ELF vmlinux (tools/extract-vmlinux takes it out of the bzImage)
# booted through PVH: the guest starts in its uncompressed image, no decompressor.

# The vmlinux of the lab kernel, extracted once into build/lab/ (cached).
pvh_vmlinux() {
	local out="build/lab/vmlinux-${LAB_KERNEL##*/vmlinuz-}"

	if [ ! -s "$out" ]; then
		tools/extract-vmlinux "$LAB_KERNEL" "$out.part" >/dev/null || return 1
		mv "$out.part" "$out"
	fi
	echo "$out"
}

boot_pvh_info() {
	local vmlinux
	vmlinux="$(pvh_vmlinux)" || fail "tools/extract-vmlinux failed on $LAB_KERNEL"
	guest_boot pvh-info-2cpu --kernel "$vmlinux" --cpus 2 --memory 512M \
		--cmdline "$(guest_cmdline info)"
}

test_vmlinux_boots_to_init() {
	boot_pvh_info
	guest_expect_end poweroff
	[ "$BOOT_RC" = 0 ] || fail "guest powered off, kvmbox exited $BOOT_RC (expected 0)"
	[ "$(guest_value NPROC)" = 2 ] || fail "--cpus 2: guest nproc is '$(guest_value NPROC)'"
}

# The initrd came through the start info's module list, the memory map through its table.
test_vmlinux_memtotal_fits_memory() {
	boot_pvh_info
	guest_expect_end poweroff
	local kb
	kb="$(guest_value MEMTOTAL-KB)"
	[[ "$kb" =~ ^[0-9]+$ ]] || fail "no MemTotal in the guest output (got '$kb')"
	[ $((kb / 1024)) -ge 400 ] && [ $((kb / 1024)) -le 512 ] ||
		fail "--memory 512M: guest MemTotal is $((kb / 1024)) MiB, expected 400..512"
}

# The kernel's warnings (levels 0-4), numbers and timestamps left out, one per line.
dmesg_warnings() {
	tr -d '\r' <"$1" | sed -n 's/^KVMBOX-DMESG: <[0-4]>//p' | sed 's/^\[[^]]*\] *//; s/[0-9a-fx]\{4,\}/N/g' |
		sort -u
}

# PVH must not cost the guest anything the bzImage boot has: no warning of its own.
test_vmlinux_no_new_dmesg_warnings() {
	local vmlinux base new
	vmlinux="$(pvh_vmlinux)" || fail "tools/extract-vmlinux failed on $LAB_KERNEL"
	guest_boot pvh-dmesg-bzimage --cpus 2 --memory 512M --cmdline "$(guest_cmdline dmesg)"
	guest_expect_end poweroff
	base="$(dmesg_warnings "$BOOT_LOG")"
	guest_boot pvh-dmesg-vmlinux --kernel "$vmlinux" --cpus 2 --memory 512M \
		--cmdline "$(guest_cmdline dmesg)"
	guest_expect_end poweroff
	new="$(comm -13 <(echo "$base") <(dmesg_warnings "$BOOT_LOG"))"
	[ -z "$new" ] || fail "warnings under PVH only: $(echo "$new" | head -5 | tr '\n' '|')"
}
