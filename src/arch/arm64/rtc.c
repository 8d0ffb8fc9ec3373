// SPDX-License-Identifier: GPL-2.0-only
/* The arm64 board's clock: the PL031 model at 0x09010000, SPI 2, on the host's time. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../devices/pl031.h"
#include "../../irq_line.h"
#include "../../util/log.h"
#include "../../vm.h"
#include "layout.h"
#include "rtc.h"

struct rtc_dev {
	struct device dev;
	struct pl031 *rtc;
	struct irq_line irq;
};

static struct rtc_dev *to_rtc(struct device *dev)
{
	return container_of(dev, struct rtc_dev, dev);
}

static void rtc_irq(void *opaque, bool level)
{
	struct rtc_dev *d = opaque;

	vm_irq_line_set(d->dev.vm, &d->irq, level);
}

static int rtc_realize(struct vm *vm)
{
	struct rtc_dev *d = calloc(1, sizeof(*d));
	struct pl031_host host = {.irq = rtc_irq, .opaque = d};

	if (!d)
		return -ENOMEM;
	d->dev.ops = &pl031_rtc_ops;
	d->dev.vm = vm;
	d->irq.line = ARM64_RTC_SPI;
	d->rtc = pl031_new(&host);
	if (!d->rtc) {
		free(d);
		return -ENOMEM;
	}
	vm_add_device(vm, &d->dev);
	return bus_register(&vm->mmio_bus, ARM64_RTC_GPA, PL031_MMIO_SIZE, pl031_mmio, d->rtc,
			    "pl031");
}

static void rtc_reset(struct device *dev)
{
	pl031_reset(to_rtc(dev)->rtc);
}

static int rtc_save(struct device *dev, struct snap_buf *sb)
{
	return pl031_save(to_rtc(dev)->rtc, sb);
}

static int rtc_load(struct device *dev, struct snap_buf *sb)
{
	return pl031_load(to_rtc(dev)->rtc, sb);
}

static void rtc_destroy(struct device *dev)
{
	struct rtc_dev *d = to_rtc(dev);

	pl031_free(d->rtc);
	free(d);
}

const struct device_ops pl031_rtc_ops = {
	.name = "pl031",
	.realize = rtc_realize,
	.reset = rtc_reset,
	.save = rtc_save,
	.load = rtc_load,
	.destroy = rtc_destroy,
};
