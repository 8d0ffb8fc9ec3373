// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PL031 RTC as a guest sees it, on a fake host clock: ID registers, the counter and
 * RTCLR, the match interrupt (on access and from a board timer), reset, snapshots across a
 * host clock jump, refused snapshots and hostile accesses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pl031.h"
#include "snapshot.h"

enum {
	DR = 0x000,
	MR = 0x004,
	LR = 0x008,
	CR = 0x00c,
	IMSC = 0x010,
	RIS = 0x014,
	MIS = 0x018,
	ICR = 0x01c,
};

#define START	  1700000000ull /* the fake host's seconds at power-on */
#define SNAP_HDR  (32 + 4)	/* a section's name and version */
#define SNAP_BODY (5 * 4 + 8)

struct fake {
	struct pl031 *rtc;
	u64 now;
	bool level;
	int irq_calls;
	int irq_repeats;
};

static void fake_irq(void *opaque, bool level)
{
	struct fake *f = opaque;

	/* Calls only on level changes; the_load() discounts a load's forced one. */
	if (level == f->level)
		f->irq_repeats++;
	f->level = level;
	f->irq_calls++;
}

static u64 fake_now(void *opaque)
{
	struct fake *f = opaque;

	return f->now;
}

static void fake_rtc(struct fake *f, u64 now)
{
	struct pl031_host host = {.irq = fake_irq, .now = fake_now, .opaque = f};

	f->now = now;
	f->rtc = pl031_new(&host);
	assert_non_null(f->rtc);
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fake_rtc(f, START);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;
	int repeats = f->irq_repeats;

	pl031_free(f->rtc);
	free(f);
	return repeats ? -1 : 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static u32 rd_n(struct fake *f, u64 off, u32 len)
{
	u8 b[8];
	u32 v = 0;

	memset(b, 0x5a, sizeof(b));
	pl031_mmio(f->rtc, off, b, len, false);
	for (u32 i = 0; i < len && i < 4; i++)
		v |= (u32)b[i] << (8 * i);
	return v;
}

static u32 rd(struct fake *f, u64 off)
{
	return rd_n(f, off, 4);
}

static void wr(struct fake *f, u64 off, u32 val)
{
	u8 b[4] = {(u8)val, (u8)(val >> 8), (u8)(val >> 16), (u8)(val >> 24)};

	pl031_mmio(f->rtc, off, b, 4, true);
}

static void test_id_registers(void **state)
{
	struct fake *f = *state;
	static const u8 id[8] = {0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};
	u32 pid = 0, cid = 0;

	/* Linux's AMBA bus: the low byte of each word, PeriphID then PCellID. */
	for (int i = 0; i < 4; i++) {
		pid |= (rd(f, 0xfe0 + 4 * i) & 0xff) << (8 * i);
		cid |= (rd(f, 0xff0 + 4 * i) & 0xff) << (8 * i);
	}
	assert_int_equal(pid & 0x000fffff, 0x00041031); /* rtc-pl031's id/mask */
	assert_int_equal(cid, 0xb105f00d);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(rd(f, 0xfe0 + 4 * i), id[i]);
		/* EDK2 reads them with MmioRead8. */
		assert_int_equal(rd_n(f, 0xfe0 + 4 * i, 1), id[i]);
		assert_int_equal(rd_n(f, 0xfe0 + 4 * i, 2), id[i]);
		assert_int_equal(rd_n(f, 0xfe1 + 4 * i, 1), 0);
		assert_int_equal(rd_n(f, 0xfe2 + 4 * i, 2), 0);
	}
	assert_int_equal(rd(f, 0xfe8) & 0xf, 0x4); /* EDK2's designer nibble */
	wr(f, 0xfe0, 0x99);
	assert_int_equal(rd(f, 0xfe0), 0x31);
}

static void test_power_on_state(void **state)
{
	static const u32 zero[] = {MR, LR, IMSC, RIS, MIS, ICR, 0x020, 0xfdc};
	struct fake *f = *state;

	assert_int_equal(rd(f, DR), (u32)START);
	assert_int_equal(rd(f, CR), 1);
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		assert_int_equal(rd(f, zero[i]), 0);
	assert_false(f->level);
	assert_int_equal(f->irq_calls, 0);
}

