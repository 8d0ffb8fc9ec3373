// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/bus.c src/irq_line.c src/snapshot.c src/util/log.c src/devices/fw_cfg.c tests/fuzz/fake_vm.c
// fuzz-time-percent: 5
/*
 * libFuzzer harness for fw_cfg on a fake VM: the input is the VM's CPU count and RAM size
 * (first 10 bytes), then a guest's accesses to ports 0x510-0x517 (fuzz_access.h) and
 * resets. Every byte the data port gives is the selected item's next byte, as
 * fw_cfg_items_read() has it, and the selector port reads as zero.
 */
#include "devices/fw_cfg.h"
#include "fake_vm.h"

static const struct fake_window ports = {.pio = true, .base = 0x510, .len = 8};
static struct fw_cfg_items items;
static u16 selector;
static u32 offset;

static void check(struct vm *vm, const struct fuzz_access *a, const u8 *buf)
{
	(void)vm;
	CHECK(fake_vm_pins == 0 && fake_vm_stop == VM_RUNNING);
	if (!a) {
		selector = 0; /* a reset */
		offset = 0;
		return;
	}
	if (!buf)
		return;
	if (a->offset == 0 && a->write) {
		selector = (u16)fuzz_le(&(struct fuzz_in){a->data, a->len}, 2);
		offset = 0;
	}
	for (u32 i = 0; !a->write && i < a->len; i++) {
		if (a->offset == 0)
			CHECK(buf[i] == 0);
		else
			CHECK(buf[i] == fw_cfg_items_read(&items, selector, offset++));
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct vm_config cfg = {.cpus = (unsigned int)fuzz_le(&in, 2), .memory = fuzz_le(&in, 8)};

	fw_cfg_items_init(&items, cfg.cpus, cfg.memory);
	selector = 0;
	offset = 0;
	fake_vm_fuzz(&cfg, &fw_cfg_ops, &ports, 1, 4, &in, check);
	return 0;
}
