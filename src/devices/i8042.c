// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "i8042.h"
#include "../bus.h"
#include "../util/log.h"
#include "../vm.h"

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT	0x64
#define I8042_IRQ_KBD	1
#define I8042_IRQ_AUX	12

/* Status register. */
#define STS_OBF	     BIT(0)
#define STS_SYS	     BIT(2)
#define STS_CMD	     BIT(3) /* the last write went to the command port */
#define STS_UNLOCKED BIT(4) /* keyboard not inhibited by a key lock */
#define STS_AUX_DATA BIT(5)
#define STS_TIMEOUT  BIT(6)

/* Command byte (controller RAM byte 0). */
#define CTR_KBD_INT BIT(0)
#define CTR_AUX_INT BIT(1)
#define CTR_SYS	    BIT(2)
#define CTR_KBD_DIS BIT(4)
#define CTR_AUX_DIS BIT(5)
#define CTR_XLATE   BIT(6)
/* As firmware leaves it: POST passed, keyboard on with translation, mouse off. */
#define CTR_POWER_ON (CTR_KBD_INT | CTR_SYS | CTR_AUX_DIS | CTR_XLATE)

/* Output port. */
#define OUTPORT_RESET_HIGH BIT(0) /* low holds the CPU in reset */
#define OUTPORT_A20	   BIT(1)
#define OUTPORT_POWER_ON   (OUTPORT_RESET_HIGH | OUTPORT_A20)

#define CMD_READ_RAM	   0x20 /* 0x20-0x3f */
#define CMD_WRITE_RAM	   0x60 /* 0x60-0x7f, then a data byte */
#define CMD_RAM_MASK	   0x1f
#define CMD_AUX_DISABLE	   0xa7
#define CMD_AUX_ENABLE	   0xa8
#define CMD_AUX_TEST	   0xa9
#define CMD_SELF_TEST	   0xaa
#define CMD_KBD_TEST	   0xab
#define CMD_KBD_DISABLE	   0xad
#define CMD_KBD_ENABLE	   0xae
#define CMD_READ_OUTPORT   0xd0
#define CMD_WRITE_OUTPORT  0xd1
#define CMD_WRITE_KBD_OBUF 0xd2
#define CMD_WRITE_AUX_OBUF 0xd3
#define CMD_WRITE_AUX	   0xd4
#define CMD_PULSE	   0xf0 /* 0xf0-0xff: low nibble clear bits pulse output port bits */

#define SELF_TEST_OK 0x55
#define PORT_TEST_OK 0x00
/* What a send to an empty port yields: an error byte flagged as a timeout. */
#define NO_DEVICE_BYTE 0xfe

#define I8042_SNAP_VERSION 1

struct i8042 {
	struct device dev;
	pthread_mutex_t lock;
	u8 ram[32]; /* ram[0] is the command byte */
	u8 out;	    /* output buffer; keeps its value after being read */
	bool obf;
	bool out_aux; /* the byte came from (or on behalf of) the mouse port */
	bool out_timeout;
	bool last_was_cmd;
	u8 pending; /* command waiting for its data byte, or 0 */
	u8 outport;
	struct irq_line irq_kbd, irq_aux; /* the levels last driven */
};

static void i8042_update_irqs(struct i8042 *k)
{
	u8 ctr = k->ram[0];
	bool kbd = k->obf && !k->out_aux && (ctr & CTR_KBD_INT);
	bool aux = k->obf && k->out_aux && (ctr & CTR_AUX_INT);

	vm_irq_line_set(k->dev.vm, &k->irq_kbd, kbd);
	vm_irq_line_set(k->dev.vm, &k->irq_aux, aux);
}

/* A new byte replaces an unread one: the OS drains the buffer before each command anyway. */
static void i8042_put(struct i8042 *k, u8 byte, bool aux, bool timeout)
{
	k->out = byte;
	k->obf = true;
	k->out_aux = aux;
	k->out_timeout = timeout;
}

static u8 i8042_status(const struct i8042 *k)
{
	u8 s = STS_UNLOCKED;

	if (k->obf)
		s |= STS_OBF | (k->out_aux ? STS_AUX_DATA : 0);
	if (k->out_timeout)
		s |= STS_TIMEOUT;
	if (k->ram[0] & CTR_SYS)
		s |= STS_SYS;
	if (k->last_was_cmd)
		s |= STS_CMD;
	return s;
}

static u8 i8042_read_data(struct i8042 *k)
{
	k->obf = false;
	k->out_timeout = false;
	return k->out;
}

