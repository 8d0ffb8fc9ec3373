// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/bus.c src/irq_line.c src/snapshot.c src/util/log.c src/devices/i8042.c tests/fuzz/fake_vm.c
// fuzz-time-percent: 5
/*
 * libFuzzer harness for the i8042 (PS/2 controller) on a fake VM: the input is a guest's
 * accesses to ports 0x60-0x67 (fuzz_access.h), resets and hostile snapshots. Only IRQ 1
 * and 12 may rise, the status register always says the keyboard is unlocked, and only a
 * reset command may stop the VM, as a reboot.
 */
#include "devices/i8042.h"
#include "fake_vm.h"

#define STS_UNLOCKED 0x10

static const struct fake_window ports = {.pio = true, .base = 0x60, .len = 8};

static void check(struct vm *vm, const struct fuzz_access *a, const u8 *buf)
{
	(void)vm;
	CHECK(!(fake_vm_pins & ~(1u << 1 | 1u << 12)));
	CHECK(fake_vm_stop == VM_RUNNING || fake_vm_stop == VM_STOP_REBOOT);
	if (a && buf && !a->write && a->offset == 4)
		CHECK(buf[0] & STS_UNLOCKED);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = {data, size};

	fake_vm_fuzz(&(struct vm_config){.cpus = 1}, &i8042_ops, &ports, 1, 4, &in, check);
	return 0;
}
