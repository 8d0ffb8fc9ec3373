// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "../vm.h"
#include "pc_testdev.h"

#define PC_TESTDEV_SCRATCH_LEN	4
#define PC_TESTDEV_FLUSH_LEN	4
#define PC_TESTDEV_SNAP_VERSION 1

struct pc_testdev {
	struct device dev;
	struct vm *vm;
	pthread_mutex_t lock; /* vCPUs may hit the registers concurrently */
	u32 scratch;
	u8 iomem[PC_TESTDEV_IOMEM_SIZE];
	struct irq_line irq[PC_TESTDEV_IRQ_LINES]; /* what the guest asserted through us */
};

u64 pc_testdev_scratch_read(u32 reg, u64 offset, u32 len)
{
	u64 v = 0;

	/* Written so that no offset a guest can produce wraps past the check. */
	for (u32 i = 0; i < len && i < 8; i++) {
		if (offset >= PC_TESTDEV_SCRATCH_LEN || i >= PC_TESTDEV_SCRATCH_LEN - offset)
			break;
		v |= (u64)((reg >> (8 * (offset + i))) & 0xff) << (8 * i);
	}
	return v;
}

u32 pc_testdev_scratch_write(u32 reg, u64 offset, u32 len, u64 val)
{
	for (u32 i = 0; i < len && i < 8; i++) {
		u64 byte = offset + i;

		if (offset >= PC_TESTDEV_SCRATCH_LEN || i >= PC_TESTDEV_SCRATCH_LEN - offset)
			break;
		reg &= ~(0xffU << (8 * byte));
		reg |= (u32)((val >> (8 * i)) & 0xff) << (8 * byte);
	}
	return reg;
}

void pc_testdev_iomem_access(u8 *buf, u64 offset, u8 *data, u32 len, bool is_write)
{
	for (u32 i = 0; i < len; i++) {
		/* offset comes from the bus, yet the sum must not wrap past the check. */
		bool inside = offset < PC_TESTDEV_IOMEM_SIZE && i < PC_TESTDEV_IOMEM_SIZE - offset;

		if (is_write) {
			if (inside)
				buf[offset + i] = data[i];
		} else {
			data[i] = inside ? buf[offset + i] : 0xff;
		}
	}
}

int pc_testdev_irq_line(u64 offset, u32 i)
{
	if (offset >= PC_TESTDEV_IRQ_LINES || i >= PC_TESTDEV_IRQ_LINES - offset)
		return -1;
	return (int)(offset + i);
}

static void scratch_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct pc_testdev *t = opaque;

	pthread_mutex_lock(&t->lock);
	if (is_write)
		t->scratch =
			pc_testdev_scratch_write(t->scratch, offset, len, io_data_get(data, len));
	else
		io_data_put(data, len, pc_testdev_scratch_read(t->scratch, offset, len));
	pthread_mutex_unlock(&t->lock);
}

/*
 * QEMU makes the page inaccessible and accessible again: the mprotect() calls fire the MMU
 * notifier, so KVM drops its stage-2 entries for the page (eventinj then takes that fault
 * in the middle of event delivery). kvmbox does not: a moment without access would crash
 * whichever other thread touched the page (KVM_RUN fails with EFAULT, a device worker
 * takes SIGSEGV), and making guest memory executable instead, as it once did, hands the
 * guest a writable and executable page of kvmbox. The flush is accepted and does nothing:
 * eventinj runs without it, as with no test device (tools/kvm-unit-tests/README.md).
 */
static void flush_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	/* A 32-bit write of an address; anything else does nothing, as in QEMU. */
	if (!is_write) {
		io_data_put(data, len, ~0ULL);
		return;
	}
	(void)opaque;
	(void)offset;
}

static void irq_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct pc_testdev *t = opaque;

	if (!is_write) {
		io_data_put(data, len, 0);
		return;
	}
	/*
	 * Each port is one byte wide: QEMU splits a wider write into byte writes, so byte i
	 * drives line offset + i (realmode raises IRQ 11 with an outl to 0x200b).
	 */
	for (u32 i = 0; i < len; i++) {
		int line = pc_testdev_irq_line(offset, i);

		if (line >= 0)
			vm_irq_line_set(t->vm, &t->irq[line], data[i] != 0);
	}
}

static void iomem_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct pc_testdev *t = opaque;

	pthread_mutex_lock(&t->lock);
	pc_testdev_iomem_access(t->iomem, offset, data, len, is_write);
	pthread_mutex_unlock(&t->lock);
}