static void i8042_set_ctr_bit(struct i8042 *k, u8 bit, bool set)
{
	if (set)
		k->ram[0] |= bit;
	else
		k->ram[0] &= (u8)~bit;
}

/* Returns true when the command asks for a CPU reset. */
static bool i8042_command(struct i8042 *k, u8 cmd)
{
	k->pending = 0;
	if ((cmd & ~CMD_RAM_MASK) == CMD_READ_RAM) {
		i8042_put(k, k->ram[cmd & CMD_RAM_MASK], false, false);
		return false;
	}
	if ((cmd & ~CMD_RAM_MASK) == CMD_WRITE_RAM) {
		k->pending = cmd;
		return false;
	}
	if (cmd >= CMD_PULSE)
		return !(cmd & OUTPORT_RESET_HIGH);

	switch (cmd) {
	case CMD_AUX_DISABLE:
	case CMD_AUX_ENABLE:
		i8042_set_ctr_bit(k, CTR_AUX_DIS, cmd == CMD_AUX_DISABLE);
		break;
	case CMD_KBD_DISABLE:
	case CMD_KBD_ENABLE:
		i8042_set_ctr_bit(k, CTR_KBD_DIS, cmd == CMD_KBD_DISABLE);
		break;
	case CMD_SELF_TEST:
		k->ram[0] |= CTR_SYS;
		i8042_put(k, SELF_TEST_OK, false, false);
		break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:
		/* The lines are fine; there is just nothing at their end. */
		i8042_put(k, PORT_TEST_OK, false, false);
		break;
	case CMD_READ_OUTPORT:
		i8042_put(k, k->outport, false, false);
		break;
	case CMD_WRITE_OUTPORT:
	case CMD_WRITE_KBD_OBUF:
	case CMD_WRITE_AUX_OBUF:
	case CMD_WRITE_AUX:
		k->pending = cmd;
		break;
	default:
		pr_debug("i8042: ignoring command %#x", cmd);
		break;
	}
	return false;
}

/* A byte for the keyboard or the mouse, neither of which is there. */
static void i8042_send_to_device(struct i8042 *k, bool aux)
{
	i8042_put(k, NO_DEVICE_BYTE, aux, true);
}

/* Returns true when the data byte asks for a CPU reset. */
static bool i8042_data(struct i8042 *k, u8 val)
{
	u8 cmd = k->pending;

	k->pending = 0;
	if ((cmd & ~CMD_RAM_MASK) == CMD_WRITE_RAM) {
		k->ram[cmd & CMD_RAM_MASK] = val;
		return false;
	}
	switch (cmd) {
	case CMD_WRITE_OUTPORT:
		k->outport = val;
		return !(val & OUTPORT_RESET_HIGH);
	case CMD_WRITE_KBD_OBUF:
		i8042_put(k, val, false, false);
		break;
	case CMD_WRITE_AUX_OBUF:
		i8042_put(k, val, true, false);
		break;
	case CMD_WRITE_AUX:
		i8042_send_to_device(k, true);
		break;
	default:
		i8042_send_to_device(k, false);
		break;
	}
	return false;
}

static void i8042_io(struct i8042 *k, bool cmd_port, u8 *data, u32 len, bool is_write)
{
	bool reset = false;

	if (len == 0)
		return;
	pthread_mutex_lock(&k->lock);
	if (!is_write) {
		data[0] = cmd_port ? i8042_status(k) : i8042_read_data(k);
		memset(data + 1, 0xff, len - 1);
	} else {
		k->last_was_cmd = cmd_port;
		reset = cmd_port ? i8042_command(k, data[0]) : i8042_data(k, data[0]);
	}
	i8042_update_irqs(k);
	pthread_mutex_unlock(&k->lock);
	if (reset) {
		pr_info("i8042: the guest reset the VM through the controller");
		vm_request_stop(k->dev.vm, VM_STOP_REBOOT, 0);
	}
}

static void i8042_data_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	(void)offset;
	i8042_io(opaque, false, data, len, is_write);
}

static void i8042_cmd_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	(void)offset;
	i8042_io(opaque, true, data, len, is_write);
}

static void i8042_power_on(struct i8042 *k)
{
	memset(k->ram, 0, sizeof(k->ram));
	k->ram[0] = CTR_POWER_ON;
	k->out = 0;
	k->obf = k->out_aux = k->out_timeout = false;
	k->last_was_cmd = false;
	k->pending = 0;
	k->outport = OUTPORT_POWER_ON;
}

