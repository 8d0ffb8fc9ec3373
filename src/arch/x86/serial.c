// SPDX-License-Identifier: GPL-2.0-only
/* COM1 of the PC board: the 16550 model at port 0x3f8, IRQ 4, as the serial console. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../bus.h"
#include "../../console.h"
#include "../../devices/uart16550.h"
#include "../../util/log.h"
#include "../../vm.h"
#include "layout.h"
#include "serial.h"

struct uart_dev {
	struct device dev;
	struct uart16550 *uart;
	struct irq_line irq;
	struct console_out out;
	struct console_sink sink; /* stdin's way in */
};

static void com1_tx(void *opaque, const u8 *buf, size_t len)
{
	struct uart_dev *d = opaque;

	console_out_write(&d->out, buf, len);
}

static size_t com1_sink_receive(void *opaque, const u8 *buf, size_t len)
{
	return uart16550_receive(opaque, buf, len);
}

static void com1_sink_woken(void *opaque)
{
	u64 v;

	if (read(uart16550_rx_wake_fd(opaque), &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_debug("rx wake eventfd: %s", strerror(errno));
}

static void com1_irq(void *opaque, bool level)
{
	struct uart_dev *d = opaque;

	vm_irq_line_set(d->dev.vm, &d->irq, level);
}

static int com1_realize(struct vm *vm)
{
	struct uart_dev *d = calloc(1, sizeof(*d));
	struct uart16550_host host = {.tx = com1_tx, .irq = com1_irq, .opaque = d};
	int ret;

	if (!d)
		return -ENOMEM;
	d->dev.ops = &uart16550_com1_ops;
	d->dev.vm = vm;
	d->irq.line = X86_IRQ_COM1;
	d->uart = uart16550_new(&host);
	if (!d->uart) {
		pr_err("uart16550: cannot create COM1: %s", strerror(errno));
		free(d);
		return -ENOMEM;
	}
	ret = bus_register(&vm->pio_bus, X86_PORT_COM1, 8, uart16550_io, d->uart, "uart16550");
	if (ret < 0) {
		pr_err("uart16550: cannot map COM1 at 0x%x: %s", X86_PORT_COM1, strerror(-ret));
		uart16550_free(d->uart);
		free(d);
		return ret;
	}
	vm_add_device(vm, &d->dev);
	d->sink = (struct console_sink){
		.receive = com1_sink_receive,
		.woken = com1_sink_woken,
		.wake_fd = uart16550_rx_wake_fd(d->uart),
		.wake_events = POLLIN,
		.opaque = d->uart,
	};
	vm->serial_sink = &d->sink;
	return 0;
}

static void com1_reset(struct device *dev)
{
	uart16550_reset(container_of(dev, struct uart_dev, dev)->uart);
}

static int com1_save(struct device *dev, struct snap_buf *sb)
{
	return uart16550_save(container_of(dev, struct uart_dev, dev)->uart, sb);
}

static int com1_load(struct device *dev, struct snap_buf *sb)
{
	return uart16550_load(container_of(dev, struct uart_dev, dev)->uart, sb);
}

static void com1_destroy(struct device *dev)
{
	struct uart_dev *d = container_of(dev, struct uart_dev, dev);

	if (dev->vm && dev->vm->serial_sink == &d->sink)
		dev->vm->serial_sink = NULL;
	uart16550_free(d->uart);
	free(d);
}

const struct device_ops uart16550_com1_ops = {
	.name = "uart16550",
	.realize = com1_realize,
	.reset = com1_reset,
	.save = com1_save,
	.load = com1_load,
	.destroy = com1_destroy,
};
