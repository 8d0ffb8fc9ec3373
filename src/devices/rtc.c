// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rtc.h"
#include "../bus.h"
#include "../util/log.h"
#include "../vm.h"

#define RTC_PORT     0x70 /* index; data at 0x71 */
#define RTC_PORT_LEN 2
/* Bit 7 of an index write masks NMIs on a PC; there is nothing for it to mask here. */
#define RTC_INDEX_MASK 0x7f

#define RTC_A_POWER_ON	    0x26 /* 32.768 kHz time base, 1024 Hz periodic rate */
#define RTC_A_RS_MASK	    0x0f
#define RTC_HOUR_PM	    BIT(7)
#define RTC_ALARM_DONT_CARE 0xc0

/* Keeps host time + offset far from overflowing, whatever a snapshot says. */
#define RTC_MAX_OFFSET (1LL << 40)

#define NSEC_PER_SEC	 1000000000LL
#define RTC_SNAP_VERSION 1

static const u8 rtc_time_regs[] = {
	RTC_SECONDS,	  RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK,
	RTC_DAY_OF_MONTH, RTC_MONTH,   RTC_YEAR,  RTC_CENTURY,
};

static bool rtc_is_time_reg(u8 reg)
{
	for (size_t i = 0; i < ARRAY_SIZE(rtc_time_regs); i++) {
		if (rtc_time_regs[i] == reg)
			return true;
	}
	return false;
}

static bool rtc_frozen(const struct rtc_core *rtc)
{
	return rtc->cmos[RTC_REG_B] & RTC_B_SET;
}

static bool rtc_binary(const struct rtc_core *rtc)
{
	return rtc->cmos[RTC_REG_B] & RTC_B_DM_BINARY;
}

static s64 rtc_clamp_offset(s64 offset)
{
	return MAX(MIN(offset, RTC_MAX_OFFSET), -RTC_MAX_OFFSET);
}

s64 rtc_core_guest_time(const struct rtc_core *rtc, const struct timespec *now)
{
	return (s64)now->tv_sec + rtc->offset;
}

static u8 rtc_encode(const struct rtc_core *rtc, unsigned int v)
{
	if (rtc_binary(rtc))
		return (u8)v;
	v %= 100;
	return (u8)((v / 10) << 4 | v % 10);
}

/* Nonsense BCD digits decode to values up to 165; timegm() folds those into a date. */
static unsigned int rtc_decode(const struct rtc_core *rtc, u8 v)
{
	if (rtc_binary(rtc))
		return v;
	return (v >> 4) * 10 + (v & 0x0f);
}

static u8 rtc_encode_hour(const struct rtc_core *rtc, int hour)
{
	int h12 = hour % 12 ? hour % 12 : 12;

	if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
		return rtc_encode(rtc, (unsigned int)hour);
	return rtc_encode(rtc, (unsigned int)h12) | (hour >= 12 ? RTC_HOUR_PM : 0);
}

static int rtc_decode_hour(const struct rtc_core *rtc, u8 v)
{
	int h = (int)rtc_decode(rtc, v & (u8)~RTC_HOUR_PM);

	if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
		return h;
	return h % 12 + (v & RTC_HOUR_PM ? 12 : 0);
}

static void rtc_tm(const struct rtc_core *rtc, const struct timespec *now, struct tm *tm)
{
	time_t t = (time_t)rtc_core_guest_time(rtc, now);

	if (!gmtime_r(&t, tm)) {
		memset(tm, 0, sizeof(*tm));
		tm->tm_mday = 1;
	}
}

/* The value of time register reg at the broken-down time tm, in the current format. */
static u8 rtc_field(const struct rtc_core *rtc, u8 reg, const struct tm *tm)
{
	int year = MAX(MIN(tm->tm_year + 1900, 9999), 0);

	switch (reg) {
	case RTC_SECONDS:
		return rtc_encode(rtc, (unsigned int)tm->tm_sec);
	case RTC_MINUTES:
		return rtc_encode(rtc, (unsigned int)tm->tm_min);
	case RTC_HOURS:
		return rtc_encode_hour(rtc, tm->tm_hour);
	case RTC_DAY_OF_WEEK:
		return rtc_encode(rtc, (unsigned int)tm->tm_wday + 1);
	case RTC_DAY_OF_MONTH:
		return rtc_encode(rtc, (unsigned int)tm->tm_mday);
	case RTC_MONTH:
		return rtc_encode(rtc, (unsigned int)tm->tm_mon + 1);
	case RTC_YEAR:
		return rtc_encode(rtc, (unsigned int)year % 100);
	case RTC_CENTURY:
		return rtc_encode(rtc, (unsigned int)year / 100);
	default:
		return 0;
	}
}

