// SPDX-License-Identifier: GPL-2.0-only
/*
 * Token buckets for the devices' rate limiters (see token_bucket.h). The arithmetic is
 * done in 128 bits: sizes and refill times come from the API as any 64-bit value, and
 * elapsed time times size would overflow 64 bits within seconds for a large bucket.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/timerfd.h>
#include <time.h>

#include "token_bucket.h"

typedef unsigned __int128 u128;

static u128 refill_ns(const struct tb_config *c)
{
	return (u128)c->refill_ms * 1000000u;
}

/*
 * ceil(a * b / c), saturating at 2^127. a * b overflows 128 bits only when a is a debt
 * near 2^65 and b a refill time of centuries: then the quotient is at least 2^64
 * (c < 2^64), far past any wait the caller reports (TB_MAX_WAIT_NS).
 */
static u128 mul_div_ceil(u128 a, u128 b, u64 c)
{
	u128 p, q;

	if (a && b > ~(u128)0 / a)
		return (u128)1 << 127;
	p = a * b;
	q = p / c + (p % c != 0);
	return MIN(q, (u128)1 << 127);
}

void tb_init(struct token_bucket *tb, const struct tb_config *cfg, u64 now_ns)
{
	tb->cfg = *cfg;
	tb->budget = cfg->size;
	tb->burst = cfg->one_time_burst;
	tb->debt = 0;
	tb->last_ns = now_ns;
	tb->waiting = false;
}

/* What the bucket may hold now: size, or more while a request waits (TB_LATE_MS). */
static u128 tb_cap(const struct token_bucket *tb)
{
	u128 cap = tb->cfg.size;

	if (tb->waiting)
		cap += ((u128)tb->cfg.size * TB_LATE_MS + tb->cfg.refill_ms - 1) /
		       tb->cfg.refill_ms;
	return MIN(cap, (u128)UINT64_MAX);
}

/*
 * Adds the tokens earned since last_ns: the debt is paid first, then the bucket fills
 * up to its cap (tb_cap()). last_ns moves on by the time those whole tokens took, so the
 * fraction of a token earned so far is not lost (a slow refill still makes progress).
 * A budget above the cap (credit left from a late wake-up) earns nothing more.
 */
static void tb_refill(struct token_bucket *tb, u64 now_ns)
{
	const u128 period = refill_ns(&tb->cfg), cap = tb_cap(tb);
	u128 tokens, room;
	u64 pay;

	if (now_ns <= tb->last_ns)
		return; /* a clock that did not move (or a caller's stale now) adds nothing */
	tokens = (u128)(now_ns - tb->last_ns) * tb->cfg.size / period;
	if (!tokens)
		return;
	room = (u128)tb->debt + (cap > tb->budget ? cap - tb->budget : 0);
	if (tokens >= room) {
		tb->debt = 0;
		tb->budget = (u64)MAX(cap, (u128)tb->budget);
		tb->last_ns = now_ns; /* full: time spent full earns nothing */
		return;
	}
	/* tokens * period <= elapsed * size < 2^128: no overflow here. */
	tb->last_ns += (u64)(tokens * period / tb->cfg.size);
	pay = (u64)MIN(tokens, (u128)tb->debt);
	tb->debt -= pay;
	tb->budget += (u64)(tokens - pay);
}

u64 tb_wait_ns(struct token_bucket *tb, u64 n, u64 now_ns)
{
	u128 need, target, deficit, t, waited;

	if (!tb_active(&tb->cfg) || n <= tb->burst)
		return 0;
	need = n - tb->burst;
	tb_refill(tb, now_ns);
	/* More than size is allowed from a full bucket only: it cannot hold more. */
	target = MIN(need, (u128)tb->cfg.size);
	if (!tb->debt && tb->budget >= target)
		return 0;
	deficit = (u128)tb->debt + target - tb->budget;
	t = mul_div_ceil(deficit, refill_ns(&tb->cfg), tb->cfg.size);
	waited = now_ns > tb->last_ns ? now_ns - tb->last_ns : 0;
	tb->waiting = true;
	if (t <= waited)
		return 1; /* rounding: the token is due now */
	t -= waited;
	return t > TB_MAX_WAIT_NS ? TB_MAX_WAIT_NS : (u64)t;
}

void tb_take(struct token_bucket *tb, u64 n, u64 now_ns)
{
	u64 from_burst;

	if (!tb_active(&tb->cfg))
		return;
	from_burst = MIN(n, tb->burst);
	tb->burst -= from_burst;
	n -= from_burst;
	if (!n)
		return;
	tb_refill(tb, now_ns);
	tb->waiting = false;
	/* More than the bucket holds (a large request from a full one): the rest is owed. */
	if (n > tb->budget) {
		tb->debt = n - tb->budget;
		tb->budget = 0;
	} else {
		tb->budget -= n;
	}
}

