# SPDX-License-Identifier: GPL-2.0-only
# What only the arm64 board has: its inputs (an arm64 Image, UEFI firmware and its
# variable flash) and the device tree it writes. tests/lab/run --arch arm64 runs this
# file; the x86 runner leaves it out.

A64_DIR="$LAB_RUN_TMP/arm64"

# expect_bad_input WHAT TEXT KVMBOX-RUN-ARGS...: exit status 2 and one line naming TEXT.
expect_bad_input() {
	local what="$1" text="$2" out rc
	shift 2
	out="$("$KVMBOX" run "$@" </dev/null 2>&1)"
	rc=$?
	[ "$rc" = 2 ] || fail "$what: exit status $rc, expected 2: $out"
	[ "$(grep -c . <<<"$out")" = 1 ] || fail "$what: not one line: $out"
	grep -q -- "$text" <<<"$out" || fail "$what: the line does not name $text: $out"
}

test_x86_kernel_exits_2() {
	local x86
	x86="$(ls build/lab/kernel/boot/vmlinuz-* 2>/dev/null | head -n1)"
	[ -n "$x86" ] || skip "no x86 lab kernel in build/lab/kernel (tools/lab/fetch-kernel)"
	expect_bad_input "an x86 bzImage" "not an arm64 Image" --kernel "$x86"
}

test_firmware_too_big_exits_2() {
	mkdir -p "$A64_DIR"
	truncate -s 65M "$A64_DIR/big.fd"
	expect_bad_input "a 65 MiB firmware" "--firmware" --firmware "$A64_DIR/big.fd"
}

test_flash_of_wrong_size_exits_2() {
	mkdir -p "$A64_DIR"
	truncate -s 1M "$A64_DIR/code.fd"
	truncate -s 1000000 "$A64_DIR/odd.fd"
	expect_bad_input "a flash of 1000000 bytes" "--flash" --firmware "$A64_DIR/code.fd" \
		--flash "$A64_DIR/odd.fd"
	expect_bad_input "a missing flash" "--flash" --firmware "$A64_DIR/code.fd" \
		--flash "$A64_DIR/missing.fd"
}

test_x86_options_exit_2() {
	expect_bad_input "--cpu-features" "--cpu-features" --kernel "$LAB_KERNEL" \
		--cpu-features=-pcid
	expect_bad_input "--pc-testdev" "--pc-testdev" --kernel "$LAB_KERNEL" --pc-testdev
}

# machine-config smt: arm64 vCPUs have no thread level to describe, so smt: true is
# refused (as Firecracker does on aarch64), not accepted and ignored.
test_smt_is_refused() {
	local out rc
	mkdir -p "$A64_DIR"
	cat >"$A64_DIR/smt.json" <<EOF
{"boot-source": {"kernel_image_path": "$LAB_KERNEL"},
 "machine-config": {"vcpu_count": 2, "mem_size_mib": 256, "smt": true}}
EOF
	out="$("$KVMBOX" --no-api --config-file "$A64_DIR/smt.json" </dev/null 2>&1)"
	rc=$?
	[ "$rc" = 2 ] || fail "smt true: exit status $rc, expected 2: $out"
	grep -q "machine-config: Enabling simultaneous multithreading is not supported" <<<"$out" ||
		fail "smt true: no line saying SMT is not supported: $out"
}

# --dump-dtb writes the device tree the guest booted with: a flattened tree, its magic first.
test_dump_dtb_writes_the_tree() {
	mkdir -p "$A64_DIR"
	guest_boot arm64-dtb --cpus 2 --memory 256M --dump-dtb "$A64_DIR/guest.dtb" \
		--cmdline "$(guest_cmdline none)"
	guest_expect_end poweroff
	[ -s "$A64_DIR/guest.dtb" ] || fail "no device tree written"
	[ "$(head -c 4 "$A64_DIR/guest.dtb" | od -An -tx1 | tr -d ' \n')" = d00dfeed ] ||
		fail "the file does not start with the FDT magic d00dfeed"
	grep -aq "arm,pl011" "$A64_DIR/guest.dtb" || fail "no PL011 in the device tree"
	grep -aq "pci-host-ecam-generic" "$A64_DIR/guest.dtb" || fail "no PCI host in the tree"
}

