// SPDX-License-Identifier: GPL-2.0-only
/* The serial console: a UART model wired to the board, kvmbox's stdout and its stdin. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../console.h"
#include "../irq_line.h"
#include "../util/log.h"
#include "../vm.h"
#include "serial.h"

struct serial_console {
	struct device dev;
	const struct serial_model *model;
	void *uart;
	struct irq_line irq;
	struct console_out out;
	struct console_sink sink; /* stdin's way in */
};

static struct serial_console *to_console(struct device *dev)
{
	return container_of(dev, struct serial_console, dev);
}

static void console_tx(void *opaque, const u8 *buf, size_t len)
{
	struct serial_console *c = opaque;

	console_out_write(&c->out, buf, len);
}

static void console_irq(void *opaque, bool level)
{
	struct serial_console *c = opaque;

	vm_irq_line_set(c->dev.vm, &c->irq, level);
}

static size_t sink_receive(void *opaque, const u8 *buf, size_t len)
{
	struct serial_console *c = opaque;

	return c->model->receive(c->uart, buf, len);
}

static void sink_woken(void *opaque)
{
	struct serial_console *c = opaque;
	u64 v;

	if (read(c->model->rx_wake_fd(c->uart), &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_debug("rx wake eventfd: %s", strerror(errno));
}

int serial_console_realize(struct vm *vm, const struct serial_console_desc *desc)
{
	struct serial_console *c = calloc(1, sizeof(*c));
	struct serial_host host = {.tx = console_tx, .irq = console_irq, .opaque = c};
	int ret;

	if (!c)
		return -ENOMEM;
	c->dev.ops = desc->ops;
	c->dev.vm = vm;
	c->model = desc->model;
	c->irq.line = desc->irq_line;
	c->uart = desc->model->create(&host);
	if (!c->uart) {
		pr_err("%s: cannot create the console UART: %s", desc->model->name,
		       strerror(errno));
		free(c);
		return -ENOMEM;
	}
	ret = bus_register(desc->pio ? &vm->pio_bus : &vm->mmio_bus, desc->base, desc->len,
			   desc->model->io, c->uart, desc->model->name);
	if (ret < 0) {
		pr_err("%s: cannot map the console UART at 0x%llx: %s", desc->model->name,
		       (unsigned long long)desc->base, strerror(-ret));
		desc->model->destroy(c->uart);
		free(c);
		return ret;
	}
	vm_add_device(vm, &c->dev);
	c->sink = (struct console_sink){
		.receive = sink_receive,
		.woken = sink_woken,
		.wake_fd = desc->model->rx_wake_fd(c->uart),
		.wake_events = POLLIN,
		.opaque = c,
	};
	vm->serial_sink = &c->sink;
	return 0;
}

void serial_console_reset(struct device *dev)
{
	struct serial_console *c = to_console(dev);

	c->model->reset(c->uart);
}

int serial_console_save(struct device *dev, struct snap_buf *sb)
{
	struct serial_console *c = to_console(dev);

	return c->model->save(c->uart, sb);
}

int serial_console_load(struct device *dev, struct snap_buf *sb)
{
	struct serial_console *c = to_console(dev);

	return c->model->load(c->uart, sb);
}

void serial_console_destroy(struct device *dev)
{
	struct serial_console *c = to_console(dev);

	if (dev->vm && dev->vm->serial_sink == &c->sink)
		dev->vm->serial_sink = NULL;
	c->model->destroy(c->uart);
	free(c);
}
