/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_UTIL_TOKEN_BUCKET_H
#define KVMBOX_UTIL_TOKEN_BUCKET_H

#include <pthread.h>

#include "types.h"

/*
 * Token buckets with Firecracker's semantics (its API's TokenBucket): a bucket holds up
 * to size tokens and refills at size tokens per refill_ms; one_time_burst tokens are
 * spent first and never come back. A request for more than size tokens is let through
 * when the bucket is full and leaves a debt that refilling pays off first, so a large
 * request is slowed, never starved. A bucket with size 0 or refill_ms 0 limits nothing.
 *
 * The clock is the caller's (now_ns, monotonic): tests drive time themselves.
 */
struct tb_config {
	u64 size;
	u64 one_time_burst;
	u64 refill_ms;
};

struct token_bucket {
	struct tb_config cfg;
	u64 budget; /* tokens in the bucket, at most cfg.size (more: TB_LATE_MS) */
	u64 burst;  /* what is left of one_time_burst */
	u64 debt;   /* tokens owed by a request larger than size; budget is 0 meanwhile */
	u64 last_ns;
	bool waiting; /* a request was told to wait and has not been taken since */
};

/*
 * While a request waits, the bucket may fill past size by up to TB_LATE_MS of its rate:
 * a worker that wakes up late (timer slack, a busy host) then loses none of the tokens
 * earned meanwhile. Without it, a small bucket capped the rate at size per wake-up:
 * 54% of a 512 KiB/s limit with a 4 KiB bucket and wake-ups 10 ms late. Nobody waiting,
 * the bucket holds size at most, as Firecracker's does.
 */
#define TB_LATE_MS 100

/* The longest wait tb_wait_ns() reports: past that, nobody is waiting on a timer. */
#define TB_MAX_WAIT_NS (1ULL << 62)

static inline bool tb_active(const struct tb_config *c)
{
	return c->size && c->refill_ms;
}

/* A full bucket with its burst, as at creation. */
void tb_init(struct token_bucket *tb, const struct tb_config *cfg, u64 now_ns);
/*
 * 0 when n tokens can be taken at now_ns, else the nanoseconds until they can (the
 * bucket then counts a request as waiting until the next tb_take()).
 */
u64 tb_wait_ns(struct token_bucket *tb, u64 n, u64 now_ns);
/* Takes n tokens; call it only when tb_wait_ns() said 0 at the same now_ns. */
void tb_take(struct token_bucket *tb, u64 n, u64 now_ns);

/*
 * A device's limiter: a bandwidth bucket (bytes) and an ops bucket (requests), either
 * inactive. The worker charges it; the control thread replaces the buckets at run time
 * (rate_limiter_set) and the worker's timer is armed to look again at once.
 */
struct rl_config {
	struct tb_config bw, ops;
};

struct rate_limiter {
	pthread_mutex_t lock;
	struct token_bucket bw, ops;
	int timer_fd; /* the worker's timerfd while it runs, else -1 */
};

void rate_limiter_init(struct rate_limiter *rl, const struct rl_config *cfg);
void rate_limiter_destroy(struct rate_limiter *rl);
/* Whether any bucket limits (so a worker needs its timer). */
bool rate_limiter_active(struct rate_limiter *rl);
/* Replaces the buckets (full again) and wakes the worker's timer. */
void rate_limiter_set(struct rate_limiter *rl, const struct rl_config *cfg, u64 now_ns);
/* The current configuration. */
void rate_limiter_get(struct rate_limiter *rl, struct rl_config *cfg);
/*
 * Charges one request of bytes: 0 and both buckets charged, or the nanoseconds until it
 * would pass (nothing charged; the attached timer is armed for then).
 */
u64 rate_limiter_consume(struct rate_limiter *rl, u64 bytes, u64 now_ns);
/* Attaches (fd >= 0) or detaches (-1) the worker's timerfd. */
void rate_limiter_set_timer(struct rate_limiter *rl, int fd);
/* Arms fd to fire in ns nanoseconds (at least 1). */
int rate_limiter_arm(int fd, u64 ns);
/*
 * The command line's form of a bucket, SIZE:REFILL_MS[:BURST] (decimal), as --disk
 * bw=/ops= and --net rx-bw=... take it: 0, or -1 for anything else.
 */
int tb_parse(const char *s, size_t len, struct tb_config *c);
/* Writes c in that form into buf ("" when c is inactive); returns the length. */
int tb_format(const struct tb_config *c, char *buf, size_t size);
/* The monotonic clock the devices charge with. */
u64 rate_limiter_now(void);

#endif
