// SPDX-License-Identifier: GPL-2.0-only
/* COM1 of the PC board: the 16550 model at port 0x3f8, IRQ 4, as the serial console. */
#include "../../devices/serial.h"
#include "../../devices/uart16550.h"
#include "layout.h"
#include "serial.h"

static int com1_realize(struct vm *vm)
{
	static const struct serial_console_desc com1 = {
		.model = &uart16550_model,
		.ops = &uart16550_com1_ops,
		.pio = true,
		.base = X86_PORT_COM1,
		.len = 8,
		.irq_line = X86_IRQ_COM1,
	};

	return serial_console_realize(vm, &com1);
}

const struct device_ops uart16550_com1_ops = {
	.name = "uart16550",
	.realize = com1_realize,
	.reset = serial_console_reset,
	.save = serial_console_save,
	.load = serial_console_load,
	.destroy = serial_console_destroy,
};
