// SPDX-License-Identifier: GPL-2.0-only
/*
 * An ARM PrimeCell PL011 UART model (ARM DDI 0183, revision r1p5).
 *
 * Choices that differ from silicon because there is no baud clock here:
 *  - TX is instantaneous: a DR write goes straight to host->tx, so FR always says TXFE,
 *    never TXFF or BUSY. The TX interrupt keeps the TRM's edge rule: it is raised when
 *    the TX FIFO falls through its trigger level, which here is right after every DR
 *    write, not by enabling the UART or unmasking TXIM; only ICR clears it. Linux's
 *    driver writes until TXFF, unmasks TXIM while it has more to send and masks it when
 *    done, so it never waits for an edge; QEMU raises TX the same way.
 *  - The receive timeout has always elapsed: RT is raised as a character arrives and
 *    cleared by ICR or by emptying the FIFO. RX honours the IFLS trigger level (with the
 *    FIFOs off, one character). A driver that unmasks RXIM without RTIM would lose the
 *    tail of a burst on silicon too; Linux unmasks both.
 *  - Neither UARTEN nor TXE is needed to transmit, nor UARTEN to receive: Linux's
 *    earlycon, kvm-unit-tests and firmware written against QEMU use DR and FR on a UART
 *    nobody enabled, and QEMU serves them. RXE (set at reset) is honoured: while it is
 *    off (Linux clears it while the tty is closed) host input waits with the feeder
 *    instead of being flushed by the next open.
 *  - Loopback (CR.LBE): DR writes and a break (LCR_H.BRK) go to the receive FIFO rather
 *    than the host, the modem outputs to the modem inputs, and host input is refused.
 *    It is the one way characters arrive unasked, so the one way to overrun: the newest
 *    character in the full FIFO then carries OE. There are no framing or parity errors.
 *  - The modem inputs are a connected terminal: CTS, DSR and DCD asserted, RI not.
 *  - Reading an empty DR gives 0. DMACR and the IrDA bits are stored and do nothing.
 *
 * Locking: one mutex per UART. host->irq is called with it held, and only when the line
 * level changes; host->tx is called after it is dropped. Neither may call back in.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../bus.h"
#include "pl011.h"

enum {
	REG_DR = 0x000,
	REG_RSR_ECR = 0x004,
	REG_FR = 0x018,
	REG_ILPR = 0x020,
	REG_IBRD = 0x024,
	REG_FBRD = 0x028,
	REG_LCR_H = 0x02c,
	REG_CR = 0x030,
	REG_IFLS = 0x034,
	REG_IMSC = 0x038,
	REG_RIS = 0x03c,
	REG_MIS = 0x040,
	REG_ICR = 0x044,
	REG_DMACR = 0x048,
	REG_ID = 0xfe0, /* UARTPeriphID0-3, UARTPCellID0-3 */
};

#define DR_BE	     0x400
#define DR_OE	     0x800
#define RX_CHAR_MASK (0xff | DR_BE | DR_OE)

#define RSR_BE 0x4
#define RSR_OE 0x8

#define FR_CTS	0x001
#define FR_DSR	0x002
#define FR_DCD	0x004
#define FR_RXFE 0x010
#define FR_RXFF 0x040
#define FR_TXFE 0x080
#define FR_RI	0x100

#define LCR_BRK 0x01
#define LCR_FEN 0x10

#define CR_LBE	0x0080
#define CR_TXE	0x0100
#define CR_RXE	0x0200
#define CR_DTR	0x0400
#define CR_RTS	0x0800
#define CR_OUT1 0x1000
#define CR_OUT2 0x2000

#define IFLS_RESET 0x12 /* both trigger levels at half full */

#define INT_RI	0x001
#define INT_CTS 0x002
#define INT_DCD 0x004
#define INT_DSR 0x008
#define INT_RX	0x010
#define INT_TX	0x020
#define INT_RT	0x040
#define INT_FE	0x080
#define INT_PE	0x100
#define INT_BE	0x200
#define INT_OE	0x400
#define INT_ALL 0x7ff

/*
 * Linux and EDK2 take the FIFO depth from the revision in PeriphID2 (bits 7:4): below 3
 * they assume 16 entries, so the 32-entry FIFO must say r1p5 (3), not QEMU's 0x14.
 */
