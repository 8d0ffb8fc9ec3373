/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_UART16550_H
#define KVMBOX_DEVICES_UART16550_H

#include "device.h"
#include "serial.h"

/*
 * A 16550A UART. The model (register file, FIFOs, interrupt identification) is pure and
 * unit-tested; its two outlets are callbacks: tx for bytes the guest sends, irq for the
 * level of the interrupt line. Thread-safe: vCPU threads and the console feeder both call it.
 */
struct uart16550;

#define UART16550_FIFO_SIZE 16

struct uart16550 *uart16550_new(const struct serial_host *host);
void uart16550_free(struct uart16550 *u);
/* The bus handler: offset 0-7 within the port range. */
void uart16550_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write);
/* Queues received bytes; returns how many fit in the receive FIFO. */
size_t uart16550_receive(struct uart16550 *u, const u8 *buf, size_t len);
size_t uart16550_rx_room(struct uart16550 *u);
/* An eventfd that becomes readable when the guest has drained the receive FIFO. */
int uart16550_rx_wake_fd(struct uart16550 *u);
void uart16550_reset(struct uart16550 *u);
int uart16550_save(struct uart16550 *u, struct snap_buf *sb);
int uart16550_load(struct uart16550 *u, struct snap_buf *sb);

/* The model as the serial console drives it (serial.h). */
extern const struct serial_model uart16550_model;

#endif
