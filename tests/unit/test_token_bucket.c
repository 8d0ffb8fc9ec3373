// SPDX-License-Identifier: GPL-2.0-only
/*
 * Token buckets (src/util/token_bucket.c) against a clock the test moves: refill rate,
 * one-time burst, requests larger than the bucket (let through when full, paid back
 * before the next), the two-bucket limiter charging both or neither, and 64-bit
 * extremes that would overflow naive arithmetic.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "util/token_bucket.h"

#define MS 1000000ULL
#define T0 (1000 * MS) /* the fake clock's start: not 0, so the stale-now case means something */

static void test_refill_rate(void **state)
{
	struct tb_config c = {.size = 1000, .refill_ms = 100};
	struct token_bucket tb;

	(void)state;
	tb_init(&tb, &c, T0);
	assert_int_equal(tb_wait_ns(&tb, 1000, T0), 0);
	tb_take(&tb, 1000, T0);
	/* Empty: 100 tokens take 10 ms to come back. */
	assert_int_equal(tb_wait_ns(&tb, 100, T0), 10 * MS);
	assert_int_equal(tb_wait_ns(&tb, 100, T0 + 4 * MS), 6 * MS);
	assert_int_equal(tb_wait_ns(&tb, 100, T0 + 10 * MS), 0);
	tb_take(&tb, 100, T0 + 10 * MS);
	/* Never more than size, however long the wait. */
	assert_int_equal(tb_wait_ns(&tb, 1000, T0 + 10000 * MS), 0);
	tb_take(&tb, 1000, T0 + 10000 * MS);
	assert_true(tb_wait_ns(&tb, 1, T0 + 10000 * MS) > 0);
}

/* Many small refills add up to the rate: the fractions of a token are not lost. */
static void test_fractions_accumulate(void **state)
{
	struct tb_config c = {.size = 3, .refill_ms = 1000}; /* one token per 333.3 ms */
	struct token_bucket tb;
	u64 now = T0, taken = 0;

	(void)state;
	tb_init(&tb, &c, now);
	tb_take(&tb, 3, now);
	for (int i = 0; i < 3000; i++) {
		now += MS; /* 3 s in 1 ms steps */
		if (!tb_wait_ns(&tb, 1, now)) {
			tb_take(&tb, 1, now);
			taken++;
		}
	}
	assert_int_equal(taken, 9);
}

static void test_one_time_burst(void **state)
{
	struct tb_config c = {.size = 100, .one_time_burst = 500, .refill_ms = 1000};
	struct token_bucket tb;

	(void)state;
	tb_init(&tb, &c, T0);
	/* The burst goes first, then the bucket; the burst never comes back. */
	tb_take(&tb, 450, T0);
	assert_int_equal(tb_wait_ns(&tb, 150, T0), 0); /* 50 of the burst + 100 */
	tb_take(&tb, 150, T0);
	assert_int_equal(tb_wait_ns(&tb, 1, T0), 10 * MS);
	assert_int_equal(tb_wait_ns(&tb, 100, T0 + 1000 * MS), 0);
	tb_take(&tb, 100, T0 + 1000 * MS);
	assert_int_equal(tb_wait_ns(&tb, 1, T0 + 1000 * MS), 10 * MS);
}

/* A request larger than size waits for a full bucket, passes, and is paid back. */
static void test_oversized_request(void **state)
{
	struct tb_config c = {.size = 100, .refill_ms = 100};
	struct token_bucket tb;

	(void)state;
	tb_init(&tb, &c, T0);
	tb_take(&tb, 50, T0);
	/* Not full: waits until it is (50 tokens, 50 ms), not forever. */
	assert_int_equal(tb_wait_ns(&tb, 250, T0), 50 * MS);
	assert_int_equal(tb_wait_ns(&tb, 250, T0 + 50 * MS), 0);
	tb_take(&tb, 250, T0 + 50 * MS);
	/* 150 owed, then 1 more: 151 tokens, 151 ms. */
	assert_int_equal(tb_wait_ns(&tb, 1, T0 + 50 * MS), 151 * MS);
	assert_int_equal(tb_wait_ns(&tb, 1, T0 + 150 * MS), 51 * MS);
	assert_int_equal(tb_wait_ns(&tb, 1, T0 + 201 * MS), 0);
}

