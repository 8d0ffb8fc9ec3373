// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/bus.c src/irq_line.c src/snapshot.c src/util/log.c src/devices/pc_testdev.c tests/fuzz/fake_vm.c
// fuzz-time-percent: 5
/*
 * libFuzzer harness for pc-testdev on a fake VM: the input is a guest's accesses
 * (fuzz_access.h) to the scratch and flush ports 0xe0-0xef, the IRQ ports 0x2000-0x201f
 * and the 64 KiB MMIO window at 0xff000000, resets and hostile snapshots. Only the 24
 * I/O APIC pins may rise, and the window reads back what was written to it (a copy kept
 * here, taken again from the device's snapshot after a reset or a load).
 */
#include "devices/pc_testdev.h"
#include "fake_vm.h"

static const struct fake_window windows[] = {
	{.pio = true, .base = PC_TESTDEV_PORT_SCRATCH, .len = 16},
	{.pio = true, .base = PC_TESTDEV_PORT_IRQ, .len = 32},
	{.pio = false, .base = PC_TESTDEV_IOMEM_GPA, .len = PC_TESTDEV_IOMEM_SIZE},
};
static u8 iomem[PC_TESTDEV_IOMEM_SIZE];

/* The window from the snapshot: after the header, u32 scratch, then the window (pc_testdev.c). */
static void iomem_sync(struct vm *vm)
{
	struct device *dev = vm->devices;
	struct snap_buf sb;

	snap_init(&sb);
	CHECK(dev->ops->save(dev, &sb) == 0 && sb.len == FUZZ_SNAP_HDR + 4 + sizeof(iomem));
	memcpy(iomem, sb.data + FUZZ_SNAP_HDR + 4, sizeof(iomem));
	snap_free(&sb);
}

static void check(struct vm *vm, const struct fuzz_access *a, const u8 *buf)
{
	CHECK(!(fake_vm_pins >> PC_TESTDEV_IRQ_LINES) && fake_vm_stop == VM_RUNNING);
	if (!a) {
		iomem_sync(vm);
		return;
	}
	if (a->kind != 2 || !buf)
		return;
	if (a->write)
		memcpy(iomem + a->offset, buf, a->len);
	else
		CHECK(!memcmp(iomem + a->offset, buf, a->len));
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct vm_config cfg = {.cpus = 1, .pc_testdev = true};
	struct fuzz_in in = {data, size};

	memset(iomem, 0, sizeof(iomem));
	fake_vm_fuzz(&cfg, &pc_testdev_ops, windows, ARRAY_SIZE(windows), 8, &in, check);
	return 0;
}
