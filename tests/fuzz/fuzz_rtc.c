// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/bus.c src/irq_line.c src/snapshot.c src/util/log.c src/devices/rtc.c tests/fuzz/fake_vm.c
// fuzz-time-percent: 5
/*
 * libFuzzer harness for the CMOS RTC on a fake VM: the input is a guest's accesses to
 * ports 0x70-0x77 (fuzz_access.h), resets and hostile snapshots. The index port reads as
 * 0xff, nothing raises an interrupt, and while the clock runs every time register it
 * gives is a valid value in the format register B asks for: BCD digits or binary,
 * 12-hour with the PM bit or 24-hour, whatever the guest wrote into the clock before.
 */
#include "devices/rtc.h"
#include "fake_vm.h"

#define RTC_HOUR_PM 0x80

static const struct fake_window ports = {.pio = true, .base = 0x70, .len = 8};
static u8 index_reg; /* the last index the guest wrote */

static void index_write(struct vm *vm, u8 reg)
{
	CHECK(bus_dispatch(&vm->pio_bus, 0x70, &reg, 1, true));
}

static u8 cmos_read(struct vm *vm, u8 reg)
{
	u8 v;

	index_write(vm, reg);
	CHECK(bus_dispatch(&vm->pio_bus, 0x71, &v, 1, false));
	return v;
}

/* The index from the snapshot: after the header, the 128 CMOS bytes, then u32 index (rtc.c). */
static u8 index_saved(struct vm *vm)
{
	struct device *dev = vm->devices;
	struct snap_buf sb;
	u8 reg;

	snap_init(&sb);
	CHECK(dev->ops->save(dev, &sb) == 0 && sb.len == FUZZ_SNAP_HDR + RTC_CMOS_SIZE + 12);
	reg = sb.data[FUZZ_SNAP_HDR + RTC_CMOS_SIZE];
	snap_free(&sb);
	return reg;
}

/* The largest value of a time register, or 0 for other registers. */
static unsigned int field_max(u8 reg)
{
	switch (reg) {
	case RTC_SECONDS:
	case RTC_MINUTES:
		return 59;
	case RTC_HOURS:
		return 23;
	case RTC_DAY_OF_WEEK:
		return 7;
	case RTC_DAY_OF_MONTH:
		return 31;
	case RTC_MONTH:
		return 12;
	case RTC_YEAR:
	case RTC_CENTURY:
		return 99;
	}
	return 0;
}

/* A time register's value at index reg, read just now: checked against register B. */
static void check_time(struct vm *vm, u8 reg, u8 v)
{
	u8 b = cmos_read(vm, RTC_REG_B);
	unsigned int max = field_max(reg), min = reg >= RTC_DAY_OF_WEEK && reg <= RTC_MONTH;

	index_write(vm, index_reg); /* the guest's index back */
	if (!max || (b & RTC_B_SET))
		return;
	if (reg == RTC_HOURS && !(b & RTC_B_24H)) {
		v &= (u8)~RTC_HOUR_PM;
		min = 1;
		max = 12;
	}
	if (!(b & RTC_B_DM_BINARY)) {
		CHECK((v & 0xf) <= 9 && (v >> 4) <= 9);
		v = (u8)((v >> 4) * 10 + (v & 0xf));
	}
	CHECK(v >= min && v <= max);
}

static void check(struct vm *vm, const struct fuzz_access *a, const u8 *buf)
{
	CHECK(fake_vm_pins == 0 && fake_vm_stop == VM_RUNNING);
	if (!a) {
		index_reg = index_saved(vm);
		return;
	}
	if (!buf)
		return;
	for (u32 i = 0; i < a->len; i++) {
		u64 port = a->offset + i;

		if (port == 0 && a->write)
			index_reg = a->data[i] & 0x7f;
		else if (port == 0)
			CHECK(buf[i] == 0xff);
		else if (port == 1 && !a->write)
			check_time(vm, index_reg, buf[i]);
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = {data, size};

	index_reg = 0;
	fake_vm_fuzz(&(struct vm_config){.cpus = 1}, &rtc_ops, &ports, 1, 4, &in, check);
	return 0;
}