static void pc_testdev_reset(struct device *dev)
{
	struct pc_testdev *t = container_of(dev, struct pc_testdev, dev);

	pthread_mutex_lock(&t->lock);
	t->scratch = 0;
	memset(t->iomem, 0, sizeof(t->iomem));
	pthread_mutex_unlock(&t->lock);
	/* Lines the guest left high must not stay held for the other sources. */
	for (u32 i = 0; i < PC_TESTDEV_IRQ_LINES; i++)
		vm_irq_line_set(t->vm, &t->irq[i], false);
}

static int pc_testdev_save(struct device *dev, struct snap_buf *sb)
{
	struct pc_testdev *t = container_of(dev, struct pc_testdev, dev);

	pthread_mutex_lock(&t->lock);
	snap_begin_section(sb, "pc_testdev", PC_TESTDEV_SNAP_VERSION);
	snap_put_u32(sb, t->scratch);
	snap_put(sb, t->iomem, sizeof(t->iomem));
	pthread_mutex_unlock(&t->lock);
	return sb->error ? -ENOMEM : 0;
}

static int pc_testdev_load(struct device *dev, struct snap_buf *sb)
{
	struct pc_testdev *t = container_of(dev, struct pc_testdev, dev);
	u8 *iomem = malloc(PC_TESTDEV_IOMEM_SIZE);
	u32 scratch;
	int ret = -EINVAL;

	/* Read into a copy first: a short snapshot must not leave half a window behind. */
	if (!iomem)
		return -ENOMEM;
	if (snap_open_section(sb, "pc_testdev") == PC_TESTDEV_SNAP_VERSION &&
	    snap_get_u32(sb, &scratch) && snap_get(sb, iomem, PC_TESTDEV_IOMEM_SIZE)) {
		pthread_mutex_lock(&t->lock);
		t->scratch = scratch;
		memcpy(t->iomem, iomem, PC_TESTDEV_IOMEM_SIZE);
		pthread_mutex_unlock(&t->lock);
		ret = 0;
	}
	free(iomem);
	return ret;
}

/* Ranges stay registered: the buses are torn down with the VM, after the vCPUs stopped. */
static void pc_testdev_destroy(struct device *dev)
{
	struct pc_testdev *t = container_of(dev, struct pc_testdev, dev);

	pthread_mutex_destroy(&t->lock);
	free(t);
}

static int pc_testdev_realize(struct vm *vm)
{
	struct pc_testdev *t;
	struct {
		struct bus *bus;
		u64 base, len;
		bus_io_fn fn;
		const char *name;
	} ranges[] = {
		{&vm->pio_bus, PC_TESTDEV_PORT_SCRATCH, PC_TESTDEV_SCRATCH_LEN, scratch_io,
		 "pc-testdev"},
		{&vm->pio_bus, PC_TESTDEV_PORT_FLUSH, PC_TESTDEV_FLUSH_LEN, flush_io,
		 "pc-testdev-flush"},
		{&vm->pio_bus, PC_TESTDEV_PORT_IRQ, PC_TESTDEV_IRQ_LINES, irq_io, "pc-testdev-irq"},
		{&vm->mmio_bus, PC_TESTDEV_IOMEM_GPA, PC_TESTDEV_IOMEM_SIZE, iomem_io,
		 "pc-testdev-iomem"},
	};

	/* QEMU has it only with -device pc-testdev: it lets the guest drive any GSI. */
	if (!vm->cfg->pc_testdev)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->dev.ops = &pc_testdev_ops;
	t->vm = vm;
	for (u32 i = 0; i < PC_TESTDEV_IRQ_LINES; i++)
		t->irq[i].line = i;
	pthread_mutex_init(&t->lock, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(ranges); i++) {
		if (!bus_register(ranges[i].bus, ranges[i].base, ranges[i].len, ranges[i].fn, t,
				  ranges[i].name))
			continue;
		pr_err("pc-testdev: %s at %#llx overlaps another device", ranges[i].name,
		       (unsigned long long)ranges[i].base);
		/* Only what this device registered goes: its handlers must not outlive t. */
		while (i--)
			bus_unregister(ranges[i].bus, ranges[i].base);
		pc_testdev_destroy(&t->dev);
		return -1;
	}
	vm_add_device(vm, &t->dev);
	return 0;
}

const struct device_ops pc_testdev_ops = {
	.name = "pc-testdev",
	.realize = pc_testdev_realize,
	.reset = pc_testdev_reset,
	.save = pc_testdev_save,
	.load = pc_testdev_load,
	.destroy = pc_testdev_destroy,
};
