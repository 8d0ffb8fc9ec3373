// SPDX-License-Identifier: GPL-2.0-only
/* The fake VM of fake_vm.h: what vm.c gives a device, without KVM. */
#include <stdlib.h>

#include "fake_vm.h"
#include "util/log.h"

enum vm_stop_reason fake_vm_stop;
u32 fake_vm_pins;

void vm_add_device(struct vm *vm, struct device *dev)
{
	dev->vm = vm;
	dev->next = vm->devices;
	vm->devices = dev;
}

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, int exit_code)
{
	(void)vm;
	(void)exit_code;
	CHECK(reason > VM_RUNNING && reason <= VM_STOP_USER);
	if (fake_vm_stop == VM_RUNNING)
		fake_vm_stop = reason;
}

void vm_irq_line_set(struct vm *vm, struct irq_line *src, bool level)
{
	irq_line_set(&vm->irq_lines, src, level);
}

/* irq_line_set() drives a pin only when it changes. */
static void set_pin(void *opaque, u32 line, bool level)
{
	(void)opaque;
	CHECK(line < IRQ_LINES && ((fake_vm_pins >> line) & 1) != level);
	fake_vm_pins ^= 1u << line;
}

static struct vm *fake_vm_new(const struct vm_config *cfg, const struct device_ops *ops)
{
	struct vm *vm = calloc(1, sizeof(*vm) + sizeof(*cfg));

	CHECK(vm);
	/* Every hostile input would log a warning: keep the fuzzer's output readable. */
	log_level = LOG_ERR;
	memcpy(vm + 1, cfg, sizeof(*cfg));
	vm->cfg = (const struct vm_config *)(vm + 1);
	bus_init(&vm->pio_bus, "pio");
	bus_init(&vm->mmio_bus, "mmio");
	irq_lines_init(&vm->irq_lines, set_pin, vm);
	fake_vm_stop = VM_RUNNING;
	fake_vm_pins = 0;
	CHECK(ops->realize(vm) == 0 && vm->devices);
	return vm;
}

static void fake_vm_free(struct vm *vm)
{
	struct device *dev = vm->devices;

	if (dev->ops->reset) {
		dev->ops->reset(dev);
		CHECK(fake_vm_pins == 0);
	}
	if (dev->ops->destroy)
		dev->ops->destroy(dev);
	irq_lines_destroy(&vm->irq_lines);
	bus_destroy(&vm->pio_bus);
	bus_destroy(&vm->mmio_bus);
	free(vm);
}

static int dev_save(void *dev, struct snap_buf *sb)
{
	struct device *d = dev;

	return d->ops->save(d, sb);
}

static int dev_load(void *dev, struct snap_buf *sb)
{
	struct device *d = dev;

	return d->ops->load(d, sb);
}

void fake_vm_fuzz(const struct vm_config *cfg, const struct device_ops *ops,
		  const struct fake_window *w, unsigned int nw, u32 max_len, struct fuzz_in *in,
		  void (*check)(struct vm *vm, const struct fuzz_access *a, const u8 *buf))
{
	struct vm *vm = fake_vm_new(cfg, ops);
	struct device *dev = vm->devices;
	struct fuzz_access a;

	while (fuzz_next(in, &a, 1, max_len)) {
		u8 *buf;

		if (a.kind >= FUZZ_KIND_SNAPSHOT && dev->ops->save) {
			fuzz_snapshot(dev, dev_save, dev_load, in);
			check(vm, NULL, NULL);
			continue;
		}
		if (a.kind >= FUZZ_KIND_RESET && dev->ops->reset) {
			dev->ops->reset(dev);
			check(vm, NULL, NULL);
			continue;
		}
		a.kind %= nw;
		fuzz_place(&a, w[a.kind].len);
		buf = fuzz_buf(&a);
		if (!bus_dispatch(w[a.kind].pio ? &vm->pio_bus : &vm->mmio_bus,
				  w[a.kind].base + a.offset, buf, a.len, a.write))
			buf = NULL;
		check(vm, &a, buf);
	}
	fake_vm_free(vm);
}