# The seed's scenario: UEFI (Debian's AAVMF) finds the virtio-blk disk, GRUB on its ESP
# loads Linux, and Linux reads the same disk after the firmware's driver let go of it;
# Linux sets a UEFI variable, which the firmware writes to the --flash file.
# tools/lab/build-esp made the disk (kvmbox.test=efi) on the host.
a64_uefi_boot() {
	local env=build/lab/arm64/esp.env code
	[ -f "$env" ] || skip "no ESP disk: tools/lab/build-esp did not run"
	# shellcheck disable=SC1090
	. "$env"
	code="$AAVMF_CODE"
	[ -f "/host$code" ] && code="/host$code" # the arm64 lab sees the host's / at /host
	[ -f "$code" ] || skip "no firmware at $AAVMF_CODE (qemu-efi-aarch64)"
	mkdir -p "$A64_DIR"
	[ -f "$A64_DIR/vars.fd" ] || cp "$ESP_VARS" "$A64_DIR/vars.fd"
	[ -f "$A64_DIR/esp.img" ] || cp "$ESP_IMG" "$A64_DIR/esp.img"
	guest_boot "$1" --firmware "$code" --flash "$A64_DIR/vars.fd" \
		--disk "$A64_DIR/esp.img" --memory 512M "${@:2}"
	guest_expect_end poweroff
	[ "$BOOT_RC" = 0 ] || fail "the guest powered off, kvmbox exited $BOOT_RC"
}

test_uefi_boots_linux_from_its_disk() {
	a64_uefi_boot arm64-uefi-1 --cpus 2
	guest_value VDA | grep -q "label=KVMBOX-ESP" ||
		fail "Linux did not read the ESP disk: '$(guest_value VDA)'"
	[ "$(guest_value EFIVAR)" = set ] || fail "efivarfs: '$(guest_value EFIVAR)'"
}

# A second boot with the same --flash (and 1 vCPU): the variable is still there.
test_uefi_variable_survives_power_off() {
	a64_uefi_boot arm64-uefi-1 --cpus 2
	a64_uefi_boot arm64-uefi-2 --cpus 1
	[ "$(guest_value EFIVAR)" = "found kvmbox-persists" ] ||
		fail "second boot: '$(guest_value EFIVAR)' (expected the variable set by the first)"
}

# --on-reboot=restart: PSCI SYSTEM_RESET builds the VM again and the kernel boots anew.
test_on_reboot_restart_boots_again() {
	local log="$LAB_LOGS/arm64-restart.log" pid i n=0
	mkdir -p "$LAB_LOGS"
	echo "$log" >"$LAB_TEST_LOGREF"
	# Emptied here, not only by the background job's redirection, which may come after
	# the first look below: that look would count the last run's two /init lines.
	: >"$log"
	"$KVMBOX" run --kernel "$LAB_KERNEL" --initrd "$LAB_INITRD" --cpus 2 --memory 256M \
		--on-reboot=restart --cmdline "$(guest_cmdline none reboot)" </dev/null >>"$log" 2>&1 &
	pid=$!
	for ((i = 0; i < LAB_BOOT_TIMEOUT; i++)); do
		n="$(grep -c "KVMBOX-INIT: start" "$log")"
		[ "$n" -ge 2 ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	kill "$pid" 2>/dev/null
	wait "$pid"
	[ "$n" -ge 2 ] || fail "the guest reached /init $n time(s); expected a second boot after its reboot"
	grep -q "KVMBOX-END: reboot" "$log" || fail "the first boot did not end in a reboot"
}

# The guest's PMUv3 (KVM_ARM_VCPU_PMU_V3, its PPI and the device tree node): Linux's
# arm_pmuv3 driver probes it, perf_event_open() counts a loop's user-mode cycles on each
# of two vCPUs (and instructions, at least one per iteration, where the lab's PMU has
# that event), and a sampling counter's overflows arrive as the PMU's interrupt.
test_pmu_counts_on_every_vcpu() {
	local cpu line insns cycles irqs
	mkdir -p "$A64_DIR"
	guest_boot arm64-pmu --cpus 2 --memory 256M --dump-dtb "$A64_DIR/pmu.dtb" \
		--cmdline "$(guest_cmdline pmu)"
	guest_expect_end poweroff
	if ! grep -aq "arm,armv8-pmuv3" "$A64_DIR/pmu.dtb"; then
		skip "this host's KVM offers no PMUv3 (KVM_CAP_ARM_PMU_V3): kvmbox gave no PMU"
	fi
	[ -n "$(guest_value PMU-DRIVER)" ] || fail "the guest kernel's PMU driver did not probe"
	for cpu in 0 1; do
		line="$(guest_value "PMU-CPU$cpu")"
		cycles="$(sed -n 's/^cycles=\([0-9]*\) .*/\1/p' <<<"$line")"
		insns="$(sed -n 's/.* instructions=\([0-9a-z]*\)$/\1/p' <<<"$line")"
		[ -n "$cycles" ] && [ -n "$insns" ] || fail "vCPU $cpu: $line"
		[ "$cycles" -gt 0 ] || fail "vCPU $cpu: no cycles counted"
		[ "$insns" = none ] || [ "$insns" -ge 20000000 ] ||
			fail "vCPU $cpu: $insns instructions for 20M iterations"
	done
	irqs="$(guest_value PMU-IRQS)"
	[ "${irqs:-0}" -gt 0 ] 2>/dev/null || fail "no PMU overflow interrupts (arm-pmu: '$irqs')"
}