/* Copies the running clock into the time registers so the guest can edit them. */
static void rtc_latch(struct rtc_core *rtc, const struct timespec *now)
{
	struct tm tm;

	rtc_tm(rtc, now, &tm);
	for (size_t i = 0; i < ARRAY_SIZE(rtc_time_regs); i++)
		rtc->cmos[rtc_time_regs[i]] = rtc_field(rtc, rtc_time_regs[i], &tm);
}

/* Makes the time registers the running clock again; the day of the week is not needed. */
static void rtc_commit(struct rtc_core *rtc, const struct timespec *now)
{
	const u8 *c = rtc->cmos;
	struct tm tm = {
		.tm_sec = (int)rtc_decode(rtc, c[RTC_SECONDS]),
		.tm_min = (int)rtc_decode(rtc, c[RTC_MINUTES]),
		.tm_hour = rtc_decode_hour(rtc, c[RTC_HOURS]),
		.tm_mday = (int)rtc_decode(rtc, c[RTC_DAY_OF_MONTH]),
		.tm_mon = (int)rtc_decode(rtc, c[RTC_MONTH]) - 1,
		.tm_year = (int)(rtc_decode(rtc, c[RTC_CENTURY]) * 100 +
				 rtc_decode(rtc, c[RTC_YEAR])) -
			   1900,
	};
	time_t t = timegm(&tm);

	rtc->offset = rtc_clamp_offset((s64)t - (s64)now->tv_sec);
}

/*
 * The chip raises UIP 244us before each update, so software that sees it clear knows the
 * registers hold still that long. Updates here are instant and follow the host's second.
 */
static bool rtc_uip(const struct rtc_core *rtc, const struct timespec *now)
{
	return !rtc_frozen(rtc) && now->tv_nsec >= NSEC_PER_SEC - RTC_UIP_NS;
}

static s64 rtc_ns(const struct timespec *t)
{
	return (s64)t->tv_sec * NSEC_PER_SEC + t->tv_nsec;
}

/* Period of the periodic flag for rate select rs (0: off), with the 32.768 kHz time base. */
static s64 rtc_periodic_ns(unsigned int rs)
{
	if (rs == 0)
		return 0;
	if (rs <= 2)
		return NSEC_PER_SEC / (256 >> (rs - 1));
	return NSEC_PER_SEC * (1LL << (rs - 1)) / 32768;
}

static bool rtc_alarm_matches(const struct rtc_core *rtc, const struct timespec *now)
{
	static const u8 alarm[][2] = {
		{RTC_SECONDS_ALARM, RTC_SECONDS},
		{RTC_MINUTES_ALARM, RTC_MINUTES},
		{RTC_HOURS_ALARM, RTC_HOURS},
	};
	struct tm tm;

	rtc_tm(rtc, now, &tm);
	for (size_t i = 0; i < ARRAY_SIZE(alarm); i++) {
		u8 want = rtc->cmos[alarm[i][0]];

		if ((want & RTC_ALARM_DONT_CARE) != RTC_ALARM_DONT_CARE &&
		    want != rtc_field(rtc, alarm[i][1], &tm))
			return false;
	}
	return true;
}

/*
 * Flags for what happened since the last read, worked out now rather than by a timer.
 * The alarm flag is approximate: it is only checked against the time of this read.
 */
