// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>

#include "layout.h"
#include "../../vm.h"
#include "debug_exit.h"

struct debug_exit {
	struct device dev;
	struct vm *vm;
};

static void debug_exit_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct debug_exit *d = opaque;

	(void)offset;
	if (!is_write) {
		io_data_put(data, len, ~0ULL);
		return;
	}
	/* A process exit status has 8 bits; QEMU truncates the same way. */
	vm_request_stop(d->vm, VM_STOP_DEBUG_EXIT,
			(int)(((io_data_get(data, len) << 1) | 1) & 0xff));
}

static void debug_exit_destroy(struct device *dev)
{
	free(container_of(dev, struct debug_exit, dev));
}

static int debug_exit_realize(struct vm *vm)
{
	struct debug_exit *d;

	if (!vm->cfg->debug_exit)
		return 0;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -1;
	d->dev.ops = &debug_exit_ops;
	d->vm = vm;
	/* Four ports wide, so a 32-bit outl lands too, as QEMU's iosize=4. */
	if (bus_register(&vm->pio_bus, X86_PORT_DEBUG_EXIT, 4, debug_exit_io, d, "debug-exit")) {
		free(d);
		return -1;
	}
	vm_add_device(vm, &d->dev);
	return 0;
}

const struct device_ops debug_exit_ops = {
	.name = "debug-exit",
	.realize = debug_exit_realize,
	.destroy = debug_exit_destroy,
};
