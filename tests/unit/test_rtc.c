// SPDX-License-Identifier: GPL-2.0-only
/* MC146818 register model tests, all at fixed host times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "devices/rtc.h"

#define NSEC 1000000000L

static struct timespec at_utc(int year, int mon, int mday, int hour, int min, int sec)
{
	struct tm tm = {
		.tm_year = year - 1900,
		.tm_mon = mon - 1,
		.tm_mday = mday,
		.tm_hour = hour,
		.tm_min = min,
		.tm_sec = sec,
	};

	return (struct timespec){.tv_sec = timegm(&tm), .tv_nsec = 0};
}

static struct timespec later(struct timespec t, long sec, long nsec)
{
	t.tv_sec += sec;
	t.tv_nsec += nsec;
	if (t.tv_nsec >= NSEC) {
		t.tv_sec++;
		t.tv_nsec -= NSEC;
	}
	return t;
}

static u8 rd(struct rtc_core *rtc, u8 reg, struct timespec now)
{
	return rtc_core_read(rtc, reg, &now);
}

static void wr(struct rtc_core *rtc, u8 reg, u8 val, struct timespec now)
{
	rtc_core_write(rtc, reg, val, &now);
}

/* 2024-02-29 13:45:07 UTC, a Thursday. */
static struct timespec leap_day(void)
{
	return at_utc(2024, 2, 29, 13, 45, 7);
}

static void test_power_on_bcd(void **state)
{
	struct timespec now = leap_day();
	struct rtc_core rtc;

	(void)state;
	rtc_core_init(&rtc, &now);
	assert_int_equal(rd(&rtc, RTC_SECONDS, now), 0x07);
	assert_int_equal(rd(&rtc, RTC_MINUTES, now), 0x45);
	assert_int_equal(rd(&rtc, RTC_HOURS, now), 0x13);
	assert_int_equal(rd(&rtc, RTC_DAY_OF_WEEK, now), 5); /* Sunday is 1 */
	assert_int_equal(rd(&rtc, RTC_DAY_OF_MONTH, now), 0x29);
	assert_int_equal(rd(&rtc, RTC_MONTH, now), 0x02);
	assert_int_equal(rd(&rtc, RTC_YEAR, now), 0x24);
	assert_int_equal(rd(&rtc, RTC_CENTURY, now), 0x20);
	assert_int_equal(rd(&rtc, RTC_REG_A, now) & 0x7f, 0x26);
	assert_int_equal(rd(&rtc, RTC_REG_B, now), RTC_B_24H);
	assert_int_equal(rd(&rtc, RTC_REG_D, now), RTC_D_VRT);
	/* The clock runs between reads. */
	assert_int_equal(rd(&rtc, RTC_SECONDS, later(now, 60, 0)), 0x07);
	assert_int_equal(rd(&rtc, RTC_MINUTES, later(now, 60, 0)), 0x46);
}

static void test_binary(void **state)
{
	struct timespec now = leap_day();
	struct rtc_core rtc;

	(void)state;
	rtc_core_init(&rtc, &now);
	wr(&rtc, RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY, now);
	assert_int_equal(rd(&rtc, RTC_SECONDS, now), 7);
	assert_int_equal(rd(&rtc, RTC_MINUTES, now), 45);
	assert_int_equal(rd(&rtc, RTC_HOURS, now), 13);
	assert_int_equal(rd(&rtc, RTC_DAY_OF_MONTH, now), 29);
	assert_int_equal(rd(&rtc, RTC_MONTH, now), 2);
	assert_int_equal(rd(&rtc, RTC_YEAR, now), 24);
	assert_int_equal(rd(&rtc, RTC_CENTURY, now), 20);
}

static void check_12h(int hour, u8 bcd, u8 bin)
{
	struct timespec now = at_utc(2024, 1, 1, hour, 30, 0);
	struct rtc_core rtc;

	rtc_core_init(&rtc, &now);
	wr(&rtc, RTC_REG_B, 0, now);
	assert_int_equal(rd(&rtc, RTC_HOURS, now), bcd);
	wr(&rtc, RTC_REG_B, RTC_B_DM_BINARY, now);
	assert_int_equal(rd(&rtc, RTC_HOURS, now), bin);
}