static const u8 pl011_id[8] = {0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

/* The registers kept as values, in snapshot order, with the bits each can hold. */
enum { R_ILPR, R_IBRD, R_FBRD, R_LCR_H, R_CR, R_IFLS, R_IMSC, R_DMACR, R_RIS, R_RSR, R_NR };
#define R_NR_PLAIN R_RIS /* those below it are written as they are stored */

static const struct {
	u16 offset;
	u16 mask;
} regs[R_NR] = {
	[R_ILPR] = {REG_ILPR, 0xff},
	[R_IBRD] = {REG_IBRD, 0xffff},
	[R_FBRD] = {REG_FBRD, 0x3f},
	[R_LCR_H] = {REG_LCR_H, 0xff},
	[R_CR] = {REG_CR, 0xff87},
	[R_IFLS] = {REG_IFLS, 0x3f},
	[R_IMSC] = {REG_IMSC, INT_ALL},
	[R_DMACR] = {REG_DMACR, 0x07},
	/* Read-only: what this model can raise, and the receive errors it can record. */
	[R_RIS] = {REG_RIS, INT_ALL & ~(INT_FE | INT_PE)},
	[R_RSR] = {REG_RSR_ECR, RSR_BE | RSR_OE},
};

#define SNAP_VERSION 1

struct pl011 {
	pthread_mutex_t lock;
	struct serial_host host;
	int wake_fd;
	u32 r[R_NR];
	bool irq_level;
	u16 rx[PL011_FIFO_SIZE]; /* a character and its DR error bits */
	unsigned int rx_head, rx_count;
};

static bool fifo_on(const struct pl011 *u)
{
	return u->r[R_LCR_H] & LCR_FEN;
}

static bool loopback(const struct pl011 *u)
{
	return u->r[R_CR] & CR_LBE;
}

/* Whether host input is taken: the receiver is on and connected to the outside. */
static bool rx_open(const struct pl011 *u)
{
	return (u->r[R_CR] & CR_RXE) && !loopback(u);
}

static unsigned int rx_capacity(const struct pl011 *u)
{
	return fifo_on(u) ? PL011_FIFO_SIZE : 1;
}

/* IFLS.RXIFLSEL: 1/8, 1/4, 1/2, 3/4, 7/8 full; the reserved codes act as 7/8. */
static unsigned int rx_trigger(const struct pl011 *u)
{
	static const u8 eighths[] = {1, 2, 4, 6, 7};
	unsigned int sel = (u->r[R_IFLS] >> 3) & 7;

	if (!fifo_on(u))
		return 1;
	return PL011_FIFO_SIZE * eighths[MIN(sel, 4u)] / 8;
}

/* The feeder sleeps on this once the FIFO is full or closed; tell it to offer more. */
static void wake_feeder(struct pl011 *u)
{
	eventfd_write(u->wake_fd, 1);
}

static void rx_push(struct pl011 *u, u16 ch)
{
	u->rx[(u->rx_head + u->rx_count) % PL011_FIFO_SIZE] = ch;
	u->rx_count++;
	u->r[R_RIS] |= INT_RT;
	if (u->rx_count >= rx_trigger(u))
		u->r[R_RIS] |= INT_RX;
}

static u16 rx_pop(struct pl011 *u)
{
	u16 ch;

	if (u->rx_count == 0)
		return 0;
	ch = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % PL011_FIFO_SIZE;
	u->rx_count--;
	/* RSR keeps the errors of the characters read until ECR is written. */
	u->r[R_RSR] |= ch >> 8;
	if (u->rx_count < rx_trigger(u))
		u->r[R_RIS] &= ~INT_RX;
	if (u->rx_count == 0) {
		u->r[R_RIS] &= ~INT_RT;
		wake_feeder(u);
	}
	return ch;
}

static void rx_flush(struct pl011 *u)
{
	u->rx_head = u->rx_count = 0;
	u->r[R_RIS] &= ~(INT_RX | INT_RT);
	wake_feeder(u);
}

/* A character on the loopback path: received only with RXE; a full FIFO overruns. */
static void loop_in(struct pl011 *u, u16 ch)
{
	if (!(u->r[R_CR] & CR_RXE))
		return;
	if (u->rx_count == rx_capacity(u)) {
		u->rx[(u->rx_head + u->rx_count - 1) % PL011_FIFO_SIZE] |= DR_OE;
		u->r[R_RSR] |= RSR_OE;
		u->r[R_RIS] |= INT_OE;
		return;
	}
	rx_push(u, ch);
	if (ch & DR_BE)
		u->r[R_RIS] |= INT_BE;
}

/* The modem inputs in FR's bits: a terminal, or in loopback the CR outputs. */
static u32 modem_status(const struct pl011 *u)
{
	u32 cr = u->r[R_CR], s = 0;

	if (!loopback(u))
		return FR_CTS | FR_DSR | FR_DCD;
	if (cr & CR_DTR)
		s |= FR_DSR;
	if (cr & CR_RTS)
		s |= FR_CTS;
	if (cr & CR_OUT1)
		s |= FR_DCD;
	if (cr & CR_OUT2)
		s |= FR_RI;
	return s;
}

/* The modem interrupts for the inputs that changed (either edge, as the TRM has it). */
static u32 modem_changes(u32 changed)
{
	return (changed & FR_RI ? INT_RI : 0) | (changed & FR_CTS ? INT_CTS : 0) |
	       (changed & FR_DCD ? INT_DCD : 0) | (changed & FR_DSR ? INT_DSR : 0);
}

static u32 fr_value(const struct pl011 *u)
{
	u32 fr = FR_TXFE | modem_status(u);

	if (u->rx_count == 0)
		fr |= FR_RXFE;
	if (u->rx_count == rx_capacity(u))
		fr |= FR_RXFF;
	return fr;
}

static void update_irq(struct pl011 *u, bool force)
{
	bool level = (u->r[R_RIS] & u->r[R_IMSC]) != 0;

	if (level == u->irq_level && !force)
		return;
	u->irq_level = level;
	if (u->host.irq)
		u->host.irq(u->host.opaque, level);
}

static void write_lcr_h(struct pl011 *u, u32 val)
{
	u32 old = u->r[R_LCR_H];

	u->r[R_LCR_H] = val & regs[R_LCR_H].mask;
	/* Switching the FIFOs on or off empties them, as in QEMU: the depth changes. */
	if ((old ^ val) & LCR_FEN)
		rx_flush(u);
	if (!(old & LCR_BRK) && (val & LCR_BRK) && loopback(u))
		loop_in(u, DR_BE);
}

static void write_cr(struct pl011 *u, u32 val)
{
	bool was_open = rx_open(u);
	u32 before = modem_status(u);

	u->r[R_CR] = val & regs[R_CR].mask;
	u->r[R_RIS] |= modem_changes(before ^ modem_status(u));
	if (!was_open && rx_open(u))
		wake_feeder(u);
}

/* Returns true if ch must go out to the host. */
static bool write_dr(struct pl011 *u, u8 ch)
{
	/* The byte leaves the TX FIFO at once: the FIFO falls through its trigger level. */
	u->r[R_RIS] |= INT_TX;
	if (!loopback(u))
		return true;
	loop_in(u, ch);
	return false;
}

/* The index in r[] of the register at offset off, or -1. */
static int reg_index(unsigned int off)
{
	for (int i = 0; i < R_NR; i++)
		if (regs[i].offset == off)
			return i;
	return -1;
}

/* What a write leaves in the bytes it does not cover: the stored value, or nothing. */
static u32 write_base(const struct pl011 *u, unsigned int off)
{
	int i = reg_index(off);

	return i >= 0 && i < R_NR_PLAIN ? u->r[i] : 0;
}

static u32 reg_read(struct pl011 *u, unsigned int off)
{
	int i;

	switch (off) {
	case REG_DR:
		return rx_pop(u);
	case REG_FR:
		return fr_value(u);
	case REG_MIS:
		return u->r[R_RIS] & u->r[R_IMSC];
	}
	if (off >= REG_ID)
		return pl011_id[(off - REG_ID) / 4];
	i = reg_index(off);
	return i >= 0 ? u->r[i] : 0; /* ICR is write-only; the gaps read as zero */
}

/* lane0: the access covers bits 7:0, where DR's data byte is. */
static bool reg_write(struct pl011 *u, unsigned int off, u32 val, bool lane0)
{
	int i;

	switch (off) {
	case REG_DR:
		return lane0 && write_dr(u, (u8)val);
	case REG_RSR_ECR:
		u->r[R_RSR] = 0;
		return false;
	case REG_ICR:
		u->r[R_RIS] &= ~val;
		return false;
	case REG_LCR_H:
		write_lcr_h(u, val);
		return false;
	case REG_CR:
		write_cr(u, val);
		return false;
	}
	i = reg_index(off);
	if (i >= 0 && i < R_NR_PLAIN)
		u->r[i] = val & regs[i].mask;
	return false;
}

/*
 * Registers are 32 bits wide; Linux uses 16-bit accessors (32-bit with reg-io-width = 4)
 * and earlycon and kvm-unit-tests 8-bit ones on DR and FR. A narrower access reads its
 * bytes of the register (with the register's side effects: any read of DR pops) and
 * writes them over the stored value. Anything else (other widths, unaligned, outside
 * the window) reads as zero and is ignored.
 */
void pl011_mmio(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct pl011 *u = opaque;
	unsigned int off = (unsigned int)(offset & ~3ull), shift = (unsigned int)(offset & 3) * 8;
	bool valid =
		(len == 1 || len == 2 || len == 4) && offset < PL011_MMIO_SIZE && offset % len == 0;
	bool out = false;
	u8 ch = 0;

	if (!valid) {
		if (!is_write)
			memset(data, 0, MIN(len, 8u));
		return;
	}
	pthread_mutex_lock(&u->lock);
	if (is_write) {
		u32 lanes = (u32)((1ull << (8 * len)) - 1) << shift;
		u32 val = (write_base(u, off) & ~lanes) | ((u32)io_data_get(data, len) << shift);

		ch = (u8)val;
		out = reg_write(u, off, val, shift == 0);
	} else {
		io_data_put(data, len, reg_read(u, off) >> shift);
	}
	update_irq(u, false);
	pthread_mutex_unlock(&u->lock);
	if (out && u->host.tx)
		u->host.tx(u->host.opaque, &ch, 1);
}

/*
 * Host input is flow-controlled: what does not fit stays with the caller, which retries
 * when the wake fd fires, so host input never overruns.
 */
size_t pl011_receive(struct pl011 *u, const u8 *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	if (rx_open(u)) {
		n = MIN(len, (size_t)(rx_capacity(u) - u->rx_count));
		for (size_t i = 0; i < n; i++)
			rx_push(u, buf[i]);
	}
	update_irq(u, false);
	pthread_mutex_unlock(&u->lock);
	return n;
}

size_t pl011_rx_room(struct pl011 *u)
{
	size_t room = 0;

	pthread_mutex_lock(&u->lock);
	if (rx_open(u))
		room = rx_capacity(u) - u->rx_count;
	pthread_mutex_unlock(&u->lock);
	return room;
}

int pl011_rx_wake_fd(struct pl011 *u)
{
	return u->wake_fd;
}

static void reset_locked(struct pl011 *u)
{
	memset(u->r, 0, sizeof(u->r));
	u->r[R_CR] = CR_RXE | CR_TXE;
	u->r[R_IFLS] = IFLS_RESET;
	u->rx_head = u->rx_count = 0;
	wake_feeder(u);
	update_irq(u, false);
}

void pl011_reset(struct pl011 *u)
{
	pthread_mutex_lock(&u->lock);
	reset_locked(u);
	pthread_mutex_unlock(&u->lock);
}

struct pl011 *pl011_new(const struct serial_host *host)
{
	struct pl011 *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (u->wake_fd < 0) {
		free(u);
		return NULL;
	}
	pthread_mutex_init(&u->lock, NULL);
	u->host = *host;
	reset_locked(u);
	return u;
}

void pl011_free(struct pl011 *u)
{
	if (!u)
		return;
	close(u->wake_fd);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

/*
 * Snapshot layout (version 1), all u32: r[] in enum order, rx_count, then the FIFO's
 * PL011_FIFO_SIZE slots oldest first, the unused ones 0.
 */
#define SNAP_COUNT  R_NR
#define SNAP_FIFO   (R_NR + 1)
#define SNAP_NWORDS (SNAP_FIFO + PL011_FIFO_SIZE)

static void snap_fill(const struct pl011 *u, u32 *s)
{
	memset(s, 0, SNAP_NWORDS * sizeof(*s));
	memcpy(s, u->r, sizeof(u->r));
	s[SNAP_COUNT] = u->rx_count;
	for (unsigned int i = 0; i < u->rx_count; i++)
		s[SNAP_FIFO + i] = u->rx[(u->rx_head + i) % PL011_FIFO_SIZE];
}

int pl011_save(struct pl011 *u, struct snap_buf *sb)
{
	u32 s[SNAP_NWORDS];

	pthread_mutex_lock(&u->lock);
	snap_fill(u, s);
	pthread_mutex_unlock(&u->lock);

	snap_begin_section(sb, "pl011", SNAP_VERSION);
	for (size_t i = 0; i < SNAP_NWORDS; i++)
		snap_put_u32(sb, s[i]);
	return sb->error ? -ENOMEM : 0;
}

/* A slot holds a character with at most BE (then the character is 0) and OE. */
static bool snap_fifo_valid(const u32 *s, u32 count)
{
	for (u32 i = 0; i < PL011_FIFO_SIZE; i++) {
		u32 ch = s[SNAP_FIFO + i];

		if ((ch & ~RX_CHAR_MASK) || ((ch & DR_BE) && (ch & 0xff)) || (i >= count && ch))
			return false;
	}
	return true;
}

/*
 * Only states the registers could reach: no reserved bits, no overfull FIFO, no RX or RT
 * interrupt without data (emptying the FIFO clears both).
 */
static bool snap_valid(const u32 *s)
{
	u32 count = s[SNAP_COUNT];

	for (int i = 0; i < R_NR; i++)
		if (s[i] & ~(u32)regs[i].mask)
			return false;
	if (count > ((s[R_LCR_H] & LCR_FEN) ? PL011_FIFO_SIZE : 1))
		return false;
	if (count == 0 && (s[R_RIS] & (INT_RX | INT_RT)))
		return false;
	return snap_fifo_valid(s, count);
}

int pl011_load(struct pl011 *u, struct snap_buf *sb)
{
	u32 s[SNAP_NWORDS];

	if (snap_open_section(sb, "pl011") != SNAP_VERSION)
		return -EINVAL;
	for (size_t i = 0; i < SNAP_NWORDS; i++)
		if (!snap_get_u32(sb, &s[i]))
			return -EINVAL;
	if (!snap_valid(s))
		return -EINVAL;

	pthread_mutex_lock(&u->lock);
	memcpy(u->r, s, sizeof(u->r));
	u->rx_head = 0;
	u->rx_count = s[SNAP_COUNT];
	for (unsigned int i = 0; i < PL011_FIFO_SIZE; i++)
		u->rx[i] = (u16)s[SNAP_FIFO + i];
	/* The line may not match our cached level after a restore: drive it regardless. */
	update_irq(u, true);
	wake_feeder(u);
	pthread_mutex_unlock(&u->lock);
	return 0;
}

/* The serial_model adapters: the model's own functions, behind void pointers. */
static void *model_create(const struct serial_host *host)
{
	return pl011_new(host);
}

static void model_destroy(void *uart)
{
	pl011_free(uart);
}

static size_t model_receive(void *uart, const u8 *buf, size_t len)
{
	return pl011_receive(uart, buf, len);
}

static int model_rx_wake_fd(void *uart)
{
	return pl011_rx_wake_fd(uart);
}

static void model_reset(void *uart)
{
	pl011_reset(uart);
}

static int model_save(void *uart, struct snap_buf *sb)
{
	return pl011_save(uart, sb);
}

static int model_load(void *uart, struct snap_buf *sb)
{
	return pl011_load(uart, sb);
}

const struct serial_model pl011_model = {
	.name = "pl011",
	.create = model_create,
	.destroy = model_destroy,
	.io = pl011_mmio,
	.receive = model_receive,
	.rx_wake_fd = model_rx_wake_fd,
	.reset = model_reset,
	.save = model_save,
	.load = model_load,
};