static u8 rtc_read_c(struct rtc_core *rtc, const struct timespec *now)
{
	u8 b = rtc->cmos[RTC_REG_B], c = 0;
	s64 period = rtc_periodic_ns(rtc->cmos[RTC_REG_A] & RTC_A_RS_MASK);
	bool updated = !rtc_frozen(rtc) && now->tv_sec != rtc->last_c_read.tv_sec;

	if (period && rtc_ns(now) / period != rtc_ns(&rtc->last_c_read) / period)
		c |= RTC_C_PF;
	if (updated)
		c |= RTC_C_UF;
	if (updated && rtc_alarm_matches(rtc, now))
		c |= RTC_C_AF;
	if (((c & RTC_C_PF) && (b & RTC_B_PIE)) || ((c & RTC_C_AF) && (b & RTC_B_AIE)) ||
	    ((c & RTC_C_UF) && (b & RTC_B_UIE)))
		c |= RTC_C_IRQF;
	rtc->last_c_read = *now;
	return c;
}

static void rtc_write_b(struct rtc_core *rtc, u8 val, const struct timespec *now)
{
	u8 old = rtc->cmos[RTC_REG_B];

	if (!(old & RTC_B_SET) && (val & RTC_B_SET)) {
		/* Latched in the new format: that is the one the guest will read and write. */
		rtc->cmos[RTC_REG_B] = val;
		rtc_latch(rtc, now);
	} else if ((old & RTC_B_SET) && !(val & RTC_B_SET)) {
		/* Decoded in the format the guest wrote them in. */
		rtc_commit(rtc, now);
	}
	rtc->cmos[RTC_REG_B] = val;
}

void rtc_core_init(struct rtc_core *rtc, const struct timespec *now)
{
	memset(rtc, 0, sizeof(*rtc));
	rtc->cmos[RTC_REG_A] = RTC_A_POWER_ON;
	/* 24-hour BCD, what Linux and PC firmware expect. */
	rtc->cmos[RTC_REG_B] = RTC_B_24H;
	rtc->cmos[RTC_REG_D] = RTC_D_VRT;
	rtc->last_c_read = *now;
}

/* Unlike the chip, SET is dropped too: a rebooted guest should find its clock running. */
void rtc_core_reset(struct rtc_core *rtc, const struct timespec *now)
{
	if (rtc_frozen(rtc))
		rtc_commit(rtc, now);
	rtc->cmos[RTC_REG_B] &= (u8) ~(RTC_B_SET | RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_SQWE);
	rtc->last_c_read = *now;
}

u8 rtc_core_read(struct rtc_core *rtc, u8 reg, const struct timespec *now)
{
	struct tm tm;

	reg &= RTC_INDEX_MASK;
	if (rtc_is_time_reg(reg) && !rtc_frozen(rtc)) {
		rtc_tm(rtc, now, &tm);
		return rtc_field(rtc, reg, &tm);
	}
	switch (reg) {
	case RTC_REG_A:
		return (rtc->cmos[RTC_REG_A] & (u8)~RTC_A_UIP) |
		       (rtc_uip(rtc, now) ? RTC_A_UIP : 0);
	case RTC_REG_C:
		return rtc_read_c(rtc, now);
	case RTC_REG_D:
		return RTC_D_VRT; /* the battery never runs flat */
	default:
		return rtc->cmos[reg];
	}
}

void rtc_core_write(struct rtc_core *rtc, u8 reg, u8 val, const struct timespec *now)
{
	reg &= RTC_INDEX_MASK;
	switch (reg) {
	case RTC_REG_A:
		rtc->cmos[RTC_REG_A] = val & (u8)~RTC_A_UIP;
		return;
	case RTC_REG_B:
		rtc_write_b(rtc, val, now);
		return;
	case RTC_REG_C:
	case RTC_REG_D:
		return; /* read-only */
	}
	if (rtc_is_time_reg(reg) && !rtc_frozen(rtc)) {
		/* A write to a running clock sets that one field and keeps the clock going. */
		rtc_latch(rtc, now);
		rtc->cmos[reg] = val;
		rtc_commit(rtc, now);
		return;
	}
	rtc->cmos[reg] = val;
}

struct rtc {
	struct device dev;
	pthread_mutex_t lock;
	struct rtc_core core;
};

static void rtc_now(struct timespec *now)
{
	clock_gettime(CLOCK_REALTIME, now);
}