static void test_12h(void **state)
{
	(void)state;
	check_12h(0, 0x12, 12); /* 12 AM */
	check_12h(1, 0x01, 1);
	check_12h(11, 0x11, 11);
	check_12h(12, 0x92, 0x80 | 12); /* 12 PM */
	check_12h(13, 0x81, 0x80 | 1);
	check_12h(23, 0x91, 0x80 | 11);
}

/* Sets the clock the way Linux's mc146818_set_time does: SET, write the fields, clear SET. */
static void set_time(struct rtc_core *rtc, struct timespec now, const u8 t[7], u8 b)
{
	static const u8 regs[] = {RTC_SECONDS, RTC_MINUTES, RTC_HOURS,	RTC_DAY_OF_MONTH,
				  RTC_MONTH,   RTC_YEAR,    RTC_CENTURY};

	wr(rtc, RTC_REG_B, b | RTC_B_SET, now);
	for (size_t i = 0; i < ARRAY_SIZE(regs); i++)
		wr(rtc, regs[i], t[i], now);
	wr(rtc, RTC_REG_B, b, now);
}

static void test_set_time_round_trip(void **state)
{
	struct timespec now = leap_day(), want = at_utc(2031, 7, 4, 3, 4, 5);
	const u8 t[7] = {0x05, 0x04, 0x03, 0x04, 0x07, 0x31, 0x20};
	struct rtc_core rtc;

	(void)state;
	rtc_core_init(&rtc, &now);
	set_time(&rtc, now, t, RTC_B_24H);
	assert_int_equal(rtc_core_guest_time(&rtc, &now), want.tv_sec);
	assert_int_equal(rd(&rtc, RTC_SECONDS, now), 0x05);
	assert_int_equal(rd(&rtc, RTC_YEAR, now), 0x31);
	assert_int_equal(rd(&rtc, RTC_DAY_OF_WEEK, now), 6); /* a Friday */
	/* It keeps running from the new time. */
	now = later(now, 65, 0);
	assert_int_equal(rd(&rtc, RTC_SECONDS, now), 0x10);
	assert_int_equal(rd(&rtc, RTC_MINUTES, now), 0x05);
	assert_int_equal(rtc_core_guest_time(&rtc, &now), want.tv_sec + 65);
}

static void test_set_time_12h_binary(void **state)
{
	struct timespec now = leap_day(), want = at_utc(2019, 12, 31, 23, 59, 58);
	const u8 t[7] = {58, 59, 0x80 | 11, 31, 12, 19, 20};
	struct rtc_core rtc;

	(void)state;
	rtc_core_init(&rtc, &now);
	set_time(&rtc, now, t, RTC_B_DM_BINARY);
	assert_int_equal(rtc_core_guest_time(&rtc, &now), want.tv_sec);
	now = later(now, 2, 0);
	assert_int_equal(rd(&rtc, RTC_HOURS, now), 12); /* 12 AM */
	assert_int_equal(rd(&rtc, RTC_YEAR, now), 20);
	assert_int_equal(rd(&rtc, RTC_MONTH, now), 1);
}

static void test_set_freezes(void **state)
{
	struct timespec now = leap_day();
	struct rtc_core rtc;

	(void)state;
	rtc_core_init(&rtc, &now);
	wr(&rtc, RTC_REG_B, RTC_B_24H | RTC_B_SET, now);
	/* Frozen: the latched time holds, and there is no update for UIP to announce. */
	for (long ms = 0; ms < 3000; ms += 100) {
		struct timespec t = later(now, ms / 1000, (ms % 1000) * 1000000L + 99900000L);

		assert_int_equal(rd(&rtc, RTC_SECONDS, t), 0x07);
		assert_int_equal(rd(&rtc, RTC_REG_A, t) & RTC_A_UIP, 0);
	}
	wr(&rtc, RTC_MINUTES, 0x50, now);
	assert_int_equal(rd(&rtc, RTC_MINUTES, later(now, 10, 0)), 0x50);
	wr(&rtc, RTC_REG_B, RTC_B_24H, later(now, 10, 0));
	assert_int_equal(rd(&rtc, RTC_MINUTES, later(now, 10, 0)), 0x50);
	assert_int_equal(rd(&rtc, RTC_SECONDS, later(now, 12, 0)), 0x09);
}