void rate_limiter_init(struct rate_limiter *rl, const struct rl_config *cfg)
{
	u64 now = rate_limiter_now();

	pthread_mutex_init(&rl->lock, NULL);
	tb_init(&rl->bw, &cfg->bw, now);
	tb_init(&rl->ops, &cfg->ops, now);
	rl->timer_fd = -1;
}

void rate_limiter_destroy(struct rate_limiter *rl)
{
	pthread_mutex_destroy(&rl->lock);
}

bool rate_limiter_active(struct rate_limiter *rl)
{
	bool on;

	pthread_mutex_lock(&rl->lock);
	on = tb_active(&rl->bw.cfg) || tb_active(&rl->ops.cfg);
	pthread_mutex_unlock(&rl->lock);
	return on;
}

void rate_limiter_set(struct rate_limiter *rl, const struct rl_config *cfg, u64 now_ns)
{
	pthread_mutex_lock(&rl->lock);
	tb_init(&rl->bw, &cfg->bw, now_ns);
	tb_init(&rl->ops, &cfg->ops, now_ns);
	/* A throttled worker sleeps on its timer: let it look at the new buckets now. */
	if (rl->timer_fd >= 0)
		rate_limiter_arm(rl->timer_fd, 1);
	pthread_mutex_unlock(&rl->lock);
}

void rate_limiter_get(struct rate_limiter *rl, struct rl_config *cfg)
{
	pthread_mutex_lock(&rl->lock);
	cfg->bw = rl->bw.cfg;
	cfg->ops = rl->ops.cfg;
	pthread_mutex_unlock(&rl->lock);
}

u64 rate_limiter_consume(struct rate_limiter *rl, u64 bytes, u64 now_ns)
{
	u64 w_ops, w_bw;

	pthread_mutex_lock(&rl->lock);
	/* Both or neither: a request held back must not pay one bucket twice. */
	w_ops = tb_wait_ns(&rl->ops, 1, now_ns);
	w_bw = tb_wait_ns(&rl->bw, bytes, now_ns);
	if (!w_ops && !w_bw) {
		tb_take(&rl->ops, 1, now_ns);
		tb_take(&rl->bw, bytes, now_ns);
	} else if (rl->timer_fd >= 0) {
		/*
		 * Armed under the lock: a rate_limiter_set() racing with this cannot have its
		 * immediate wake-up overwritten by a wait computed from the old buckets.
		 */
		rate_limiter_arm(rl->timer_fd, MAX(w_ops, w_bw));
	}
	pthread_mutex_unlock(&rl->lock);
	return MAX(w_ops, w_bw);
}

void rate_limiter_set_timer(struct rate_limiter *rl, int fd)
{
	pthread_mutex_lock(&rl->lock);
	rl->timer_fd = fd;
	pthread_mutex_unlock(&rl->lock);
}

int rate_limiter_arm(int fd, u64 ns)
{
	struct itimerspec its = {0};

	ns = MAX(ns, 1ULL);
	its.it_value.tv_sec = (time_t)(ns / 1000000000ULL);
	its.it_value.tv_nsec = (long)(ns % 1000000000ULL);
	return timerfd_settime(fd, 0, &its, NULL) ? -errno : 0;
}

u64 rate_limiter_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

/* One decimal u64 at *s (digits only, no overflow); advances *s. */
static int parse_u64(const char **s, const char *end, u64 *out)
{
	const char *p = *s;
	u64 v = 0;

	if (p == end || *p < '0' || *p > '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (u64)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (u64)(*p - '0');
	}
	*s = p;
	*out = v;
	return 0;
}

int tb_parse(const char *s, size_t len, struct tb_config *c)
{
	const char *end = s + len;

	*c = (struct tb_config){0};
	if (parse_u64(&s, end, &c->size) || s == end || *s++ != ':' ||
	    parse_u64(&s, end, &c->refill_ms))
		return -1;
	if (s != end && (*s++ != ':' || parse_u64(&s, end, &c->one_time_burst)))
		return -1;
	return s == end ? 0 : -1;
}

int tb_format(const struct tb_config *c, char *buf, size_t size)
{
	if (!tb_active(c))
		return snprintf(buf, size, "%s", "");
	return snprintf(buf, size, "%llu:%llu:%llu", (unsigned long long)c->size,
			(unsigned long long)c->refill_ms, (unsigned long long)c->one_time_burst);
}
