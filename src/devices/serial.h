/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_SERIAL_H
#define KVMBOX_DEVICES_SERIAL_H

#include "../bus.h"
#include "../snapshot.h"
#include "../util/types.h"
#include "device.h"

/*
 * A UART model (uart16550, pl011) and the serial console around it. A model is pure: its
 * outlets are the host's callbacks, tx for bytes the guest sends and irq for the level of
 * its interrupt line. The console glue (serial_console.c) wires one to the board: its
 * registers on a bus, its line to the irqchip, tx to kvmbox's stdout and stdin to its
 * receive FIFO.
 */
struct serial_host {
	void (*tx)(void *opaque, const u8 *buf, size_t len);
	void (*irq)(void *opaque, bool level);
	void *opaque;
};

struct serial_model {
	const char *name;
	void *(*create)(const struct serial_host *host);
	void (*destroy)(void *uart);
	bus_io_fn io;
	/* Takes what fits in the receive FIFO; returns how many bytes it took. */
	size_t (*receive)(void *uart, const u8 *buf, size_t len);
	/* An eventfd that becomes readable when the guest may take more input. */
	int (*rx_wake_fd)(void *uart);
	void (*reset)(void *uart);
	int (*save)(void *uart, struct snap_buf *sb);
	int (*load)(void *uart, struct snap_buf *sb);
};

/* Where the board puts its console UART. */
struct serial_console_desc {
	const struct serial_model *model;
	const struct device_ops *ops; /* the board's ops for it, which call the functions below */
	bool pio;		      /* on the port bus, else MMIO */
	u64 base, len;
	u32 irq_line;
};

/* Creates the console; it sets vm->serial_sink for stdin. 0 or -errno, said in a line. */
int serial_console_realize(struct vm *vm, const struct serial_console_desc *desc);
void serial_console_reset(struct device *dev);
int serial_console_save(struct device *dev, struct snap_buf *sb);
int serial_console_load(struct device *dev, struct snap_buf *sb);
void serial_console_destroy(struct device *dev);

#endif
