// SPDX-License-Identifier: GPL-2.0-only
/*
 * A 16550A UART model.
 *
 * Choices that differ from silicon because there is no baud clock here:
 *  - TX is instantaneous: a THR write goes straight to host->tx, so THRE and TEMT never
 *    drop. The THRE interrupt still follows the 16550 rules (set when THR empties and on
 *    an ETBEI 0->1 edge; cleared by an IIR read that reports it or by a THR write).
 *  - The RX trigger level is honoured for IIR 0x4; data below the trigger level reports
 *    the character timeout (IIR 0xC) at once, as if the four idle character times had
 *    already elapsed. Either way any pending byte interrupts when ERBFI is set.
 *  - In 16450 mode (FIFOs off) the receiver holds a single byte.
 *  - The IRQ output is gated by MCR OUT2 as on PC boards: a guest that never sets OUT2
 *    must poll. Loopback does not additionally gate it.
 *  - Host input is refused while in loopback (SIN is disconnected); receive() then
 *    accepts nothing instead of dropping bytes, and the feeder is woken on leaving it.
 *
 * Locking: one mutex per UART. host->irq is called with it held, and only when the line
 * level changes; host->tx is called after it is dropped. Neither may call back in.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../bus.h"
#include "../util/log.h"
#include "../vm.h"
#include "uart16550.h"

enum { REG_RBR_THR, REG_IER, REG_IIR_FCR, REG_LCR, REG_MCR, REG_LSR, REG_MSR, REG_SCR };

#define IER_ERBFI 0x01
#define IER_ETBEI 0x02
#define IER_ELSI  0x04
#define IER_EDSSI 0x08
#define IER_MASK  0x0f

#define IIR_NONE      0x01
#define IIR_MSR	      0x00
#define IIR_THRE      0x02
#define IIR_RDA	      0x04
#define IIR_RLS	      0x06
#define IIR_TIMEOUT   0x0c
#define IIR_ID_MASK   0x0f
#define IIR_FIFO_BITS 0xc0

#define FCR_ENABLE   0x01
#define FCR_RX_RESET 0x02
#define FCR_DMA	     0x08
#define FCR_TRIGGER  0xc0
#define FCR_STORED   (FCR_ENABLE | FCR_DMA | FCR_TRIGGER)

#define LCR_DLAB 0x80

#define MCR_DTR	 0x01
#define MCR_RTS	 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f

#define LSR_DR	 0x01
#define LSR_OE	 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_DELTA_MASK 0x0f
#define MSR_CTS	       0x10
#define MSR_DSR	       0x20
#define MSR_RI	       0x40
#define MSR_DCD	       0x80

#define SNAP_VERSION 1

struct uart16550 {
	pthread_mutex_t lock;
	struct serial_host host;
	int wake_fd;
	u8 ier, lcr, mcr, fcr, scr, dll, dlm;
	u8 lsr_err; /* LSR_OE until the next LSR read */
	u8 msr_delta;
	u8 rbr;		 /* what an empty RBR read returns: the last byte, as on silicon */
	u8 thre_pending; /* a byte so that snapshots can check it is 0 or 1 */
	bool irq_level;
	u8 rx[UART16550_FIFO_SIZE];
	unsigned int rx_head, rx_count;
};

static bool fifo_on(const struct uart16550 *u)
{
	return u->fcr & FCR_ENABLE;
}

static unsigned int rx_capacity(const struct uart16550 *u)
{
	return fifo_on(u) ? UART16550_FIFO_SIZE : 1;
}

static unsigned int rx_trigger(const struct uart16550 *u)
{
	static const u8 levels[] = {1, 4, 8, 14};

	return levels[u->fcr >> 6];
}

/* The feeder sleeps on this once the FIFO is full; tell it there is room again. */
static void wake_feeder(struct uart16550 *u)
{
	eventfd_write(u->wake_fd, 1);
}

static void rx_push(struct uart16550 *u, u8 byte)
{
	if (u->rx_count >= rx_capacity(u)) {
		u->lsr_err |= LSR_OE;
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % UART16550_FIFO_SIZE] = byte;
	u->rx_count++;
}