static void test_counter_follows_clock(void **state)
{
	struct fake *f = *state;

	f->now += 1;
	assert_int_equal(rd(f, DR), (u32)START + 1);
	f->now += 3600;
	assert_int_equal(rd(f, DR), (u32)START + 3601);
	/* Read-only, and the counter runs whatever CR is told (Linux ORs in the start bit). */
	wr(f, DR, 5);
	wr(f, CR, 0);
	assert_int_equal(rd(f, CR), 1);
	wr(f, CR, rd(f, CR) | 1);
	assert_int_equal(rd(f, CR), 1);
	assert_int_equal(rd(f, DR), (u32)START + 3601);
}

static void test_load_sets_counter(void **state)
{
	struct fake *f = *state;

	wr(f, LR, 1000);
	assert_int_equal(rd(f, DR), 1000);
	assert_int_equal(rd(f, LR), 1000);
	f->now += 50;
	assert_int_equal(rd(f, DR), 1050);
	assert_int_equal(rd(f, LR), 1000);
	/* A 32-bit counter: it wraps, the offset with it. */
	wr(f, LR, 0xfffffff0);
	f->now += 0x20;
	assert_int_equal(rd(f, DR), 0x10);
	/* Behind the host and ahead of it. */
	wr(f, LR, (u32)START - 86400);
	f->now += 7;
	assert_int_equal(rd(f, DR), (u32)START - 86400 + 7);
}

static void test_match_interrupt(void **state)
{
	struct fake *f = *state;
	u32 t = rd(f, DR);

	wr(f, IMSC, 0xffffffff);
	assert_int_equal(rd(f, IMSC), 1);
	wr(f, MR, t + 10);
	assert_int_equal(rd(f, MR), t + 10);
	f->now += 9;
	assert_int_equal(rd(f, RIS), 0);
	assert_false(f->level);
	f->now += 1;
	assert_int_equal(rd(f, RIS), 1);
	assert_int_equal(rd(f, MIS), 1);
	assert_true(f->level);
	/* ICR clears bit 0 only when it is 1; the match second going on does not re-raise. */
	wr(f, ICR, 0xfffffffe);
	assert_true(f->level);
	wr(f, ICR, 1);
	assert_false(f->level);
	assert_int_equal(rd(f, RIS), 0);
	assert_int_equal(rd(f, ICR), 0);

	/* A match passed between two accesses is still seen. */
	wr(f, MR, rd(f, DR) + 5);
	f->now += 100;
	assert_int_equal(rd(f, DR), t + 110);
	assert_true(f->level);
	wr(f, ICR, 1);

	/* Writing RTCMR or RTCLR onto the current count matches at once, as in QEMU. */
	wr(f, MR, rd(f, DR));
	assert_true(f->level);
	wr(f, ICR, 1);
	wr(f, LR, rd(f, MR));
	assert_true(f->level);
	wr(f, ICR, 1);
	assert_false(f->level);
	assert_int_equal(rd(f, DR), rd(f, MR));
}

static void test_mis_is_ris_and_imsc(void **state)
{
	struct fake *f = *state;

	wr(f, MR, rd(f, DR) + 1);
	f->now++;
	assert_int_equal(rd(f, RIS), 1);
	assert_int_equal(rd(f, MIS), 0);
	assert_false(f->level);
	wr(f, IMSC, 1);
	assert_int_equal(rd(f, MIS), 1);
	assert_true(f->level);
	wr(f, IMSC, 0);
	assert_int_equal(rd(f, MIS), 0);
	assert_int_equal(rd(f, RIS), 1);
	assert_false(f->level);
	wr(f, ICR, 1);
	wr(f, IMSC, 1);
	assert_int_equal(rd(f, RIS) | rd(f, MIS), 0);
	assert_false(f->level);
}

