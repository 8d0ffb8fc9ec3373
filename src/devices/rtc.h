/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_RTC_H
#define KVMBOX_DEVICES_RTC_H

#include <time.h>

#include "device.h"

/*
 * An MC146818 CMOS RTC at ports 0x70 (index) and 0x71 (data). The clock is the host's
 * (UTC) plus an offset the guest sets by writing the time, so it keeps running between
 * reads without a timer thread. No interrupt is ever raised: periodic, alarm and update
 * interrupts are not emulated, though their enable bits read back and register C still
 * reports which events happened since it was last read.
 */
extern const struct device_ops rtc_ops;

/* CMOS indexes. */
#define RTC_SECONDS	  0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES	  0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS	  0x04
#define RTC_HOURS_ALARM	  0x05
#define RTC_DAY_OF_WEEK	  0x06 /* 1 = Sunday */
#define RTC_DAY_OF_MONTH  0x07
#define RTC_MONTH	  0x08
#define RTC_YEAR	  0x09
#define RTC_REG_A	  0x0a
#define RTC_REG_B	  0x0b
#define RTC_REG_C	  0x0c
#define RTC_REG_D	  0x0d
#define RTC_CENTURY	  0x32 /* the FADT CENTURY field names this index */
#define RTC_CMOS_SIZE	  128

#define RTC_A_UIP	BIT(7)
#define RTC_B_SET	BIT(7)
#define RTC_B_PIE	BIT(6)
#define RTC_B_AIE	BIT(5)
#define RTC_B_UIE	BIT(4)
#define RTC_B_SQWE	BIT(3)
#define RTC_B_DM_BINARY BIT(2)
#define RTC_B_24H	BIT(1)
#define RTC_C_IRQF	BIT(7)
#define RTC_C_PF	BIT(6)
#define RTC_C_AF	BIT(5)
#define RTC_C_UF	BIT(4)
#define RTC_D_VRT	BIT(7)

/* UIP is set for this long before each second ends, as on the real chip. */
#define RTC_UIP_NS 244000

/*
 * The register model, apart from ports and locking so it runs at any fixed time in tests.
 * now is always the host's CLOCK_REALTIME. While register B's SET bit is clear, the time
 * registers are computed from now + offset on every read; while it is set they are plain
 * bytes holding the time the guest is writing, which becomes the new offset when SET clears.
 */
struct rtc_core {
	u8 cmos[RTC_CMOS_SIZE];
	u8 index;
	s64 offset;		     /* guest seconds minus host seconds */
	struct timespec last_c_read; /* register C reports events since then */
};

void rtc_core_init(struct rtc_core *rtc, const struct timespec *now);
/* What a reset line does: interrupt enables and flags off; the clock keeps going. */
void rtc_core_reset(struct rtc_core *rtc, const struct timespec *now);
u8 rtc_core_read(struct rtc_core *rtc, u8 reg, const struct timespec *now);
void rtc_core_write(struct rtc_core *rtc, u8 reg, u8 val, const struct timespec *now);
/* The guest's running clock, host time plus its offset, in seconds since the epoch (UTC). */
s64 rtc_core_guest_time(const struct rtc_core *rtc, const struct timespec *now);

#endif