static u8 rx_pop(struct uart16550 *u)
{
	if (u->rx_count == 0)
		return u->rbr;
	u->rbr = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART16550_FIFO_SIZE;
	if (--u->rx_count == 0)
		wake_feeder(u);
	return u->rbr;
}

static void rx_clear(struct uart16550 *u)
{
	bool had_data = u->rx_count != 0;

	u->rx_head = u->rx_count = 0;
	if (had_data)
		wake_feeder(u);
}

/* The modem inputs: a connected terminal, or in loopback the MCR outputs. */
static u8 msr_status(const struct uart16550 *u)
{
	u8 s = 0;

	if (!(u->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	if (u->mcr & MCR_DTR)
		s |= MSR_DSR;
	if (u->mcr & MCR_RTS)
		s |= MSR_CTS;
	if (u->mcr & MCR_OUT1)
		s |= MSR_RI;
	if (u->mcr & MCR_OUT2)
		s |= MSR_DCD;
	return s;
}

/* The highest-priority pending source, with the FIFO-enabled bits. */
static u8 iir_value(const struct uart16550 *u)
{
	u8 fifo = fifo_on(u) ? IIR_FIFO_BITS : 0;

	if ((u->ier & IER_ELSI) && u->lsr_err)
		return fifo | IIR_RLS;
	if ((u->ier & IER_ERBFI) && u->rx_count) {
		if (fifo_on(u) && u->rx_count < rx_trigger(u))
			return fifo | IIR_TIMEOUT;
		return fifo | IIR_RDA;
	}
	if ((u->ier & IER_ETBEI) && u->thre_pending)
		return fifo | IIR_THRE;
	if ((u->ier & IER_EDSSI) && (u->msr_delta & MSR_DELTA_MASK))
		return fifo | IIR_MSR;
	return fifo | IIR_NONE;
}

static void update_irq(struct uart16550 *u, bool force)
{
	bool level = !(iir_value(u) & IIR_NONE) && (u->mcr & MCR_OUT2);

	if (level == u->irq_level && !force)
		return;
	u->irq_level = level;
	if (u->host.irq)
		u->host.irq(u->host.opaque, level);
}

static void write_ier(struct uart16550 *u, u8 val)
{
	u8 old = u->ier;

	u->ier = val & IER_MASK;
	/* THR is always empty, so enabling ETBEI always asserts THRE (Linux probes this). */
	if (!(old & IER_ETBEI) && (u->ier & IER_ETBEI))
		u->thre_pending = true;
}

static void write_fcr(struct uart16550 *u, u8 val)
{
	/* Toggling the enable bit empties both FIFOs; without it the other bits are ignored. */
	if ((val ^ u->fcr) & FCR_ENABLE)
		rx_clear(u);
	if (!(val & FCR_ENABLE)) {
		u->fcr = 0;
		return;
	}
	if (val & FCR_RX_RESET)
		rx_clear(u);
	/* A TX FIFO reset has nothing to do: the transmitter never holds a byte. */
	u->fcr = val & FCR_STORED;
}

static void write_mcr(struct uart16550 *u, u8 val)
{
	u8 before = msr_status(u), after, changed;
	bool was_loop = u->mcr & MCR_LOOP;

	u->mcr = val & MCR_MASK;
	after = msr_status(u);
	changed = before ^ after;
	u->msr_delta |= (changed & (MSR_CTS | MSR_DSR | MSR_DCD)) >> 4;
	u->msr_delta |= (before & ~after & MSR_RI) >> 4; /* TERI: trailing edge only */
	if (was_loop && !(u->mcr & MCR_LOOP))
		wake_feeder(u);
}

/* Returns true if val must go out to the host. */
static bool write_thr(struct uart16550 *u, u8 val)
{
	/* The byte leaves THR at once, so THR is empty again: THRE re-asserts. */
	u->thre_pending = true;
	if (!(u->mcr & MCR_LOOP))
		return true;
	rx_push(u, val);
	return false;
}

static void reg_write(struct uart16550 *u, unsigned int reg, u8 val, u8 *out, size_t *nout)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_RBR_THR:
		if (dlab)
			u->dll = val;
		else if (write_thr(u, val))
			out[(*nout)++] = val;
		break;
	case REG_IER:
		if (dlab)
			u->dlm = val;
		else
			write_ier(u, val);
		break;
	case REG_IIR_FCR:
		write_fcr(u, val);
		break;
	case REG_LCR:
		u->lcr = val;
		break;
	case REG_MCR:
		write_mcr(u, val);
		break;
	case REG_SCR:
		u->scr = val;
		break;
	default: /* LSR and MSR writes are factory-test only on the 16550 */
		break;
	}
}