static void test_no_spurious_match(void **state)
{
	struct fake *f = *state;
	u32 t = rd(f, DR);

	wr(f, IMSC, 1);
	/* A match behind the counter waits for the wrap, 136 years away. */
	wr(f, MR, t - 1);
	f->now += 1000;
	assert_int_equal(rd(f, RIS), 0);
	/* A host clock stepped back crosses nothing, nor does stepping forward again. */
	wr(f, MR, t + 1000 + 10);
	f->now -= 500;
	assert_int_equal(rd(f, RIS), 0);
	f->now += 500;
	assert_int_equal(rd(f, RIS), 0);
	f->now += 9;
	assert_int_equal(rd(f, RIS), 0);
	f->now += 1;
	assert_int_equal(rd(f, RIS), 1);
	assert_true(f->level);
}

static void test_next_alarm_and_tick(void **state)
{
	struct fake *f = *state;
	u32 t = rd(f, DR);
	u64 at;

	wr(f, MR, t + 30);
	assert_int_equal(pl031_next_alarm(f->rtc), 0); /* masked: no timer needed */
	wr(f, IMSC, 1);
	at = pl031_next_alarm(f->rtc);
	assert_int_equal(at, START + 30);
	f->now = at - 1;
	pl031_tick(f->rtc);
	assert_false(f->level);
	assert_int_equal(pl031_next_alarm(f->rtc), at);
	/* The board's timer fires: the line rises with no guest access. */
	f->now = at;
	pl031_tick(f->rtc);
	assert_true(f->level);
	assert_int_equal(pl031_next_alarm(f->rtc), 0); /* pending */
	wr(f, ICR, 1);
	assert_int_equal(pl031_next_alarm(f->rtc), at + (1ull << 32));
	/* A late timer (or none) still finds the match, as next_alarm itself does. */
	wr(f, MR, rd(f, DR) + 3);
	f->now += 60;
	assert_int_equal(pl031_next_alarm(f->rtc), 0);
	assert_true(f->level);
	/* RTCLR moves the alarm with the counter. */
	wr(f, ICR, 1);
	wr(f, MR, 5000);
	wr(f, LR, 4000);
	assert_int_equal(pl031_next_alarm(f->rtc), f->now + 1000);
}

static void test_reset(void **state)
{
	struct fake *f = *state;

	wr(f, LR, 123456);
	wr(f, IMSC, 1);
	wr(f, MR, 123456 + 2);
	f->now += 2;
	assert_int_equal(rd(f, RIS), 1);
	assert_true(f->level);

	pl031_reset(f->rtc);
	assert_false(f->level);
	assert_int_equal(rd(f, MR), 0);
	assert_int_equal(rd(f, LR), 0);
	assert_int_equal(rd(f, IMSC), 0);
	assert_int_equal(rd(f, RIS), 0);
	assert_int_equal(rd(f, CR), 1);
	/* The time survives a reboot and keeps going. */
	assert_int_equal(rd(f, DR), 123456 + 2);
	f->now += 10;
	assert_int_equal(rd(f, DR), 123456 + 12);
}

static void save_to(struct fake *f, struct snap_buf *sb)
{
	snap_init(sb);
	assert_int_equal(pl031_save(f->rtc, sb), 0);
	assert_int_equal(sb->len, SNAP_HDR + SNAP_BODY);
	sb->pos = 0;
}

/* A load drives the line even at the level it had: not a repeat the model chose. */
static int the_load(struct fake *f, struct snap_buf *sb)
{
	int repeats = f->irq_repeats, calls = f->irq_calls;
	int ret = pl031_load(f->rtc, sb);

	if (ret == 0) {
		assert_int_equal(f->irq_calls, calls + 1);
		f->irq_repeats = repeats;
	} else {
		assert_int_equal(f->irq_calls, calls);
	}
	return ret;
}

