// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "acpi_pm.h"
#include "layout.h"
#include "../../bus.h"
#include "../../util/log.h"
#include "../../vm.h"

#define PM1_EVT_LEN  4
#define PM1_CNT_LEN  2
#define PM_RESET_LEN 1

#define PM1_STS_WAK BIT(15)
/* Every defined PM1_EN bit, so a guest reads back what it enabled. */
#define PM1_EN_MASK (BIT(0) | BIT(5) | BIT(8) | BIT(9) | BIT(10) | BIT(14))

#define PM1_CNT_SCI_EN	      BIT(0)
#define PM1_CNT_BM_RLD	      BIT(1)
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_TYP_MASK  (7u << PM1_CNT_SLP_TYP_SHIFT)
#define PM1_CNT_SLP_EN	      BIT(13)
/* GBL_RLS and SLP_EN are write-only strobes: they never read back. */
#define PM1_CNT_STORED (PM1_CNT_BM_RLD | PM1_CNT_SLP_TYP_MASK)

#define ACPI_PM_SNAP_VERSION 1

struct acpi_pm {
	struct device dev;
	pthread_mutex_t lock;
	u16 sts;
	u16 en;
	u16 cnt;
	bool sleep_warned;
};

enum acpi_pm_action { PM_NONE, PM_POWEROFF, PM_REBOOT };

static void acpi_pm_act(struct acpi_pm *pm, enum acpi_pm_action act)
{
	if (act == PM_POWEROFF) {
		pr_info("acpi_pm: the guest entered S5 (power off)");
		vm_request_stop(pm->dev.vm, VM_STOP_POWEROFF, 0);
	} else if (act == PM_REBOOT) {
		pr_info("acpi_pm: the guest wrote the reset register");
		vm_request_stop(pm->dev.vm, VM_STOP_REBOOT, 0);
	}
}

/* Reads any bytes of a little-endian register file image; bytes past its end read as 0xff. */
static void image_read(u64 image, u32 size, u64 offset, u8 *data, u32 len)
{
	for (u32 i = 0; i < len; i++)
		data[i] = offset + i < size ? (u8)(image >> (8 * (offset + i))) : 0xff;
}

/* Replaces the bytes an access covers in a register file image; bytes past its end drop. */
static u64 image_write(u64 image, u32 size, u64 offset, const u8 *data, u32 len)
{
	for (u32 i = 0; i < len; i++) {
		u64 shift = 8 * (offset + i);

		if (offset + i >= size)
			break;
		image = (image & ~(0xffULL << shift)) | (u64)data[i] << shift;
	}
	return image;
}

/* PM1_STS (write 1 to clear) at offset 0, PM1_EN at offset 2, at whatever width. */
static void acpi_pm_evt_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct acpi_pm *pm = opaque;
	u32 image;

	pthread_mutex_lock(&pm->lock);
	image = pm->sts | (u32)pm->en << 16;
	if (!is_write) {
		image_read(image, PM1_EVT_LEN, offset, data, len);
	} else {
		u32 ones = (u32)image_write(0, PM1_EVT_LEN, offset, data, len);
		u32 written = (u32)image_write(image, PM1_EVT_LEN, offset, data, len);

		pm->sts &= (u16)~ones;
		pm->en = (u16)(written >> 16) & PM1_EN_MASK;
	}
	pthread_mutex_unlock(&pm->lock);
}

/* Called with the lock held; S5 is the one sleep state that does anything. */
static enum acpi_pm_action acpi_pm_sleep(struct acpi_pm *pm, unsigned int slp_typ)
{
	if (slp_typ == X86_ACPI_SLP_TYP_S5)
		return PM_POWEROFF;
	if (!pm->sleep_warned) {
		pm->sleep_warned = true;
		pr_guest("acpi_pm: guest asked for sleep type %u, only S5 (%u) is supported",
			 slp_typ, X86_ACPI_SLP_TYP_S5);
	}
	/* Wake at once: an OS polls WAK_STS after SLP_EN and would otherwise spin forever. */
	pm->sts |= PM1_STS_WAK;
	return PM_NONE;
}

static void acpi_pm_cnt_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct acpi_pm *pm = opaque;
	enum acpi_pm_action act = PM_NONE;
	u16 image;

	pthread_mutex_lock(&pm->lock);
	/* Always in ACPI mode: SCI_EN reads as set whatever the guest writes. */
	image = pm->cnt | PM1_CNT_SCI_EN;
	if (!is_write) {
		image_read(image, PM1_CNT_LEN, offset, data, len);
	} else {
		image = (u16)image_write(image, PM1_CNT_LEN, offset, data, len);
		pm->cnt = image & PM1_CNT_STORED;
		if (image & PM1_CNT_SLP_EN)
			act = acpi_pm_sleep(pm, (image & PM1_CNT_SLP_TYP_MASK) >>
							PM1_CNT_SLP_TYP_SHIFT);
	}
	pthread_mutex_unlock(&pm->lock);
	acpi_pm_act(pm, act);
}

