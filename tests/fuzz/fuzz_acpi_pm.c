// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/bus.c src/irq_line.c src/snapshot.c src/util/log.c src/arch/x86/acpi_pm.c tests/fuzz/fake_vm.c
// fuzz-time-percent: 5
/*
 * libFuzzer harness for the ACPI PM registers on a fake VM: the input is a guest's
 * accesses to ports 0x600-0x60f (PM1a event block, PM1a control, reset register; see
 * fuzz_access.h), resets and hostile snapshots. Nothing raises an interrupt, SCI_EN
 * always reads set, and the VM stops only to power off or reboot.
 */
#include "arch/x86/layout.h"
#include "arch/x86/acpi_pm.h"
#include "fake_vm.h"

static const struct fake_window ports = {.pio = true, .base = X86_PORT_ACPI_PM, .len = 16};

static void check(struct vm *vm, const struct fuzz_access *a, const u8 *buf)
{
	(void)vm;
	CHECK(fake_vm_pins == 0);
	CHECK(fake_vm_stop == VM_RUNNING || fake_vm_stop == VM_STOP_POWEROFF ||
	      fake_vm_stop == VM_STOP_REBOOT);
	if (a && buf && !a->write && a->offset == X86_PORT_ACPI_PM1A_CNT - X86_PORT_ACPI_PM)
		CHECK(buf[0] & 1);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = {data, size};

	fake_vm_fuzz(&(struct vm_config){.cpus = 1}, &acpi_pm_ops, &ports, 1, 4, &in, check);
	return 0;
}