static void test_snapshot_round_trip(void **state)
{
	struct fake *f = *state, g = {0};
	u32 guest = 946684800; /* 2000-01-01, far from the host's time */
	struct snap_buf sb;

	wr(f, LR, guest);
	wr(f, MR, guest + 100);
	wr(f, IMSC, 1);
	f->now += 20;
	save_to(f, &sb);

	/* Restored 50 s later on the host: the guest's clock moved on with it, no more. */
	fake_rtc(&g, f->now + 50);
	assert_int_equal(the_load(&g, &sb), 0);
	assert_int_equal(sb.pos, sb.len);
	assert_int_equal(rd(&g, DR), guest + 70);
	assert_int_equal(rd(&g, LR), guest);
	assert_int_equal(rd(&g, MR), guest + 100);
	assert_int_equal(rd(&g, IMSC), 1);
	assert_int_equal(rd(&g, RIS), 0);
	assert_false(g.level);
	assert_int_equal(pl031_next_alarm(g.rtc), g.now + 30);
	g.now += 30;
	pl031_tick(g.rtc);
	assert_true(g.level);
	pl031_free(g.rtc);

	/* Restored a day later: the match passed meanwhile is raised at the load. */
	g = (struct fake){0};
	fake_rtc(&g, f->now + 86400);
	sb.pos = 0;
	assert_int_equal(the_load(&g, &sb), 0);
	assert_true(g.level);
	assert_int_equal(rd(&g, DR), guest + 20 + 86400);
	pl031_free(g.rtc);

	/* On a host whose clock is behind the saved one, nothing has passed. */
	g = (struct fake){0};
	fake_rtc(&g, f->now - 3600);
	sb.pos = 0;
	assert_int_equal(the_load(&g, &sb), 0);
	assert_false(g.level);
	assert_int_equal(rd(&g, DR), guest + 20 - 3600);
	pl031_free(g.rtc);
	snap_free(&sb);
}

static void test_snapshot_keeps_pending(void **state)
{
	struct fake *f = *state, g = {0};
	struct snap_buf sb;

	wr(f, IMSC, 1);
	wr(f, MR, rd(f, DR));
	assert_true(f->level);
	save_to(f, &sb);
	fake_rtc(&g, f->now);
	assert_int_equal(the_load(&g, &sb), 0);
	assert_true(g.level);
	assert_int_equal(rd(&g, MIS), 1);
	wr(&g, ICR, 1);
	assert_false(g.level);
	pl031_free(g.rtc);
	snap_free(&sb);
}

/* Loads src's section, with body byte byte (unless negative) set to value and the tail cut. */
static void expect_load_fails(struct fake *src, int byte, u8 value, size_t truncate)
{
	struct fake g = {0};
	struct snap_buf sb;

	save_to(src, &sb);
	if (byte >= 0)
		sb.data[SNAP_HDR + byte] = value;
	sb.len -= truncate;
	fake_rtc(&g, src->now);
	wr(&g, LR, 77);
	wr(&g, MR, 99);
	assert_int_equal(the_load(&g, &sb), -EINVAL);
	/* A refused snapshot leaves the RTC as it was. */
	assert_int_equal(rd(&g, DR), 77);
	assert_int_equal(rd(&g, MR), 99);
	assert_int_equal(rd(&g, LR), 77);
	assert_int_equal(rd(&g, IMSC), 0);
	assert_false(g.level);
	pl031_free(g.rtc);
	snap_free(&sb);
}