static void test_write_running_field(void **state)
{
	struct timespec now = leap_day();
	struct rtc_core rtc;

	(void)state;
	rtc_core_init(&rtc, &now);
	wr(&rtc, RTC_HOURS, 0x08, now);
	assert_int_equal(rd(&rtc, RTC_HOURS, now), 0x08);
	assert_int_equal(rd(&rtc, RTC_MINUTES, now), 0x45);
	assert_int_equal(rd(&rtc, RTC_DAY_OF_MONTH, now), 0x29);
	assert_int_equal(rtc_core_guest_time(&rtc, &now), now.tv_sec - 5 * 3600);
}

static void test_century(void **state)
{
	struct timespec now = at_utc(2099, 12, 31, 23, 59, 59);
	struct rtc_core rtc;

	(void)state;
	rtc_core_init(&rtc, &now);
	assert_int_equal(rd(&rtc, RTC_CENTURY, now), 0x20);
	assert_int_equal(rd(&rtc, RTC_YEAR, now), 0x99);
	now = later(now, 1, 0);
	assert_int_equal(rd(&rtc, RTC_CENTURY, now), 0x21);
	assert_int_equal(rd(&rtc, RTC_YEAR, now), 0x00);
	assert_int_equal(rd(&rtc, RTC_MONTH, now), 0x01);
	/* Writing the century alone moves the clock by whole centuries. */
	wr(&rtc, RTC_CENTURY, 0x19, now);
	assert_int_equal(rd(&rtc, RTC_CENTURY, now), 0x19);
	assert_int_equal(rd(&rtc, RTC_YEAR, now), 0x00);
	assert_int_equal(rtc_core_guest_time(&rtc, &now), at_utc(1900, 1, 1, 0, 0, 0).tv_sec);
}

static void test_uip(void **state)
{
	struct timespec now = leap_day();
	struct rtc_core rtc;
	long set_us = 0;

	(void)state;
	rtc_core_init(&rtc, &now);
	assert_int_equal(rd(&rtc, RTC_REG_A, later(now, 0, 0)) & RTC_A_UIP, 0);
	assert_int_equal(rd(&rtc, RTC_REG_A, later(now, 0, 999755999)) & RTC_A_UIP, 0);
	assert_int_equal(rd(&rtc, RTC_REG_A, later(now, 0, 999756000)) & RTC_A_UIP, RTC_A_UIP);
	assert_int_equal(rd(&rtc, RTC_REG_A, later(now, 0, 999999999)) & RTC_A_UIP, RTC_A_UIP);
	/* Over a whole second UIP is up for 244us only, so a polling loop always gets past it. */
	for (long us = 0; us < 1000000; us++) {
		if (rd(&rtc, RTC_REG_A, later(now, 0, us * 1000)) & RTC_A_UIP)
			set_us++;
	}
	assert_int_equal(set_us, RTC_UIP_NS / 1000);
	/* While UIP is clear the seconds hold still; they change only once it is set. */
	assert_int_equal(rd(&rtc, RTC_SECONDS, later(now, 0, 999755999)), 0x07);
	/* The guest cannot set UIP itself. */
	wr(&rtc, RTC_REG_A, 0xa6, now);
	assert_int_equal(rd(&rtc, RTC_REG_A, now), 0x26);
}