static void acpi_pm_reset_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct acpi_pm *pm = opaque;

	if (!is_write) {
		image_read(0, PM_RESET_LEN, offset, data, len);
		return;
	}
	if (offset == 0 && len >= 1 && data[0] == X86_ACPI_RESET_VALUE)
		acpi_pm_act(pm, PM_REBOOT);
}

static const struct {
	u16 port;
	u16 len;
	bus_io_fn fn;
	const char *name;
} acpi_pm_ranges[] = {
	{X86_PORT_ACPI_PM1A_EVT, PM1_EVT_LEN, acpi_pm_evt_io, "acpi-pm1a-evt"},
	{X86_PORT_ACPI_PM1A_CNT, PM1_CNT_LEN, acpi_pm_cnt_io, "acpi-pm1a-cnt"},
	{X86_PORT_ACPI_RESET, PM_RESET_LEN, acpi_pm_reset_io, "acpi-reset"},
};

static void acpi_pm_power_on(struct acpi_pm *pm)
{
	pm->sts = 0;
	pm->en = 0;
	pm->cnt = 0;
}

static void acpi_pm_reset(struct device *dev)
{
	struct acpi_pm *pm = container_of(dev, struct acpi_pm, dev);

	pthread_mutex_lock(&pm->lock);
	acpi_pm_power_on(pm);
	pthread_mutex_unlock(&pm->lock);
}

static int acpi_pm_save(struct device *dev, struct snap_buf *sb)
{
	struct acpi_pm *pm = container_of(dev, struct acpi_pm, dev);

	pthread_mutex_lock(&pm->lock);
	snap_begin_section(sb, "acpi_pm", ACPI_PM_SNAP_VERSION);
	snap_put_u32(sb, pm->sts);
	snap_put_u32(sb, pm->en);
	snap_put_u32(sb, pm->cnt);
	pthread_mutex_unlock(&pm->lock);
	return sb->error ? -ENOMEM : 0;
}

static int acpi_pm_load(struct device *dev, struct snap_buf *sb)
{
	struct acpi_pm *pm = container_of(dev, struct acpi_pm, dev);
	u32 sts, en, cnt;

	if (snap_open_section(sb, "acpi_pm") != ACPI_PM_SNAP_VERSION || !snap_get_u32(sb, &sts) ||
	    !snap_get_u32(sb, &en) || !snap_get_u32(sb, &cnt))
		return -EINVAL;
	pthread_mutex_lock(&pm->lock);
	pm->sts = (u16)sts;
	pm->en = (u16)en & PM1_EN_MASK;
	pm->cnt = (u16)cnt & PM1_CNT_STORED;
	pthread_mutex_unlock(&pm->lock);
	return 0;
}

/* Ports stay registered: the bus is torn down with the VM, after every vCPU has stopped. */
static void acpi_pm_destroy(struct device *dev)
{
	struct acpi_pm *pm = container_of(dev, struct acpi_pm, dev);

	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

static int acpi_pm_register(struct vm *vm, struct acpi_pm *pm)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < ARRAY_SIZE(acpi_pm_ranges); i++) {
		ret = bus_register(&vm->pio_bus, acpi_pm_ranges[i].port, acpi_pm_ranges[i].len,
				   acpi_pm_ranges[i].fn, pm, acpi_pm_ranges[i].name);
		if (ret < 0)
			break;
	}
	if (ret == 0)
		return 0;
	pr_err("acpi_pm: cannot register ports %#x-%#x: error %d", acpi_pm_ranges[i].port,
	       acpi_pm_ranges[i].port + acpi_pm_ranges[i].len - 1, ret);
	while (i--)
		bus_unregister(&vm->pio_bus, acpi_pm_ranges[i].port);
	return ret;
}

static int acpi_pm_realize(struct vm *vm)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));
	int ret;

	if (!pm) {
		pr_err("acpi_pm: out of memory");
		return -ENOMEM;
	}
	pm->dev.ops = &acpi_pm_ops;
	pm->dev.vm = vm;
	pthread_mutex_init(&pm->lock, NULL);
	acpi_pm_power_on(pm);
	ret = acpi_pm_register(vm, pm);
	if (ret < 0) {
		acpi_pm_destroy(&pm->dev);
		return ret;
	}
	vm_add_device(vm, &pm->dev);
	return 0;
}

const struct device_ops acpi_pm_ops = {
	.name = "acpi_pm",
	.realize = acpi_pm_realize,
	.reset = acpi_pm_reset,
	.save = acpi_pm_save,
	.load = acpi_pm_load,
	.destroy = acpi_pm_destroy,
};