static void test_snapshot_rejects_corruption(void **state)
{
	struct fake *f = *state, g = {0};
	struct snap_buf sb;

	wr(f, LR, 5);
	/* IMSC and RIS, bytes 12-15 and 16-19 of the body, hold one bit each. */
	expect_load_fails(f, 12, 0x02, 0);
	expect_load_fails(f, 15, 0x80, 0);
	expect_load_fails(f, 16, 0x03, 0);
	expect_load_fails(f, 19, 0x01, 0);
	for (size_t cut = 1; cut <= SNAP_HDR + SNAP_BODY; cut++)
		expect_load_fails(f, -1, 0, cut);

	/* Another device's section, or another version of ours. */
	fake_rtc(&g, f->now);
	snap_init(&sb);
	snap_begin_section(&sb, "pl031", 2);
	snap_put(&sb, (u8[SNAP_BODY]){0}, SNAP_BODY);
	assert_int_equal(the_load(&g, &sb), -EINVAL);
	snap_free(&sb);
	snap_begin_section(&sb, "pl011", 1);
	snap_put(&sb, (u8[SNAP_BODY]){0}, SNAP_BODY);
	assert_int_equal(the_load(&g, &sb), -EINVAL);
	snap_free(&sb);
	/* Any counter, match, load value and comparator time is a state the RTC can be in. */
	snap_begin_section(&sb, "pl031", 1);
	snap_put(&sb, (u8[SNAP_BODY]){[0 ... 11] = 0xff, [20 ... 27] = 0xff}, SNAP_BODY);
	assert_int_equal(the_load(&g, &sb), 0);
	assert_int_equal(rd(&g, MR), 0xffffffff);
	snap_free(&sb);
	pl031_free(g.rtc);
}

static void test_hostile_accesses(void **state)
{
	struct fake *f = *state;
	static const u64 offsets[] = {0x1000, 0x1004, 0xfff, 0xffe, 0x10000, 1ull << 40, ~0ull};
	u8 b[8];

	wr(f, LR, 4242);
	/* Wrong widths, misaligned words and narrow writes read zeros and do nothing. */
	for (u32 len = 0; len <= 8; len++) {
		if (len == 4)
			continue;
		memset(b, 0xa5, sizeof(b));
		pl031_mmio(f->rtc, LR, b, len, false);
		for (u32 i = 0; i < len; i++)
			assert_int_equal(b[i], 0);
		if (len < 8)
			assert_int_equal(b[len], 0xa5);
		memset(b, 0xff, sizeof(b));
		pl031_mmio(f->rtc, LR, b, len, true);
		pl031_mmio(f->rtc, IMSC, b, len, true);
		pl031_mmio(f->rtc, MR, b, len, true);
	}
	for (u64 off = 1; off < 4; off++) {
		assert_int_equal(rd(f, LR + off), 0);
		wr(f, LR + off, 0xffffffff);
		wr(f, 0xfe0 + off, 0xffffffff);
		assert_int_equal(rd_n(f, 0xfe0 + off, 4), 0);
	}
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		assert_int_equal(rd_n(f, offsets[i], 4), 0);
		assert_int_equal(rd_n(f, offsets[i], 1), 0);
		wr(f, offsets[i], 0xffffffff);
	}
	assert_int_equal(rd(f, 0xffc), 0xb1); /* the window's last register */
	assert_int_equal(rd(f, LR), 4242);
	assert_int_equal(rd(f, DR), 4242);
	assert_int_equal(rd(f, MR), 0);
	assert_int_equal(rd(f, IMSC), 0);
	assert_false(f->level);

	/* Random traffic and a wandering host clock: the line is always MIS. */
	srand(1);
	for (int i = 0; i < 200000; i++) {
		u32 len = (u32)(rand() % 9), mis;
		u64 off = (u64)(rand() % 0x1010);

		for (size_t j = 0; j < sizeof(b); j++)
			b[j] = (u8)rand();
		if (rand() % 8 == 0)
			f->now += (u64)(rand() % 7) - 2;
		if (rand() % 2)
			off &= 0x1c;
		pl031_mmio(f->rtc, off, b, len, rand() % 2);
		if (rand() % 64 == 0)
			pl031_tick(f->rtc);
		assert_int_equal(rd(f, CR), 1);
		mis = rd(f, MIS);
		assert_int_equal(f->level, mis);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_id_registers),
		T(test_power_on_state),
		T(test_counter_follows_clock),
		T(test_load_sets_counter),
		T(test_match_interrupt),
		T(test_mis_is_ris_and_imsc),
		T(test_no_spurious_match),
		T(test_next_alarm_and_tick),
		T(test_reset),
		T(test_snapshot_round_trip),
		T(test_snapshot_keeps_pending),
		T(test_snapshot_rejects_corruption),
		T(test_hostile_accesses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