static void rtc_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct rtc *rtc = opaque;
	struct timespec now;

	rtc_now(&now);
	pthread_mutex_lock(&rtc->lock);
	/* A word access to 0x70 is an index write followed by a data access. */
	for (u32 i = 0; i < len; i++) {
		u64 port = offset + i;

		if (port == 0 && is_write)
			rtc->core.index = data[i] & RTC_INDEX_MASK;
		else if (port == 1 && is_write)
			rtc_core_write(&rtc->core, rtc->core.index, data[i], &now);
		else if (port == 1)
			data[i] = rtc_core_read(&rtc->core, rtc->core.index, &now);
		else if (!is_write)
			data[i] = 0xff; /* the index register is write-only */
	}
	pthread_mutex_unlock(&rtc->lock);
}

static void rtc_reset(struct device *dev)
{
	struct rtc *rtc = container_of(dev, struct rtc, dev);
	struct timespec now;

	rtc_now(&now);
	pthread_mutex_lock(&rtc->lock);
	rtc_core_reset(&rtc->core, &now);
	pthread_mutex_unlock(&rtc->lock);
}

/*
 * The offset is saved, not the time: a restored guest finds its clock moved on by however
 * long the snapshot sat, as a battery-backed RTC would.
 */
static int rtc_save(struct device *dev, struct snap_buf *sb)
{
	struct rtc *rtc = container_of(dev, struct rtc, dev);

	pthread_mutex_lock(&rtc->lock);
	snap_begin_section(sb, "rtc", RTC_SNAP_VERSION);
	snap_put(sb, rtc->core.cmos, sizeof(rtc->core.cmos));
	snap_put_u32(sb, rtc->core.index);
	snap_put_u64(sb, (u64)rtc->core.offset);
	pthread_mutex_unlock(&rtc->lock);
	return sb->error ? -ENOMEM : 0;
}

static int rtc_load(struct device *dev, struct snap_buf *sb)
{
	struct rtc *rtc = container_of(dev, struct rtc, dev);
	u8 cmos[RTC_CMOS_SIZE];
	u32 index;
	u64 offset;
	struct timespec now;

	if (snap_open_section(sb, "rtc") != RTC_SNAP_VERSION || !snap_get(sb, cmos, sizeof(cmos)) ||
	    !snap_get_u32(sb, &index) || !snap_get_u64(sb, &offset))
		return -EINVAL;
	rtc_now(&now);
	pthread_mutex_lock(&rtc->lock);
	memcpy(rtc->core.cmos, cmos, sizeof(cmos));
	rtc->core.index = (u8)index & RTC_INDEX_MASK;
	rtc->core.offset = rtc_clamp_offset((s64)offset);
	rtc->core.last_c_read = now;
	pthread_mutex_unlock(&rtc->lock);
	return 0;
}

/* The port stays registered: the bus is torn down with the VM, after every vCPU has stopped. */
static void rtc_destroy(struct device *dev)
{
	struct rtc *rtc = container_of(dev, struct rtc, dev);

	pthread_mutex_destroy(&rtc->lock);
	free(rtc);
}

static int rtc_realize(struct vm *vm)
{
	struct rtc *rtc = calloc(1, sizeof(*rtc));
	struct timespec now;
	int ret;

	if (!rtc) {
		pr_err("rtc: out of memory");
		return -ENOMEM;
	}
	rtc->dev.ops = &rtc_ops;
	rtc->dev.vm = vm;
	pthread_mutex_init(&rtc->lock, NULL);
	rtc_now(&now);
	rtc_core_init(&rtc->core, &now);
	ret = bus_register(&vm->pio_bus, RTC_PORT, RTC_PORT_LEN, rtc_io, rtc, "rtc");
	if (ret < 0) {
		pr_err("rtc: cannot register ports %#x-%#x: error %d", RTC_PORT,
		       RTC_PORT + RTC_PORT_LEN - 1, ret);
		rtc_destroy(&rtc->dev);
		return ret;
	}
	vm_add_device(vm, &rtc->dev);
	return 0;
}

const struct device_ops rtc_ops = {
	.name = "rtc",
	.realize = rtc_realize,
	.reset = rtc_reset,
	.save = rtc_save,
	.load = rtc_load,
	.destroy = rtc_destroy,
};
