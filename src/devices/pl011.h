/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_PL011_H
#define KVMBOX_DEVICES_PL011_H

#include "../snapshot.h"
#include "serial.h"
#include "../util/types.h"

/*
 * An ARM PrimeCell PL011 UART (r1p5), the console of the arm64 board (QEMU's virt machine
 * has it at 0x09000000, SPI 1). The model is pure, as uart16550: its two outlets are
 * callbacks, tx for bytes the guest sends and irq for the level of UARTINTR (the OR of
 * the masked interrupts). Thread-safe: vCPU threads and the console feeder both call it.
 */
struct pl011;

#define PL011_FIFO_SIZE 32     /* r1p5: 32 entries; 1 with the FIFOs off (LCR_H.FEN = 0) */
#define PL011_MMIO_SIZE 0x1000 /* the register window; the ID registers end it */

struct pl011 *pl011_new(const struct serial_host *host);
void pl011_free(struct pl011 *u);
/* The bus handler: offset within the 4 KiB window; 1, 2 or 4 bytes, naturally aligned. */
void pl011_mmio(void *opaque, u64 offset, u8 *data, u32 len, bool is_write);
/* Queues received bytes; returns how many fit in the receive FIFO (0 while RXE is off). */
size_t pl011_receive(struct pl011 *u, const u8 *buf, size_t len);
size_t pl011_rx_room(struct pl011 *u);
/* An eventfd that becomes readable when the guest may take more input (FIFO drained). */
int pl011_rx_wake_fd(struct pl011 *u);
void pl011_reset(struct pl011 *u);
int pl011_save(struct pl011 *u, struct snap_buf *sb);
int pl011_load(struct pl011 *u, struct snap_buf *sb);

/* The model as the serial console drives it (serial.h). */
extern const struct serial_model pl011_model;

#endif