static void i8042_reset(struct device *dev)
{
	struct i8042 *k = container_of(dev, struct i8042, dev);

	pthread_mutex_lock(&k->lock);
	i8042_power_on(k);
	i8042_update_irqs(k);
	pthread_mutex_unlock(&k->lock);
}

enum { SNAP_OUT, SNAP_FLAGS, SNAP_PENDING, SNAP_OUTPORT, SNAP_LEN };
#define SNAP_F_OBF     BIT(0)
#define SNAP_F_AUX     BIT(1)
#define SNAP_F_TIMEOUT BIT(2)
#define SNAP_F_CMD     BIT(3)

static int i8042_save(struct device *dev, struct snap_buf *sb)
{
	struct i8042 *k = container_of(dev, struct i8042, dev);
	u8 s[SNAP_LEN];

	pthread_mutex_lock(&k->lock);
	s[SNAP_OUT] = k->out;
	s[SNAP_FLAGS] =
		(u8)((k->obf ? SNAP_F_OBF : 0) | (k->out_aux ? SNAP_F_AUX : 0) |
		     (k->out_timeout ? SNAP_F_TIMEOUT : 0) | (k->last_was_cmd ? SNAP_F_CMD : 0));
	s[SNAP_PENDING] = k->pending;
	s[SNAP_OUTPORT] = k->outport;
	snap_begin_section(sb, "i8042", I8042_SNAP_VERSION);
	snap_put(sb, k->ram, sizeof(k->ram));
	snap_put(sb, s, sizeof(s));
	pthread_mutex_unlock(&k->lock);
	return sb->error ? -ENOMEM : 0;
}

/* The interrupt lines are driven again to match the restored output buffer. */
static int i8042_load(struct device *dev, struct snap_buf *sb)
{
	struct i8042 *k = container_of(dev, struct i8042, dev);
	u8 ram[sizeof(k->ram)], s[SNAP_LEN];

	if (snap_open_section(sb, "i8042") != I8042_SNAP_VERSION ||
	    !snap_get(sb, ram, sizeof(ram)) || !snap_get(sb, s, sizeof(s)))
		return -EINVAL;
	pthread_mutex_lock(&k->lock);
	memcpy(k->ram, ram, sizeof(ram));
	k->out = s[SNAP_OUT];
	k->obf = s[SNAP_FLAGS] & SNAP_F_OBF;
	k->out_aux = s[SNAP_FLAGS] & SNAP_F_AUX;
	k->out_timeout = s[SNAP_FLAGS] & SNAP_F_TIMEOUT;
	k->last_was_cmd = s[SNAP_FLAGS] & SNAP_F_CMD;
	k->pending = s[SNAP_PENDING];
	k->outport = s[SNAP_OUTPORT];
	i8042_update_irqs(k);
	pthread_mutex_unlock(&k->lock);
	return 0;
}

/* Ports stay registered: the bus is torn down with the VM, after every vCPU has stopped. */
static void i8042_destroy(struct device *dev)
{
	struct i8042 *k = container_of(dev, struct i8042, dev);

	pthread_mutex_destroy(&k->lock);
	free(k);
}

static int i8042_register(struct vm *vm, struct i8042 *k)
{
	int ret = bus_register(&vm->pio_bus, I8042_DATA_PORT, 1, i8042_data_io, k, "i8042-data");

	if (ret == 0) {
		ret = bus_register(&vm->pio_bus, I8042_CMD_PORT, 1, i8042_cmd_io, k, "i8042-cmd");
		if (ret < 0)
			bus_unregister(&vm->pio_bus, I8042_DATA_PORT);
	}
	if (ret < 0)
		pr_err("i8042: cannot register ports %#x and %#x: error %d", I8042_DATA_PORT,
		       I8042_CMD_PORT, ret);
	return ret;
}

static int i8042_realize(struct vm *vm)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	int ret;

	if (!k) {
		pr_err("i8042: out of memory");
		return -ENOMEM;
	}
	k->dev.ops = &i8042_ops;
	k->dev.vm = vm;
	k->irq_kbd.line = I8042_IRQ_KBD;
	k->irq_aux.line = I8042_IRQ_AUX;
	pthread_mutex_init(&k->lock, NULL);
	i8042_power_on(k);
	ret = i8042_register(vm, k);
	if (ret < 0) {
		i8042_destroy(&k->dev);
		return ret;
	}
	vm_add_device(vm, &k->dev);
	return 0;
}

const struct device_ops i8042_ops = {
	.name = "i8042",
	.realize = i8042_realize,
	.reset = i8042_reset,
	.save = i8042_save,
	.load = i8042_load,
	.destroy = i8042_destroy,
};