/*
 * sim_rate: a worker that sends FRAME-sized requests as fast as the bucket allows but
 * wakes LATE_MS after each wait it was told (a loaded host's timer and scheduling
 * latency); the rate it gets over 10 s, in bytes per second.
 */
static double sim_rate(const struct tb_config *c, u64 frame, u64 late_ms)
{
	struct token_bucket tb;
	u64 now = T0, sent = 0, w;

	tb_init(&tb, c, now);
	while (now - T0 < 10000 * MS) {
		w = tb_wait_ns(&tb, frame, now);
		if (w) {
			now += w + late_ms * MS;
			continue;
		}
		tb_take(&tb, frame, now);
		sent += frame;
	}
	return (double)sent * 1e9 / (double)(now - T0);
}

/*
 * A worker that wakes late must not lose the tokens earned while its request waited:
 * with a bucket of 8 ms (4 KiB at 512 KiB/s) and wake-ups 10 ms late, a bucket that
 * stops filling at its size while a request waits gave 54% of the rate (the mechanism
 * that fits an earlier lab run's 88 KiB/s under a 512 KiB/s tx limit), 93% with TSO
 * frames larger than the bucket. The rate must hold within 5%, and with nothing waiting
 * the bucket still holds no more than its size.
 */
static void test_late_worker_keeps_rate(void **state)
{
	const struct tb_config small = {.size = 4096, .refill_ms = 8}; /* 512000 B/s */
	const struct tb_config big = {.size = 65536, .refill_ms = 125};
	struct token_bucket tb;
	double r;

	(void)state;
	r = sim_rate(&small, 1514, 10);
	assert_true(r > 0.95 * 512000 && r < 1.05 * 512000);
	r = sim_rate(&small, 65226, 10); /* TSO frames, larger than the bucket */
	assert_true(r > 0.95 * 512000 && r < 1.05 * 512000);
	r = sim_rate(&big, 1514, 30);
	assert_true(r > 0.95 * 524288 && r < 1.05 * 524288);
	/* Idle for a long time, nobody waiting: one bucket, not more. */
	tb_init(&tb, &small, T0);
	tb_take(&tb, 4096, T0);
	assert_int_equal(tb_wait_ns(&tb, 4096, T0 + 60000 * MS), 0);
	tb_take(&tb, 4096, T0 + 60000 * MS);
	assert_true(tb_wait_ns(&tb, 1, T0 + 60000 * MS) > 0);
}

static void test_inactive(void **state)
{
	struct tb_config none = {0}, no_refill = {.size = 10};
	struct token_bucket tb;

	(void)state;
	tb_init(&tb, &none, T0);
	assert_int_equal(tb_wait_ns(&tb, UINT64_MAX, T0), 0);
	tb_take(&tb, UINT64_MAX, T0);
	assert_int_equal(tb_wait_ns(&tb, UINT64_MAX, T0), 0);
	tb_init(&tb, &no_refill, T0);
	tb_take(&tb, 1000, T0);
	assert_int_equal(tb_wait_ns(&tb, 1000, T0), 0);
}