static void test_reg_c(void **state)
{
	struct timespec now = leap_day();
	struct rtc_core rtc;

	(void)state;
	rtc_core_init(&rtc, &now);
	assert_int_equal(rd(&rtc, RTC_REG_C, now), 0);
	/* The update flag reports a second boundary since the last read, then clears. */
	now = later(now, 1, 0);
	assert_int_equal(rd(&rtc, RTC_REG_C, now) & RTC_C_UF, RTC_C_UF);
	assert_int_equal(rd(&rtc, RTC_REG_C, now), 0);
	/*
	 * Interrupts are never raised, but IRQF still tells that an enabled event happened.
	 * The periodic flag (1024 Hz from power-on) is set whether or not PIE enables it.
	 */
	wr(&rtc, RTC_REG_B, RTC_B_24H | RTC_B_UIE, now);
	now = later(now, 1, 0);
	assert_int_equal(rd(&rtc, RTC_REG_C, now), RTC_C_IRQF | RTC_C_PF | RTC_C_UF);
	wr(&rtc, RTC_REG_B, RTC_B_24H | RTC_B_PIE, now);
	assert_int_equal(rd(&rtc, RTC_REG_C, later(now, 0, 1000000)), RTC_C_IRQF | RTC_C_PF);
	wr(&rtc, RTC_REG_A, 0x20, now);
	assert_int_equal(rd(&rtc, RTC_REG_C, later(now, 0, 5000000)), 0);
	/* An alarm of "any hour, any minute, second 10". */
	wr(&rtc, RTC_SECONDS_ALARM, 0x10, now);
	wr(&rtc, RTC_MINUTES_ALARM, 0xff, now);
	wr(&rtc, RTC_HOURS_ALARM, 0xc0, now);
	wr(&rtc, RTC_REG_B, RTC_B_24H | RTC_B_AIE, now);
	now = later(now, 1, 0); /* 13:45:10 */
	assert_int_equal(rd(&rtc, RTC_REG_C, now), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
	assert_int_equal(rd(&rtc, RTC_REG_C, later(now, 1, 0)), RTC_C_UF);
}

static void test_cmos_storage(void **state)
{
	struct timespec now = leap_day();
	struct rtc_core rtc;

	(void)state;
	rtc_core_init(&rtc, &now);
	for (unsigned int r = 0x0e; r < RTC_CMOS_SIZE; r++) {
		if (r != RTC_CENTURY)
			wr(&rtc, (u8)r, (u8)(r * 7 + 1), now);
	}
	for (unsigned int r = 0x0e; r < RTC_CMOS_SIZE; r++) {
		if (r != RTC_CENTURY)
			assert_int_equal(rd(&rtc, (u8)r, now), (u8)(r * 7 + 1));
	}
	/* Alarm registers are storage too; C and D ignore writes. */
	wr(&rtc, RTC_HOURS_ALARM, 0x17, now);
	assert_int_equal(rd(&rtc, RTC_HOURS_ALARM, now), 0x17);
	wr(&rtc, RTC_REG_D, 0, now);
	assert_int_equal(rd(&rtc, RTC_REG_D, now), RTC_D_VRT);
	/* Index bit 7 is the NMI mask on a PC, not part of the address. */
	assert_int_equal(rd(&rtc, 0x80 | 0x40, now), (u8)(0x40 * 7 + 1));
}

static void test_reset(void **state)
{
	struct timespec now = leap_day();
	struct rtc_core rtc;

	(void)state;
	rtc_core_init(&rtc, &now);
	wr(&rtc, RTC_HOURS, 0x02, now);
	wr(&rtc, RTC_REG_B, RTC_B_24H | RTC_B_SET | RTC_B_PIE | RTC_B_UIE | RTC_B_DM_BINARY, now);
	wr(&rtc, RTC_MINUTES, 10, now);
	rtc_core_reset(&rtc, &now);
	assert_int_equal(rd(&rtc, RTC_REG_B, now), RTC_B_24H | RTC_B_DM_BINARY);
	/* The clock survives the reset, and a value written while frozen is kept. */
	assert_int_equal(rd(&rtc, RTC_HOURS, now), 2);
	assert_int_equal(rd(&rtc, RTC_MINUTES, now), 10);
	assert_int_equal(rd(&rtc, RTC_SECONDS, later(now, 3, 0)), 10);
}

/* Whatever a guest writes, reads stay defined and SET can always be left again. */
static void test_garbage(void **state)
{
	struct timespec now = leap_day();
	struct rtc_core rtc;
	u32 x = 12345;

	(void)state;
	rtc_core_init(&rtc, &now);
	for (int i = 0; i < 200000; i++) {
		x = x * 1103515245 + 12345;
		now = later(now, 0, (x >> 8) % 5000000);
		if (x & 0x10000)
			wr(&rtc, (u8)(x >> 17), (u8)(x >> 24), now);
		else
			(void)rd(&rtc, (u8)(x >> 17), now);
	}
	wr(&rtc, RTC_REG_B, RTC_B_24H, now);
	for (long ms = 0; ms < 1000; ms++) {
		if (!(rd(&rtc, RTC_REG_A, later(now, 0, ms * 1000000)) & RTC_A_UIP))
			return;
	}
	fail_msg("UIP stuck");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_power_on_bcd),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_12h),
		cmocka_unit_test(test_set_time_round_trip),
		cmocka_unit_test(test_set_time_12h_binary),
		cmocka_unit_test(test_set_freezes),
		cmocka_unit_test(test_write_running_field),
		cmocka_unit_test(test_century),
		cmocka_unit_test(test_uip),
		cmocka_unit_test(test_reg_c),
		cmocka_unit_test(test_cmos_storage),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