static u8 read_iir(struct uart16550 *u)
{
	u8 iir = iir_value(u);

	if ((iir & IIR_ID_MASK) == IIR_THRE)
		u->thre_pending = false;
	return iir;
}

static u8 read_lsr(struct uart16550 *u)
{
	u8 lsr = LSR_THRE | LSR_TEMT | u->lsr_err;

	if (u->rx_count)
		lsr |= LSR_DR;
	u->lsr_err = 0;
	return lsr;
}

static u8 read_msr(struct uart16550 *u)
{
	u8 msr = msr_status(u) | u->msr_delta;

	u->msr_delta = 0;
	return msr;
}

static u8 reg_read(struct uart16550 *u, unsigned int reg)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_RBR_THR:
		return dlab ? u->dll : rx_pop(u);
	case REG_IER:
		return dlab ? u->dlm : u->ier;
	case REG_IIR_FCR:
		return read_iir(u);
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		return read_lsr(u);
	case REG_MSR:
		return read_msr(u);
	default:
		return u->scr;
	}
}

/* Wider accesses act byte by byte on consecutive registers, as the ISA bus splits them. */
void uart16550_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct uart16550 *u = opaque;
	u8 out[8];
	size_t nout = 0;

	len = MIN(len, 8u);
	pthread_mutex_lock(&u->lock);
	for (u32 i = 0; i < len; i++) {
		bool mapped = offset < 8 && i < 8 - offset;

		if (is_write && mapped)
			reg_write(u, (unsigned int)(offset + i), data[i], out, &nout);
		else if (!is_write)
			data[i] = mapped ? reg_read(u, (unsigned int)(offset + i)) : 0xff;
	}
	update_irq(u, false);
	pthread_mutex_unlock(&u->lock);
	if (nout && u->host.tx)
		u->host.tx(u->host.opaque, out, nout);
}

/*
 * Host input is flow-controlled: what does not fit stays with the caller, which retries
 * when the wake fd fires, so nothing is lost and no overrun is flagged (Linux would turn
 * OE into a spurious NUL in the tty). Overruns come from loopback into a full FIFO.
 */
size_t uart16550_receive(struct uart16550 *u, const u8 *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	if (!(u->mcr & MCR_LOOP)) {
		n = MIN(len, (size_t)(rx_capacity(u) - u->rx_count));
		for (size_t i = 0; i < n; i++)
			rx_push(u, buf[i]);
	}
	update_irq(u, false);
	pthread_mutex_unlock(&u->lock);
	return n;
}

size_t uart16550_rx_room(struct uart16550 *u)
{
	size_t room = 0;

	pthread_mutex_lock(&u->lock);
	if (!(u->mcr & MCR_LOOP))
		room = rx_capacity(u) - u->rx_count;
	pthread_mutex_unlock(&u->lock);
	return room;
}

int uart16550_rx_wake_fd(struct uart16550 *u)
{
	return u->wake_fd;
}

static void reset_locked(struct uart16550 *u)
{
	u->ier = u->lcr = u->mcr = u->fcr = u->scr = 0;
	u->dll = 0x0c; /* 9600 baud from the PC's 1.8432 MHz clock */
	u->dlm = 0;
	u->lsr_err = u->msr_delta = u->rbr = 0;
	u->thre_pending = false;
	u->rx_head = u->rx_count = 0;
	wake_feeder(u);
	update_irq(u, false);
}

void uart16550_reset(struct uart16550 *u)
{
	pthread_mutex_lock(&u->lock);
	reset_locked(u);
	pthread_mutex_unlock(&u->lock);
}