/* 64-bit extremes: results stay sane where elapsed * size or deficit * period overflow. */
static void test_overflow_safe(void **state)
{
	struct tb_config huge = {.size = UINT64_MAX, .refill_ms = UINT64_MAX};
	struct tb_config fast = {.size = UINT64_MAX, .refill_ms = 1};
	struct tb_config slow = {.size = 1, .refill_ms = UINT64_MAX};
	struct token_bucket tb;
	u64 w;

	(void)state;
	tb_init(&tb, &fast, T0);
	tb_take(&tb, UINT64_MAX, T0);
	/* Half a millisecond at 2^64 tokens per ms: half the bucket back. */
	assert_int_equal(tb_wait_ns(&tb, UINT64_MAX / 2, T0 + MS / 2), 0);
	tb_take(&tb, UINT64_MAX / 2, T0 + MS / 2);
	/* A full bucket again takes the whole millisecond (less a nanosecond of rounding). */
	w = tb_wait_ns(&tb, UINT64_MAX, T0 + MS / 2);
	assert_true(w >= MS - 2 && w <= MS);

	tb_init(&tb, &huge, T0);
	tb_take(&tb, UINT64_MAX, T0);
	/* One token per ms, but a full bucket is 2^64 ms away: capped, not wrapped. */
	assert_int_equal(tb_wait_ns(&tb, 1, T0), MS);
	assert_int_equal(tb_wait_ns(&tb, UINT64_MAX, T0), TB_MAX_WAIT_NS);
	assert_int_equal(tb_wait_ns(&tb, UINT64_MAX, UINT64_MAX), TB_MAX_WAIT_NS);

	tb_init(&tb, &slow, T0);
	tb_take(&tb, 1, T0);
	w = tb_wait_ns(&tb, 1, UINT64_MAX);
	assert_int_equal(w, TB_MAX_WAIT_NS);

	/* A debt near 2^64 on a small bucket. */
	tb_init(&tb, &(struct tb_config){.size = 2, .refill_ms = 1}, T0);
	tb_take(&tb, UINT64_MAX, T0);
	assert_int_equal(tb_wait_ns(&tb, 1, T0), TB_MAX_WAIT_NS);
	/* A clock that goes backwards adds nothing and breaks nothing. */
	assert_int_equal(tb_wait_ns(&tb, 1, 0), TB_MAX_WAIT_NS);
}

static void test_limiter_both_or_neither(void **state)
{
	struct rl_config c = {
		.bw = {.size = 1000, .refill_ms = 1000},
		.ops = {.size = 10, .refill_ms = 1000},
	};
	struct rate_limiter rl;

	(void)state;
	rate_limiter_init(&rl, &c);
	rate_limiter_set(&rl, &c, T0);
	assert_true(rate_limiter_active(&rl));
	assert_int_equal(rate_limiter_consume(&rl, 900, T0), 0);
	/* The bytes are short: the op must not be charged either. */
	assert_int_equal(rate_limiter_consume(&rl, 200, T0), 100 * MS);
	for (int i = 0; i < 9; i++)
		assert_int_equal(rate_limiter_consume(&rl, 0, T0), 0);
	/* Ops ran out (10 charged): the next op is 100 ms away. */
	assert_int_equal(rate_limiter_consume(&rl, 0, T0), 100 * MS);
	/* Replaced by buckets that limit nothing. */
	rate_limiter_set(&rl, &(struct rl_config){0}, T0);
	assert_false(rate_limiter_active(&rl));
	assert_int_equal(rate_limiter_consume(&rl, UINT64_MAX, T0), 0);
	rate_limiter_destroy(&rl);
}

/* A PATCH wakes a throttled worker: its timer fires at once. */
static void test_set_arms_timer(void **state)
{
	struct rl_config c = {.ops = {.size = 1, .refill_ms = 100000}};
	struct rate_limiter rl;
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	u64 ticks = 0;

	(void)state;
	assert_true(fd >= 0);
	rate_limiter_init(&rl, &c);
	rate_limiter_set_timer(&rl, fd);
	assert_int_equal(rate_limiter_arm(fd, TB_MAX_WAIT_NS), 0);
	rate_limiter_set(&rl, &(struct rl_config){0}, rate_limiter_now());
	usleep(2000);
	assert_int_equal(read(fd, &ticks, sizeof(ticks)), sizeof(ticks));
	assert_int_equal(ticks, 1);
	rate_limiter_set_timer(&rl, -1);
	rate_limiter_destroy(&rl);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refill_rate),
		cmocka_unit_test(test_fractions_accumulate),
		cmocka_unit_test(test_one_time_burst),
		cmocka_unit_test(test_oversized_request),
		cmocka_unit_test(test_late_worker_keeps_rate),
		cmocka_unit_test(test_inactive),
		cmocka_unit_test(test_overflow_safe),
		cmocka_unit_test(test_limiter_both_or_neither),
		cmocka_unit_test(test_set_arms_timer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
