// SPDX-License-Identifier: GPL-2.0-only
/* The console of the arm64 board: the PL011 model at 0x09000000, SPI 1. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../bus.h"
#include "../../console.h"
#include "../../devices/pl011.h"
#include "../../util/log.h"
#include "../../vm.h"
#include "layout.h"
#include "serial.h"

struct uart_dev {
	struct device dev;
	struct pl011 *uart;
	struct irq_line irq;
	struct console_out out;
	struct console_sink sink; /* stdin's way in */
};

static void pl011_con_tx(void *opaque, const u8 *buf, size_t len)
{
	struct uart_dev *d = opaque;

	console_out_write(&d->out, buf, len);
}

static size_t pl011_con_sink_receive(void *opaque, const u8 *buf, size_t len)
{
	return pl011_receive(opaque, buf, len);
}

static void pl011_con_sink_woken(void *opaque)
{
	u64 v;

	if (read(pl011_rx_wake_fd(opaque), &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_debug("rx wake eventfd: %s", strerror(errno));
}

static void pl011_con_irq(void *opaque, bool level)
{
	struct uart_dev *d = opaque;

	vm_irq_line_set(d->dev.vm, &d->irq, level);
}

static int pl011_con_realize(struct vm *vm)
{
	struct uart_dev *d = calloc(1, sizeof(*d));
	struct pl011_host host = {.tx = pl011_con_tx, .irq = pl011_con_irq, .opaque = d};
	int ret;

	if (!d)
		return -ENOMEM;
	d->dev.ops = &pl011_console_ops;
	d->dev.vm = vm;
	d->irq.line = ARM64_UART_SPI;
	d->uart = pl011_new(&host);
	if (!d->uart) {
		pr_err("pl011: cannot create the UART: %s", strerror(errno));
		free(d);
		return -ENOMEM;
	}
	ret = bus_register(&vm->mmio_bus, ARM64_UART_GPA, PL011_MMIO_SIZE, pl011_mmio, d->uart,
			   "pl011");
	if (ret < 0) {
		pr_err("pl011: cannot map the UART at 0x%llx: %s", ARM64_UART_GPA, strerror(-ret));
		pl011_free(d->uart);
		free(d);
		return ret;
	}
	vm_add_device(vm, &d->dev);
	d->sink = (struct console_sink){
		.receive = pl011_con_sink_receive,
		.woken = pl011_con_sink_woken,
		.wake_fd = pl011_rx_wake_fd(d->uart),
		.wake_events = POLLIN,
		.opaque = d->uart,
	};
	vm->serial_sink = &d->sink;
	return 0;
}

static void pl011_con_reset(struct device *dev)
{
	pl011_reset(container_of(dev, struct uart_dev, dev)->uart);
}

static int pl011_con_save(struct device *dev, struct snap_buf *sb)
{
	return pl011_save(container_of(dev, struct uart_dev, dev)->uart, sb);
}

static int pl011_con_load(struct device *dev, struct snap_buf *sb)
{
	return pl011_load(container_of(dev, struct uart_dev, dev)->uart, sb);
}

static void pl011_con_destroy(struct device *dev)
{
	struct uart_dev *d = container_of(dev, struct uart_dev, dev);

	if (dev->vm && dev->vm->serial_sink == &d->sink)
		dev->vm->serial_sink = NULL;
	pl011_free(d->uart);
	free(d);
}

const struct device_ops pl011_console_ops = {
	.name = "pl011",
	.realize = pl011_con_realize,
	.reset = pl011_con_reset,
	.save = pl011_con_save,
	.load = pl011_con_load,
	.destroy = pl011_con_destroy,
};