struct uart16550 *uart16550_new(const struct serial_host *host)
{
	struct uart16550 *u = calloc(1, sizeof(*u));

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

void uart16550_free(struct uart16550 *u)
{
	if (!u)
		return;
	close(u->wake_fd);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

/*
 * Snapshot layout (version 1): these fields a byte each, then rx_count, then the FIFO's
 * 16 slots oldest first.
 */
#define FIELD(f) offsetof(struct uart16550, f)
static const size_t snap_fields[] = {
	FIELD(ier), FIELD(lcr),	    FIELD(mcr),	      FIELD(fcr), FIELD(scr),	       FIELD(dll),
	FIELD(dlm), FIELD(lsr_err), FIELD(msr_delta), FIELD(rbr), FIELD(thre_pending),
};
#define SNAP_NR_FIELDS ARRAY_SIZE(snap_fields)
#define SNAP_LEN       (SNAP_NR_FIELDS + 1 + UART16550_FIFO_SIZE)

int uart16550_save(struct uart16550 *u, struct snap_buf *sb)
{
	u8 s[SNAP_LEN] = {0};

	pthread_mutex_lock(&u->lock);
	for (size_t i = 0; i < SNAP_NR_FIELDS; i++)
		s[i] = *((u8 *)u + snap_fields[i]);
	s[SNAP_NR_FIELDS] = (u8)u->rx_count;
	for (unsigned int i = 0; i < u->rx_count; i++)
		s[SNAP_NR_FIELDS + 1 + i] = u->rx[(u->rx_head + i) % UART16550_FIFO_SIZE];
	pthread_mutex_unlock(&u->lock);

	snap_begin_section(sb, "uart16550", SNAP_VERSION);
	snap_put(sb, s, sizeof(s));
	return sb->error ? -ENOMEM : 0;
}

static void snap_apply(struct uart16550 *u, const u8 *s)
{
	for (size_t i = 0; i < SNAP_NR_FIELDS; i++)
		*((u8 *)u + snap_fields[i]) = s[i];
	u->rx_head = 0;
	u->rx_count = s[SNAP_NR_FIELDS];
	memcpy(u->rx, s + SNAP_NR_FIELDS + 1, UART16550_FIFO_SIZE);
}

/* Only states the registers themselves could reach: no reserved bits, no FIFO overflow. */
static bool snap_valid(const struct uart16550 *t)
{
	return !(t->ier & ~IER_MASK) && !(t->mcr & ~MCR_MASK) && !(t->fcr & ~FCR_STORED) &&
	       (fifo_on(t) || !t->fcr) && !(t->lsr_err & ~LSR_OE) &&
	       !(t->msr_delta & ~MSR_DELTA_MASK) && t->thre_pending <= 1 &&
	       t->rx_count <= rx_capacity(t);
}

int uart16550_load(struct uart16550 *u, struct snap_buf *sb)
{
	struct uart16550 t = {0};
	u8 s[SNAP_LEN];

	if (snap_open_section(sb, "uart16550") != SNAP_VERSION || !snap_get(sb, s, sizeof(s)))
		return -EINVAL;
	snap_apply(&t, s);
	if (!snap_valid(&t))
		return -EINVAL;

	pthread_mutex_lock(&u->lock);
	snap_apply(u, s);
	/* The line may not match our cached level after a restore: drive it regardless. */
	update_irq(u, true);
	wake_feeder(u);
	pthread_mutex_unlock(&u->lock);
	return 0;
}

/* The serial_model adapters: the model's own functions, behind void pointers. */
static void *model_create(const struct serial_host *host)
{
	return uart16550_new(host);
}

static void model_destroy(void *uart)
{
	uart16550_free(uart);
}

static size_t model_receive(void *uart, const u8 *buf, size_t len)
{
	return uart16550_receive(uart, buf, len);
}

static int model_rx_wake_fd(void *uart)
{
	return uart16550_rx_wake_fd(uart);
}

static void model_reset(void *uart)
{
	uart16550_reset(uart);
}

static int model_save(void *uart, struct snap_buf *sb)
{
	return uart16550_save(uart, sb);
}

static int model_load(void *uart, struct snap_buf *sb)
{
	return uart16550_load(uart, sb);
}

const struct serial_model uart16550_model = {
	.name = "uart16550",
	.create = model_create,
	.destroy = model_destroy,
	.io = uart16550_io,
	.receive = model_receive,
	.rx_wake_fd = model_rx_wake_fd,
	.reset = model_reset,
	.save = model_save,
	.load = model_load,
};
